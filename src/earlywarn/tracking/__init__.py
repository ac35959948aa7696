"""MLflow: log a training run, register its model, promote it, and load models back.

This is the one module that imports mlflow (besides :mod:`earlywarn.tracking.pyfunc`, the code
file MLflow runs to rebuild the pyfunc wrapper). The tracking store is ``sqlite:///mlflow.db``
in the working directory unless ``MLFLOW_TRACKING_URI`` says otherwise; artifacts of an
experiment earlywarn creates on SQLite go to ``mlartifacts/`` beside the database.

A run records the resolved config, a fingerprint of each input table, the feature catalog,
the tuning history, parameters, metrics and plots; the model is logged as a pyfunc "from
code" whose ``risk_model`` artifact is the booster in LightGBM's text format plus its JSON
sidecar (nothing pickled), then registered with the alias ``candidate``. Registration comes
last: if anything fails, the new version is deleted and the run is marked FAILED.

:func:`resolve_model` downloads only files and reads them with
:func:`~earlywarn.model.model_file.load_model`
(hash-checked); it never runs or unpickles code from the artifact store.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import mlflow
import pandas as pd
import yaml
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import ColSpec, Schema, TensorSpec
from pydantic import BaseModel

from earlywarn.data.columns import PERSONAL_COLUMNS
from earlywarn.errors import (
    EarlywarnError,
    ModelError,
    PersonalDataError,
    PromotionRefused,
    TrackingError,
)
from earlywarn.model.model_file import BOOSTER_FILE, SIDECAR_FILE, RiskModel, load_model

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACTS_DIR_NAME = "mlartifacts"
MODEL_NAME = "model"
RISK_MODEL_ARTIFACT = "risk_model"  # same as earlywarn.tracking.pyfunc.RISK_MODEL_ARTIFACT
RISK_COLUMN = "risk"
PYFUNC_CODE = Path(__file__).with_name("pyfunc.py")
CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"

# Promotion: the candidate must beat the current rule on the test year. Training logs these
# two metrics (test year, average precision, the tuned model and the rule on the same rows).
PROMOTION_METRIC_MODEL = "test_average_precision_model"
PROMOTION_METRIC_RULE = "test_average_precision_rule"
PROMOTION_REQUIREMENTS: tuple[tuple[str, str], ...] = (
    (PROMOTION_METRIC_MODEL, PROMOTION_METRIC_RULE),
)

HEALTH_CHECK_TIMEOUT_SECONDS = 5.0
# An 18-character resident ID: region, birth date (19xx/20xx), sequence, check character.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z.])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_NAME_BAD_CHARS = re.compile(r"[^\w./\- ]+")
_MAX_KEY_LENGTH = 250
_MAX_PARAM_LENGTH = 6000
_TABULAR_SUFFIXES = {".csv", ".tsv", ".parquet"}
_TEXT_SUFFIXES = {".md", ".html", ".htm", ".txt", ".json", ".yaml", ".yml", ".csv", ".tsv"}


@dataclass(frozen=True)
class ModelRef:
    """Where a logged and registered model lives."""

    run_id: str
    model_uri: str
    registered_name: str
    version: str

    @property
    def registered_uri(self) -> str:
        """``models:/<name>/<version>``: what ``train`` prints and ``score --model`` takes."""
        return f"models:/{self.registered_name}/{self.version}"


@dataclass(frozen=True)
class Comparison:
    """One promotion requirement: ``metric`` of the candidate must exceed ``baseline``."""

    metric: str
    value: float | None
    baseline_metric: str
    baseline: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.baseline is not None and self.value > self.baseline


@dataclass(frozen=True)
class Promotion:
    """A version moved to an alias (``champion``), and the evidence it was checked against."""

    name: str
    version: str
    alias: str
    previous_version: str | None
    comparisons: tuple[Comparison, ...]


# --- tracking store ---------------------------------------------------------------------


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///mlflow.db`` in the working directory."""
    return os.environ.get("MLFLOW_TRACKING_URI", "").strip() or DEFAULT_TRACKING_URI


