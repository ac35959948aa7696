"""The scores file, in one place: its Arrow schema, writing it, reading it and its metadata."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    REASONS,
    RISK,
    TARGET_YEAR,
    VILLAGE,
)
from earlywarn.data.storage import (
    atomic_path,
)
from earlywarn.scoring.score import (
    NEWLY_FLAGGED,
    PREVIOUS_AS_OF,
    PREVIOUS_RISK,
    RANK_IN_VILLAGE,
    RISK_DOUBLED,
)

log = logging.getLogger(__name__)


def _scores_schema(with_history: bool) -> pa.Schema:
    reason = pa.struct(
        [("code", pa.string()), ("text", pa.string()), ("contribution", pa.float64())]
    )
    fields = [
        (HOUSEHOLD_ID, pa.string()),
        (AS_OF, pa.timestamp("ms")),
        (TARGET_YEAR, pa.int64()),
        (COUNTY, pa.string()),
        (VILLAGE, pa.string()),
        (RISK, pa.float64()),
        (RANK_IN_VILLAGE, pa.int64()),
        (FLAGGED, pa.bool_()),
        (REASONS, pa.list_(reason)),
        (MODEL_VERSION, pa.string()),
    ]
    if with_history:
        fields += [
            (PREVIOUS_AS_OF, pa.timestamp("ms")),
            (PREVIOUS_RISK, pa.float64()),
            (NEWLY_FLAGGED, pa.bool_()),
            (RISK_DOUBLED, pa.bool_()),
        ]
    return pa.schema(fields)


def write_scores_parquet(scores: pd.DataFrame, target: Path, *, metadata: dict[str, str]) -> None:
    """Write a scores frame as Parquet, byte for byte the same for the same content.

    Fixed schema, no pandas index, no timestamps: ``metadata`` (model version, config hash,
    input fingerprints) goes into the file's key-value metadata and must be deterministic.
    """
    with_history = PREVIOUS_RISK in scores.columns
    schema = _scores_schema(with_history)
    table = pa.Table.from_pandas(scores.loc[:, schema.names], schema=schema, preserve_index=False)
    kv = {key.encode(): value.encode() for key, value in sorted(metadata.items())}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **kv})
    with atomic_path(Path(target)) as staged:
        pq.write_table(
            table,
            staged,
            compression="zstd",
            row_group_size=1_000_000,
            use_dictionary=[COUNTY, VILLAGE, MODEL_VERSION],
        )


def read_scores(scores_path: Path) -> pd.DataFrame:
    """A scores file (Parquet) with the data contract's columns and values, its rows carrying
    the as_of and model version its metadata records, else a SchemaError."""
    from earlywarn.errors import SchemaError
    from earlywarn.explain.report import check_scores

    scores_path = Path(scores_path)
    if not scores_path.exists():
        raise SchemaError(f"scores file {scores_path} does not exist")
    if not scores_path.is_file():
        raise SchemaError(f"scores file {scores_path} is a folder, not a Parquet file")
    try:
        scores = pd.read_parquet(scores_path)
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, ValueError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    recorded = {
        column: kv[key].decode("utf-8", errors="replace")
        for column, key in (
            (AS_OF, b"earlywarn.as_of"),
            (MODEL_VERSION, b"earlywarn.model_version"),
        )
        if key in kv
    }
    check_scores(scores, f"the scores file {scores_path}", recorded=recorded)
    return scores


def _recorded_date(text: str, scores_path: Path) -> pd.Timestamp:
    """The as_of a scores file records, else a SchemaError (the file was edited)."""
    from earlywarn.errors import SchemaError

    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError, OverflowError) as err:
        raise SchemaError(
            f"scores file {scores_path} records as_of {text!r}, which is not a date "
            "(YYYY-MM-DD): the file was not written by earlywarn score as it is now"
        ) from err


def read_scores_metadata(scores_path: Path) -> dict[str, Any]:
    """What a scores file records about its inputs: the Parquet key-value metadata, completed
    by ``<scores>.meta.json`` when it is there (data dir, model URI, explain, lang)."""
    from earlywarn.errors import SchemaError

    scores_path = Path(scores_path)
    try:
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    meta = {k.decode(): v.decode() for k, v in kv.items() if k.startswith(b"earlywarn.")}
    if "earlywarn.input_fingerprints" not in meta:
        raise SchemaError(
            f"scores file {scores_path} records no input fingerprints: it was "
            "not written by earlywarn score, or by a version before the audit "
            "trail"
        )
    try:
        fingerprints = json.loads(meta["earlywarn.input_fingerprints"])
    except json.JSONDecodeError as err:
        fingerprints = err
    if not isinstance(fingerprints, dict):
        raise SchemaError(
            f"scores file {scores_path}: its recorded input fingerprints are not readable "
            "(not a JSON object of file name -> sha256); the file was edited"
        )
    meta["earlywarn.input_fingerprints"] = fingerprints
    if "earlywarn.as_of" not in meta:
        raise SchemaError(f"scores file {scores_path} records no as_of date; the file was edited")
    _recorded_date(meta["earlywarn.as_of"], scores_path)
    sidecar = scores_path.with_name(scores_path.name + ".meta.json")
    if sidecar.is_file():
        try:
            extra = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            extra = err
        if not isinstance(extra, dict):
            raise SchemaError(
                f"{sidecar} is not readable (not a JSON object); remove it and pass --data "
                "and --model, or restore it"
            )
        for key in ("data_dir", "model_uri", "explain", "lang"):
            if key in extra:
                meta.setdefault(key, extra[key])
    return meta
