"""Logging a training run: its config, input fingerprints, parameters, metrics, plots and
tables, and the model as a pyfunc "from code" (booster text or linear-scorer JSON + JSON
sidecar, nothing pickled), registered as ``candidate``. Tags say the model's kind and which
candidate the choice picked.

Registration comes last: if anything fails, the new version is deleted and the run is marked
FAILED. Personal columns or values anywhere refuse the run before MLflow is touched.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import yaml
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from earlywarn.config import Config
from earlywarn.errors import EarlywarnError, ModelError, TrackingError
from earlywarn.model.model_file import RiskModel, load_model
from earlywarn.tracking.logged_model import (
    MODEL_NAME,
    PYFUNC_CODE,
    RISK_MODEL_ARTIFACT,
    SCORER_CODE,
    model_signature,
    pip_requirements,
    signature_frame,
)
from earlywarn.tracking.names import (
    clean_metrics,
    flatten_config,
    param_value,
    sanitize_name,
    unique_names,
)
from earlywarn.tracking.personal_data import (
    ensure_no_personal_columns,
    ensure_no_personal_files,
    ensure_no_personal_values,
)
from earlywarn.tracking.provenance import log_table_inputs, provenance_tags
from earlywarn.tracking.registry import CANDIDATE_ALIAS, make_candidate, register_version
from earlywarn.tracking.store import (
    check_tracking_available,
    configure,
    experiment_id,
    first_line,
    redact_uri,
    tracking_uri,
)
from earlywarn.tracking.tuning import StudyRef, study_params, trial_metrics

log = logging.getLogger(__name__)

UV_FILES_VARIABLE = "MLFLOW_LOG_UV_FILES"
MODEL_FORMATS = {
    "lightgbm": "lightgbm-booster-text+json",
    "linear": "linear-scorer-json+json",
    "blend": "blend-scorer-json+json",
}


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


def log_training_run(
    *,
    config: Config,
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
    description: str = "",
    study: StudyRef | None = None,
    table_columns: Mapping[str, pd.DataFrame] | None = None,
    data_source: str | None = None,
    after_registration: Callable[[str], Mapping[str, Path]] | None = None,
) -> ModelRef:
    """Log a training run, the model as a pyfunc, and register it with the alias ``candidate``.

    ``model_dir`` holds the scorer file + ``model.json`` as written by ``save_model(model)``;
    ``artifacts`` maps a run-relative path (``"plots/pr_curve.png"``, ``"model_card.md"``) to
    a local file or folder. Metric names are sanitised for MLflow; parameters are logged as
    given (sanitised keys), the config as ``config.<section>.<field>`` and fingerprints as
    ``fingerprint.<table>`` (also tags, with the earlywarn version and git commit, on the
    run and the model version). ``description`` (the model card's summary) describes the
    version; ``study`` is where the tuning study lives (parameters ``tune.storage`` and
    ``tune.study_name``), its trials metrics by step; ``table_columns`` (frames whose rows
    are never read) become run inputs with ``data_source``. ``after_registration`` is
    called with the registered URI (``models:/earlywarn/3``) once the version exists and
    returns more artifacts for the same run (the model card naming its version). Inside an
    active run the training run is nested in it. Personal columns anywhere refuse the whole
    run.
    """
    model_dir = Path(model_dir)
    name = config.tracking.registered_model
    _check_saved_model(model, model_dir)
    run_params = _run_params(config, params, table_fingerprints, study)
    _refuse_personal_data(
        model=model,
        input_example=input_example,
        feature_catalog=feature_catalog,
        tuning_history=tuning_history,
        params={**params, **run_params, "description": description},
        table_fingerprints=table_fingerprints,
        metrics=metrics,
        artifacts=artifacts,
        table_columns=table_columns or {},
    )

    uri = tracking_uri()
    check_tracking_available(uri)
    configure(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = experiment_id(client, config.tracking.experiment, uri)
    run_metrics = clean_metrics(metrics)
    example = signature_frame(model, input_example.head(5))
    tags = {**_run_tags(model, table_fingerprints), **_study_tags(study)}

    run_id = _start_run(experiment, run_name, tags, uri)
    version: str | None = None
    try:
        _log_records(client, run_id, run_params, run_metrics, tuning_history)
        if table_columns:
            log_table_inputs(table_columns, table_fingerprints, data_source)
        with _staging_dir() as staging:
            run_files = staging / "run"
            _stage_artifacts(run_files, config, feature_catalog, tuning_history, artifacts)
            mlflow.log_artifacts(str(run_files))
            model_uri = _log_model(model, model_dir, staging / RISK_MODEL_ARTIFACT, example)
        version = register_version(
            model_uri,
            name,
            run_id=run_id,
            catalog_hash=model.catalog_hash,
            metrics=run_metrics,
            tags=provenance_tags(table_fingerprints),
            description=description,
        )
        make_candidate(client, name, version)
        if after_registration is not None:
            _log_late_artifacts(after_registration(f"models:/{name}/{version}"))
    except BaseException as err:
        _abandon(client, run_id, name, version, err)
        if isinstance(err, EarlywarnError) or not isinstance(err, Exception):
            raise
        raise TrackingError(
            f"logging the training run to {redact_uri(uri)} failed "
            f"({type(err).__name__}: {first_line(err)}); the run is marked "
            "FAILED and no model version was registered"
        ) from err
    mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))
    ref = ModelRef(run_id=run_id, model_uri=model_uri, registered_name=name, version=version)
    log.info(
        "logged run %s; registered %s with alias %s", run_id, ref.registered_uri, CANDIDATE_ALIAS
    )
    return ref


def _run_params(
    config: Config,
    params: Mapping[str, Any],
    table_fingerprints: Mapping[str, str],
    study: StudyRef | None,
) -> dict[str, str]:
    """The config as ``config.<section>.<field>``, the given parameters, the fingerprints and
    where the tuning study lives, with keys and values MLflow accepts."""
    return {
        **flatten_config(config),
        **unique_names({k: param_value(v) for k, v in params.items()}, "param"),
        **{f"fingerprint.{sanitize_name(t)}": str(h) for t, h in table_fingerprints.items()},
        **(study_params(StudyRef(redact_uri(study.storage), study.name)) if study else {}),
    }


def _log_records(
    client: MlflowClient,
    run_id: str,
    run_params: dict[str, str],
    run_metrics: dict[str, float],
    tuning_history: pd.DataFrame | None,
) -> None:
    """Parameters, metrics, and each tuning trial as metrics by step (with their own
    timestamps, a thousand at a time: MLflow's cap)."""
    if run_params:
        mlflow.log_params(run_params)
    if run_metrics:
        mlflow.log_metrics(run_metrics)
    trials = trial_metrics(tuning_history) if tuning_history is not None else []
    for start in range(0, len(trials), 1000):
        client.log_batch(run_id, metrics=trials[start : start + 1000])


def _study_tags(study: StudyRef | None) -> dict[str, str]:
    if study is None:
        return {}
    return {"optuna.storage": redact_uri(study.storage), "optuna.study_name": study.name}


def _check_saved_model(model: RiskModel, model_dir: Path) -> None:
    """Refuse a missing or changed scorer file, or a folder holding another model."""
    saved = load_model(model_dir)
    if saved.feature_names != model.feature_names or saved.kind != model.kind:
        raise ModelError(
            f"{model_dir} holds a different model (kind or features differ from the one being "
            "logged)"
        )


def _log_late_artifacts(artifacts: Mapping[str, Path]) -> None:
    """Log files to the active run at their run paths (checked for personal data first)."""
    for key, path in artifacts.items():
        ensure_no_personal_files(Path(path), f"artifact {key!r}")
        folder = str(Path(key).parent) if Path(key).parent != Path(".") else None
        mlflow.log_artifact(str(path), artifact_path=folder)


def _refuse_personal_data(
    *,
    model: RiskModel,
    input_example: pd.DataFrame,
    feature_catalog: pd.DataFrame,
    tuning_history: pd.DataFrame | None,
    params: Mapping[str, Any],
    table_fingerprints: Mapping[str, str],
    metrics: Mapping[str, float],
    artifacts: Mapping[str, Path],
    table_columns: Mapping[str, pd.DataFrame],
) -> None:
    """Raise :class:`PersonalDataError` if anything to be logged carries personal data."""
    ensure_no_personal_columns(input_example, "input example")
    for table, frame in table_columns.items():
        ensure_no_personal_columns(frame, f"input table {table}")
    ensure_no_personal_columns(feature_catalog, "feature catalog")
    ensure_no_personal_columns(list(model.feature_names), "model features")
    if tuning_history is not None:
        ensure_no_personal_columns(tuning_history, "tuning history")
    ensure_no_personal_values(params, "parameters")
    ensure_no_personal_values(table_fingerprints, "table fingerprints")
    ensure_no_personal_values(dict.fromkeys(metrics, 0.0), "metrics")
    for key, path in artifacts.items():
        ensure_no_personal_files(Path(path), f"artifact {key!r}")


def _run_tags(model: RiskModel, table_fingerprints: Mapping[str, str]) -> dict[str, str]:
    tags = provenance_tags(table_fingerprints)
    tags.update(
        {
            "earlywarn.catalog_hash": model.catalog_hash,
            "earlywarn.config_hash": str(model.metadata.get("config_hash", "")),
            "earlywarn.model_format": MODEL_FORMATS[model.kind],
            "earlywarn.model_kind": model.kind,
        }
    )
    choice = model.metadata.get("model_choice")
    if isinstance(choice, dict) and "winner" in choice:
        tags["earlywarn.model_choice"] = str(choice["winner"])
    return tags


def _start_run(experiment: str, run_name: str | None, tags: dict[str, str], uri: str) -> str:
    """Start the run, nested in the active run if there is one (a notebook's); its id."""
    try:
        run = mlflow.start_run(
            experiment_id=experiment,
            run_name=run_name,
            tags=tags,
            nested=mlflow.active_run() is not None,
        )
    except MlflowException as err:
        raise TrackingError(f"cannot start a run in {redact_uri(uri)}: {first_line(err)}") from err
    return str(run.info.run_id)


def _log_model(model: RiskModel, model_dir: Path, staged: Path, example: pd.DataFrame) -> str:
    """Log the model folder (copied to ``staged``) as the pyfunc; the logged model's URI."""
    shutil.copytree(model_dir, staged)  # logged as artifacts/risk_model/
    with _without_uv_project_files():
        logged = mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(PYFUNC_CODE),
            artifacts={RISK_MODEL_ARTIFACT: str(staged)},
            code_paths=[str(SCORER_CODE)],
            signature=model_signature(model),
            input_example=example,
            pip_requirements=pip_requirements(),
        )
    return str(logged.model_uri)


@contextmanager
def _without_uv_project_files() -> Iterator[None]:
    """MLflow copies the uv project it finds in the working directory (earlywarn's own
    uv.lock and pyproject.toml) into the model, and ``--env-manager uv`` would then build
    earlywarn: the model's environment is its requirements.txt alone."""
    previous = os.environ.get(UV_FILES_VARIABLE)
    os.environ[UV_FILES_VARIABLE] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(UV_FILES_VARIABLE, None)
        else:
            os.environ[UV_FILES_VARIABLE] = previous


@contextmanager
def _staging_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="earlywarn-run-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stage_artifacts(
    staging: Path,
    config: Config,
    feature_catalog: pd.DataFrame,
    tuning_history: pd.DataFrame | None,
    artifacts: Mapping[str, Path],
) -> None:
    """Lay out the run's artifacts in ``staging`` (created) as they will appear in MLflow."""
    staging.mkdir()
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