def configure(uri: str | None = None) -> str:
    """Point MLflow's tracking and registry at ``uri`` (default :func:`tracking_uri`)."""
    uri = uri or tracking_uri()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def redact_uri(uri: str) -> str:
    """The URI without any user name or password, for messages."""
    parsed = urlparse(uri)
    if parsed.username or parsed.password:
        host = parsed.hostname or ""
        netloc = f"{host}:{parsed.port}" if parsed.port else host
        return urlunparse(parsed._replace(netloc=f"***@{netloc}"))
    return uri


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (``None`` for an in-memory database)."""
    path = uri.removeprefix("sqlite://")
    path = path[1:] if path.startswith("/") else path
    if path in ("", ":memory:"):
        return None
    return Path(path)


def check_tracking_available(uri: str | None = None) -> None:
    """Fail fast, before any training, if the tracking store cannot be used; create nothing.

    A SQLite or file store needs a writable folder (a store not there yet is created by the
    first logged run, not here); a database store must answer, a server its health check
    within a few seconds; an existing store must then list experiments. Raises
    :class:`TrackingError`.
    """
    uri = uri or tracking_uri()
    shown = redact_uri(uri)
    scheme = urlparse(uri).scheme
    hint = (
        "start the server, or set MLFLOW_TRACKING_URI to a reachable server or to "
        f"{DEFAULT_TRACKING_URI}; nothing was logged or changed"
    )
    if scheme == "sqlite":
        db = _sqlite_path(uri)
        if db is not None:
            folder = db.resolve().parent
            if not folder.is_dir() or not os.access(folder, os.W_OK):
                raise TrackingError(
                    f"tracking store {shown}: folder {folder} does not exist or is not writable"
                )
            if db.exists() and (not db.is_file() or not os.access(db, os.W_OK)):
                raise TrackingError(f"tracking store {shown}: {db} is not a writable file")
            if not db.exists():
                return  # the first logged run creates it
    elif scheme in ("", "file"):
        folder = Path(urlparse(uri).path if scheme else uri).resolve()
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        if not os.access(existing, os.W_OK):
            raise TrackingError(f"tracking store {shown}: {existing} is not writable")
        if not folder.is_dir() or not any(folder.iterdir()):
            return  # the first logged run lays it out
    elif scheme in ("http", "https"):
        import requests  # a dependency of mlflow; a short probe instead of MLflow's retries

        timeout = _probe_timeout()
        try:
            response = requests.get(f"{uri.rstrip('/')}/health", timeout=timeout)
        except requests.RequestException as err:
            raise TrackingError(
                f"tracking server {shown} is unreachable "
                f"({type(err).__name__} within {timeout:g} s): {hint}"
            ) from err
        if response.status_code >= 500:
            raise TrackingError(
                f"tracking server {shown} answered HTTP {response.status_code} "
                f"to its health check: {hint}"
            )
    if _is_database(scheme) and not _has_tracking_tables(uri, shown, hint):
        return  # an empty database: MLflow lays out its tables when the first run is logged
    try:
        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    except Exception as err:
        raise TrackingError(
            f"tracking store {shown} cannot be used "
            f"({type(err).__name__}: {_first_line(err)}): {hint}"
        ) from err


def _require_store(uri: str, what: str) -> None:
    """Refuse, creating nothing, to read from a tracking store that is not there yet (MLflow's
    client would create an empty one)."""
    scheme = urlparse(uri).scheme
    db = _sqlite_path(uri) if scheme == "sqlite" else None
    shown = redact_uri(uri)
    if (db is not None and not db.is_file()) or (
        _is_database(scheme) and not _has_tracking_tables(uri, shown, "")
    ):
        where = db.resolve() if db is not None else shown
        raise TrackingError(
            f"{what}: there is no tracking store at {where} "
            "(train a model first, or set MLFLOW_TRACKING_URI)"
        )


def _is_database(scheme: str) -> bool:
    """A SQLAlchemy store (``sqlite``, ``postgresql+psycopg2``, ``mysql``, ``mssql``)."""
    return scheme.split("+", 1)[0] in ("sqlite", "postgresql", "mysql", "mssql")


def _has_tracking_tables(uri: str, shown: str, hint: str) -> bool:
    """Whether a database store already holds MLflow's tables; it is connected to and read
    only (MLflow's own client would lay out the tables of an empty database)."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(uri)
        try:
            with engine.connect() as connection:
                return "experiments" in sqlalchemy.inspect(connection).get_table_names()
        finally:
            engine.dispose()
    except Exception as err:
        raise TrackingError(
            f"tracking store {shown} cannot be used "
            f"({type(err).__name__}: {_first_line(err)})" + (f": {hint}" if hint else "")
        ) from err


def _probe_timeout() -> float:
    raw = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "")
    try:
        seconds = float(raw) if raw else HEALTH_CHECK_TIMEOUT_SECONDS
    except ValueError:
        seconds = HEALTH_CHECK_TIMEOUT_SECONDS
    return min(seconds, HEALTH_CHECK_TIMEOUT_SECONDS)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else ""


