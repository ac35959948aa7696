"""Where a model came from, as MLflow shows it: the earlywarn version and git commit that
trained it, the input tables as run inputs (name, fingerprint and columns, never rows), and
the descriptions of the registered model and its versions."""

from __future__ import annotations

import json
import logging
import subprocess
import warnings
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.meta_dataset import MetaDataset
from mlflow.types.schema import ColSpec, DataType, Schema, TensorSpec

from earlywarn.tracking.names import sanitize_name

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/earlywarn (or site-packages/earlywarn)
GIT_TIMEOUT_SECONDS = 5.0
DIGEST_LENGTH = 32  # MLflow's stores keep at most 36 characters of a dataset digest
REGISTERED_MODEL_DESCRIPTION = (
    "earlywarn risk model: for each household (one row of earlywarn's features as of a date), "
    "the calibrated probability of being poor in that year, in a column `risk`. Every "
    "feature column of the signature is required; other columns are ignored. Loading and "
    "serving need only the packages of the model's requirements.txt (mlflow, lightgbm, "
    "pandas, numpy), not earlywarn. Each version's description summarises its model card; "
    "the alias `champion` is the version that beat the current rule on its test year."
)


def earlywarn_version() -> str:
    """The installed earlywarn's version (``unknown`` when it is not installed)."""
    try:
        return metadata.version("earlywarn")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def git_commit() -> tuple[str, bool] | None:
    """(commit, whether tracked files differ from it) of the earlywarn source that is running:
    from the checkout it lives in, else from a ``pip install git+...`` record; None if
    unknown."""
    try:
        head = subprocess.run(
            ["git", "-C", str(PACKAGE_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(PACKAGE_DIR), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=True,
        ).stdout.strip()
        if head:
            return head, bool(status)
    except (OSError, subprocess.SubprocessError):
        pass
    return _installed_commit()


def _installed_commit() -> tuple[str, bool] | None:
    try:
        record = metadata.distribution("earlywarn").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    commit = json.loads(record or "{}").get("vcs_info", {}).get("commit_id")
    return (str(commit), False) if commit else None


def provenance_tags(table_fingerprints: Mapping[str, str]) -> dict[str, str]:
    """Tags for a run and its model version: earlywarn version, git commit (when known, with
    ``earlywarn.git_dirty`` when the checkout had changes) and each table's fingerprint."""
    tags = {"earlywarn.version": earlywarn_version()}
    commit = git_commit()
    if commit is not None:
        tags["earlywarn.git_commit"] = commit[0]
        tags["earlywarn.git_dirty"] = str(commit[1]).lower()
    tags.update(
        {f"earlywarn.fingerprint.{sanitize_name(t)}": str(h) for t, h in table_fingerprints.items()}
    )
    return tags


def log_table_inputs(
    table_columns: Mapping[str, pd.DataFrame],
    table_fingerprints: Mapping[str, str],
    data_source: str | None,
) -> None:
    """Log each input table as a run input (context ``training``): its name, fingerprint
    (the digest, shortened as the store requires; in full as the input's tag) and columns
    with their types. ``table_columns`` holds frames whose rows are never read; a table with
    no columns (an optional table a ``Tables`` built in code left out) is not an input."""
    source: DatasetSource = CodeDatasetSource(tags={"earlywarn": "tables passed in memory"})
    if data_source is not None:
        with warnings.catch_warnings():  # two local sources claim a path; both are "local"
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(data_source)
    for table, frame in table_columns.items():
        if frame.columns.empty:
            continue
        fingerprint = str(table_fingerprints.get(table, ""))
        dataset = MetaDataset(  # type: ignore[abstract]  # Dataset is not an ABC
            source,
            name=table,
            digest=fingerprint[:DIGEST_LENGTH] or None,
            schema=_columns_schema(frame),
        )
        mlflow.log_input(dataset, context="training", tags={"earlywarn.fingerprint": fingerprint})


def _columns_schema(frame: pd.DataFrame) -> Schema:
    """The columns of ``frame`` as an MLflow schema (types from the dtypes; text otherwise)."""
    specs: list[ColSpec | TensorSpec] = []
    for name, dtype in frame.dtypes.items():
        kind = getattr(dtype, "kind", "O")
        data_type = {
            "f": DataType.double,
            "i": DataType.long,
            "u": DataType.long,
            "b": DataType.boolean,
            "M": DataType.datetime,
        }.get(kind, DataType.string)
        specs.append(ColSpec(data_type, str(name)))
    return Schema(specs)