def _experiment_id(client: MlflowClient, name: str, uri: str) -> str:
    """The experiment's id, creating it (artifacts beside a SQLite database) if needed."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            raise TrackingError(
                f"experiment {name!r} is deleted in {redact_uri(uri)}; restore it "
                "(mlflow experiments restore) or change tracking.experiment"
            )
        return str(experiment.experiment_id)
    artifact_location = None
    if urlparse(uri).scheme == "sqlite" and (db := _sqlite_path(uri)) is not None:
        artifact_location = (db.resolve().parent / ARTIFACTS_DIR_NAME).as_uri()
    return str(client.create_experiment(name, artifact_location=artifact_location))


# --- names and values MLflow accepts ------------------------------------------------------


def sanitize_name(name: str) -> str:
    """A metric/param/tag key MLflow accepts: letters, digits, ``_ - . / space``; no ``..``."""
    clean = _NAME_BAD_CHARS.sub("_", str(name)).strip()
    clean = re.sub(r"/{2,}", "/", clean).strip("/")
    clean = re.sub(r"\.{2,}", "_", clean)
    clean = "/".join(part if part not in (".", "") else "_" for part in clean.split("/"))
    return clean[:_MAX_KEY_LENGTH] or "_"


def _unique_names(raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Sanitised keys; a key that collides after sanitising gets a numbered suffix."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = sanitize_name(key)
        if name in out:
            n = 2
            while f"{name}_{n}" in out:
                n += 1
            log.warning(
                "%s name %r collides after sanitising; logged as %r", what, key, f"{name}_{n}"
            )
            name = f"{name}_{n}"
        out[name] = value
    return out


def _param_value(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= _MAX_PARAM_LENGTH else text[: _MAX_PARAM_LENGTH - 3] + "..."


def flatten_config(config: BaseModel, prefix: str = "config") -> dict[str, str]:
    """The resolved config as ``config.<section>.<field>`` -> string value."""
    flat: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        else:
            flat[path] = _param_value(node)

    walk(config.model_dump(mode="json"), prefix)
    return flat


def clean_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Metric names made MLflow-valid; values as floats (``None`` and non-numbers dropped)."""
    values: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            values[key] = float(value)
        except (TypeError, ValueError):
            log.warning("metric %r is not a number (%s); not logged", key, type(value).__name__)
    return _unique_names(values, "metric")


# --- personal data ------------------------------------------------------------------------


def ensure_no_personal_columns(frame: pd.DataFrame | Sequence[str], what: str) -> None:
    """Refuse a frame (or list of names) that carries a personal column, before it is logged."""
    names = frame.columns if isinstance(frame, pd.DataFrame) else frame
    index_names = list(frame.index.names) if isinstance(frame, pd.DataFrame) else []
    found = sorted({str(n) for n in [*names, *index_names] if str(n).lower() in PERSONAL_COLUMNS})
    if found:
        raise PersonalDataError(
            f"{what} has personal columns {found}; personal data never "
            "goes to MLflow (nothing was logged)"
        )


def ensure_no_personal_values(values: Mapping[str, Any], what: str) -> None:
    """Refuse keys naming a personal column, or a value that looks like a resident ID number."""
    ensure_no_personal_columns([str(k).rsplit(".", 1)[-1] for k in values], what)
    suspicious = sorted(str(k) for k, v in values.items() if _RESIDENT_ID.search(str(v)))
    if suspicious:
        raise PersonalDataError(
            f"{what} {suspicious} look like resident ID numbers; personal "
            "data never goes to MLflow (nothing was logged)"
        )


def ensure_no_personal_files(path: Path, what: str) -> None:
    """Refuse tables with personal columns, or text holding a resident ID number, under ``path``."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        suffix = file.suffix.lower()
        if suffix in _TABULAR_SUFFIXES:
            ensure_no_personal_columns(_table_columns(file), f"{what} ({file.name})")
        if suffix in _TEXT_SUFFIXES and file.stat().st_size <= 50_000_000:
            text = file.read_text(encoding="utf-8", errors="replace")
            if _RESIDENT_ID.search(text):
                raise PersonalDataError(
                    f"{what} ({file.name}) contains what looks like a "
                    "resident ID number; personal data never goes to MLflow "
                    "(nothing was logged)"
                )


def _table_columns(file: Path) -> list[str]:
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(file).names)
    with open(file, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    return [c.strip().strip('"') for c in re.split(r"[,\t;]", header)]


# --- logging a run ------------------------------------------------------------------------


def model_signature(model: RiskModel) -> ModelSignature:
    """Inputs: categoricals as string, every other feature as double; output: ``risk``."""
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec("string" if name in model.categories else "double", name, required=False)
        for name in model.feature_names
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double", RISK_COLUMN)]))


def signature_frame(model: RiskModel, features: pd.DataFrame) -> pd.DataFrame:
    """``features`` as the signature declares them: strings (``None`` if missing) and floats."""
    prepared = model.prepare(features).reset_index(drop=True)
    for name in model.categories:
        prepared[name] = prepared[name].astype(object).where(prepared[name].notna(), None)
    return prepared


def _pip_requirements() -> list[str]:
    pins = []
    for package in ("mlflow", "lightgbm", "pandas", "numpy"):
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pins.append(package)
    return pins


@contextmanager
def _staging_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="earlywarn-run-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stage_artifacts(
    staging: Path,
    *,
    config: BaseModel,
    feature_catalog: pd.DataFrame,
    tuning_history: pd.DataFrame | None,
    artifacts: Mapping[str, Path],
) -> None:
    """Lay out the run's artifacts as they will appear in MLflow."""
    (staging / "config.yaml").write_text(
        yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    feature_catalog.to_csv(staging / "feature_catalog.csv", index=False)
    if tuning_history is not None:
        tuning_history.to_csv(staging / "tuning_history.csv", index=False)
    for key, source in artifacts.items():
        source = Path(source)
        relative = Path(*[sanitize_name(p) for p in Path(key).parts if p not in ("", ".", "..")])
        if not source.exists():
            raise TrackingError(f"artifact {key!r}: {source} does not exist")
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)


def log_training_run(
    *,
    config: BaseModel,
    model: RiskModel,
    model_dir: Path,
    metrics: Mapping[str, float],
    params: Mapping[str, Any],
    table_fingerprints: Mapping[str, str],
    artifacts: Mapping[str, Path],
    input_example: pd.DataFrame,
    tuning_history: pd.DataFrame | None,
    feature_catalog: pd.DataFrame,
    run_name: str | None = None,
) -> ModelRef:
    """Log a training run, the model as a pyfunc, and register it with the alias ``candidate``.

    ``config`` is the resolved :class:`~earlywarn.config.Config` (needs ``config.tracking``);
    ``model_dir`` holds ``booster.txt`` + ``model.json`` as written by ``save_model(model)``;
    ``artifacts`` maps a run-relative path (``"plots/pr_curve.png"``, ``"model_card.md"``) to
    a local file or folder. Metric names are sanitised for MLflow; parameters are logged as
    given (sanitised keys), the config as ``config.<section>.<field>`` and fingerprints as
    ``fingerprint.<table>`` (also tags). Personal columns anywhere refuse the whole run.
    """
    model_dir = Path(model_dir)
    tracking_cfg = config.tracking  # type: ignore[attr-defined]
    name: str = tracking_cfg.registered_model
    saved = load_model(model_dir)  # refuses a missing or changed booster
    if saved.feature_names != model.feature_names:
        raise ModelError(
            f"{model_dir} holds a different model (features differ from the one being logged)"
        )
    ensure_no_personal_columns(input_example, "input example")
    ensure_no_personal_columns(feature_catalog, "feature catalog")
    ensure_no_personal_columns(list(model.feature_names), "model features")
    if tuning_history is not None:
        ensure_no_personal_columns(tuning_history, "tuning history")
    ensure_no_personal_values(params, "parameters")
    ensure_no_personal_values(table_fingerprints, "table fingerprints")
    ensure_no_personal_values(dict.fromkeys(metrics, 0.0), "metrics")
    for key, path in artifacts.items():
        ensure_no_personal_files(Path(path), f"artifact {key!r}")

    uri = tracking_uri()
    check_tracking_available(uri)
    configure(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = _experiment_id(client, tracking_cfg.experiment, uri)

    run_params = flatten_config(config)
    run_params.update(_unique_names({k: _param_value(v) for k, v in params.items()}, "param"))
    run_params.update(
        {f"fingerprint.{sanitize_name(t)}": str(h) for t, h in table_fingerprints.items()}
    )
    run_metrics = clean_metrics(metrics)
    tags = {
        f"earlywarn.fingerprint.{sanitize_name(t)}": str(h) for t, h in table_fingerprints.items()
    }
    tags.update(
        {
            "earlywarn.catalog_hash": model.catalog_hash,
            "earlywarn.config_hash": str(model.metadata.get("config_hash", "")),
            "earlywarn.model_format": "lightgbm-booster-text+json",
        }
    )
    example = signature_frame(model, input_example.head(5))

    if (active := mlflow.active_run()) is not None:
        raise TrackingError(
            f"an MLflow run ({active.info.run_id}) is already "
            "active in this process; end it before logging a training run"
        )
    try:
        run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags)
    except MlflowException as err:
        raise TrackingError(f"cannot start a run in {redact_uri(uri)}: {_first_line(err)}") from err
    run_id = run.info.run_id
    version: str | None = None
    try:
        if run_params:
            mlflow.log_params(run_params)
        if run_metrics:
            mlflow.log_metrics(run_metrics)
        with _staging_dir() as staging:
            run_files, risk_model = staging / "run", staging / RISK_MODEL_ARTIFACT
            run_files.mkdir()
            _stage_artifacts(
                run_files,
                config=config,
                feature_catalog=feature_catalog,
                tuning_history=tuning_history,
                artifacts=artifacts,
            )
            mlflow.log_artifacts(str(run_files))
            shutil.copytree(model_dir, risk_model)  # logged as artifacts/risk_model/
            logged = mlflow.pyfunc.log_model(
                name=MODEL_NAME,
                python_model=str(PYFUNC_CODE),
                artifacts={RISK_MODEL_ARTIFACT: str(risk_model)},
                signature=model_signature(model),
                input_example=example,
                pip_requirements=_pip_requirements(),
            )
        registered = mlflow.register_model(
            logged.model_uri,
            name,
            tags={
                "run_id": run_id,
                "catalog_hash": model.catalog_hash,
                **{
                    k: f"{v:.6g}"
                    for k, v in run_metrics.items()
                    if k in (PROMOTION_METRIC_MODEL, PROMOTION_METRIC_RULE)
                },
            },
        )
        version = str(registered.version)
        client.set_registered_model_alias(name, CANDIDATE_ALIAS, version)
    except BaseException as err:
        _abandon(client, run_id, name, version, err)
        if isinstance(err, EarlywarnError) or not isinstance(err, Exception):
            raise
        raise TrackingError(
            f"logging the training run to {redact_uri(uri)} failed "
            f"({type(err).__name__}: {_first_line(err)}); the run is marked "
            "FAILED and no model version was registered"
        ) from err
    mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))
    ref = ModelRef(run_id=run_id, model_uri=logged.model_uri, registered_name=name, version=version)
    log.info(
        "logged run %s; registered %s with alias %s", run_id, ref.registered_uri, CANDIDATE_ALIAS
    )
    return ref


def _abandon(
    client: MlflowClient, run_id: str, name: str, version: str | None, err: BaseException
) -> None:
    """Undo a half-finished run: delete any version it registered, mark the run FAILED."""
    versions = {version} if version is not None else set()
    try:
        found = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
        versions |= {str(v.version) for v in found}
    except Exception:
        log.warning("could not list the versions of %s registered by run %s", name, run_id)
    for number in sorted(versions):
        try:
            client.delete_model_version(name, number)
        except Exception:
            log.exception("could not delete model version %s/%s after a failed run", name, number)
    status = "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED"
    try:
        mlflow.end_run(status)
    except Exception:
        log.warning("could not mark run %s as %s", run_id, status)


# --- loading models back ------------------------------------------------------------------

_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))?/?$")


def resolve_model(uri: str | Path) -> RiskModel:
    """Load a :class:`RiskModel` from a registry URI, a run, a logged model or a local folder.

    ``models:/name@alias``, ``models:/name/3``, ``runs:/<run_id>/model``, ``models:/<model_id>``
    or a folder holding ``booster.txt`` + ``model.json`` (or an MLflow model folder). Only the
    booster and its sidecar are read (hash-checked); no code from the store is run. The
    model's ``version`` is ``name/3`` for a registered model, else the run or model id.
    """
    text = str(uri)
    local = Path(text)
    if "://" not in text and not text.startswith(("models:", "runs:")):
        if not local.exists():
            raise ModelError(f"model {text} is neither a folder nor a models:/ or runs:/ URI")
        return load_model(_risk_model_dir(local))

    match = _MODELS_URI.match(text)
    if not text.startswith("runs:/") and match is None:
        raise ModelError(
            f"cannot read model URI {text!r}; use models:/name@alias, "
            "models:/name/VERSION, runs:/RUN_ID/model or a folder"
        )
    uri = tracking_uri()
    _require_store(uri, f"cannot load {text}")
    check_tracking_available(uri)
    configure(uri)
    try:
        if match is None:  # runs:/<run_id>/<path>
            run_id = text.removeprefix("runs:/").split("/", 1)[0]
            return _download_and_load(text, version=run_id)
        name, alias, number = match["name"], match["alias"], match["version"]
        if alias is None and number is None:  # models:/<model_id>, a logged model
            return _download_and_load(text, version=name)
        client = MlflowClient(tracking_uri=uri)
        if alias is not None:
            model_version = client.get_model_version_by_alias(name, alias)
        else:
            model_version = client.get_model_version(name, number)
        return _download_and_load(
            f"models:/{name}/{model_version.version}", version=f"{name}/{model_version.version}"
        )
    except MlflowException as err:
        raise ModelError(
            f"cannot load model {text} from {redact_uri(tracking_uri())}: {_first_line(err)}"
        ) from err


def _download_and_load(artifact_uri: str, *, version: str) -> RiskModel:
    with tempfile.TemporaryDirectory(prefix="earlywarn-model-") as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=tmp))
        return load_model(_risk_model_dir(local), version=version)


def _risk_model_dir(folder: Path) -> Path:
    """The folder with booster.txt + model.json: ``folder`` itself or its MLflow artifact."""
    for candidate in (folder, folder / "artifacts" / RISK_MODEL_ARTIFACT):
        if (candidate / SIDECAR_FILE).is_file():
            return candidate
    if (folder / "MLmodel").is_file():  # logged by an older earlywarn under another folder name
        found = sorted(p.parent for p in (folder / "artifacts").rglob(SIDECAR_FILE))
        if len(found) == 1:
            return found[0]
    raise ModelError(f"{folder} holds no earlywarn model ({BOOSTER_FILE} + {SIDECAR_FILE})")


def find_in_run(run_id: str, needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` appears in a run: params, metric names, tags, or the text of
    its artifacts and of its logged models' files (for personal-data audits and tests)."""
    needles = [n for n in needles if n]
    client = MlflowClient(tracking_uri=configure())
    run = client.get_run(run_id)
    places = [
        *(f"param {k}={v}" for k, v in run.data.params.items()),
        *(f"metric {k}" for k in run.data.metrics),
        *(f"tag {k}={v}" for k, v in run.data.tags.items()),
    ]
    found = [place for place in places if any(n in place for n in needles)]
    outputs = run.outputs.model_outputs if run.outputs else []
    uris = [f"runs:/{run_id}/", *(f"models:/{o.model_id}" for o in outputs)]
    with tempfile.TemporaryDirectory(prefix="earlywarn-audit-") as tmp:
        for n, uri in enumerate(uris):
            local = Path(mlflow.artifacts.download_artifacts(uri, dst_path=f"{tmp}/{n}"))
            for file in sorted(p for p in local.rglob("*") if p.is_file()):
                text = file.read_bytes().decode("utf-8", errors="ignore")
                if any(n in text or n in file.name for n in needles):
                    found.append(f"artifact {uri}{file.relative_to(local).as_posix()}")
    return found


# --- promotion ------------------------------------------------------------------------------


def promote(
    version: str | int,
    *,
    name: str,
    require: Sequence[tuple[str, str]] = PROMOTION_REQUIREMENTS,
    alias: str = CHAMPION_ALIAS,
) -> Promotion:
    """Move ``alias`` (``champion``) to ``version`` if its run beats the rule on the test year.

    ``version`` is a number or an alias (``candidate``). Each ``(metric, baseline)`` pair in
    ``require`` names two metrics logged in the version's run; the metric must be strictly
    greater. Raises :class:`PromotionRefused` (with the figures) otherwise.
    """
    uri = tracking_uri()
    _require_store(uri, f"cannot promote {name} {str(version).strip()!r}")
    check_tracking_available(uri)
    configure(uri)
    client = MlflowClient(tracking_uri=uri)
    wanted = str(version).strip()
    try:
        if wanted.isdigit():
            model_version = client.get_model_version(name, wanted)
        else:
            model_version = client.get_model_version_by_alias(name, wanted)
    except MlflowException as err:
        raise PromotionRefused(
            f"model {name} has no version {wanted!r} in {redact_uri(uri)}: {_first_line(err)}"
        ) from err
    number = str(model_version.version)
    if not model_version.run_id:
        raise PromotionRefused(f"{name}/{number} has no training run to check it against")
    run_metrics = client.get_run(model_version.run_id).data.metrics
    comparisons = tuple(
        Comparison(
            metric=metric,
            value=run_metrics.get(metric),
            baseline_metric=baseline,
            baseline=run_metrics.get(baseline),
        )
        for metric, baseline in require
    )
    failures = [c for c in comparisons if not c.passed]
    if failures:
        reasons = "; ".join(_refusal_reason(c) for c in failures)
        raise PromotionRefused(f"{name}/{number} was not made {alias}: {reasons}")
    try:
        previous = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        previous = None
    client.set_registered_model_alias(name, alias, number)
    log.info("%s/%s is now %s (was %s)", name, number, alias, previous)
    return Promotion(
        name=name, version=number, alias=alias, previous_version=previous, comparisons=comparisons
    )


def _refusal_reason(comparison: Comparison) -> str:
    if comparison.value is None or comparison.baseline is None:
        missing = [
            m
            for m, v in (
                (comparison.metric, comparison.value),
                (comparison.baseline_metric, comparison.baseline),
            )
            if v is None
        ]
        return f"its run did not log {', '.join(missing)}"
    if math.isnan(comparison.value) or math.isnan(comparison.baseline):
        return f"{comparison.metric} or {comparison.baseline_metric} is NaN"
    return (
        f"{comparison.metric} {comparison.value:.4f} is not above "
        f"{comparison.baseline_metric} {comparison.baseline:.4f}"
    )
