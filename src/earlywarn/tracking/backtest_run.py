"""Logging a backtest to MLflow: one run per backtest, one nested run per scoring run it
evaluated, so that how good each model version's warnings were sits beside its training run.

The parent run (``backtest-<year>``, tag ``earlywarn.kind=backtest``) holds the target year,
the number of runs, the figures of the latest run as metrics, and the report files (HTML,
CSV). Each nested run (``as_of=<date> model=<version>``) holds one row of the backtest's
figures as metrics and is tagged with its as-of date and model version. The backtest's tables
hold no household: counts, rates and county names only; they are checked for personal columns
before MLflow is touched.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from earlywarn.data.columns import AS_OF, MODEL_VERSION
from earlywarn.errors import TrackingError
from earlywarn.tracking.names import clean_metrics
from earlywarn.tracking.personal_data import ensure_no_personal_columns
from earlywarn.tracking.store import (
    check_tracking_available,
    configure,
    experiment_id,
    first_line,
    redact_uri,
    tracking_uri,
)

log = logging.getLogger(__name__)

KIND_TAG = "earlywarn.kind"
BACKTEST_KIND = "backtest"


def run_metrics(row: Mapping[str, object]) -> dict[str, float]:
    """The numeric figures of one backtest row (NaN ones left out: MLflow stores no gaps)."""
    numbers = {
        key: value
        for key, value in row.items()
        if key not in (AS_OF, MODEL_VERSION) and isinstance(value, int | float)
    }
    return {key: value for key, value in clean_metrics(numbers).items() if value == value}


def log_backtest(
    *,
    experiment: str,
    target_year: int,
    runs: pd.DataFrame,
    by_county: pd.DataFrame,
    files: Sequence[Path],
) -> str:
    """Log the backtest of ``target_year`` (``runs``: one row per scoring run, as
    :func:`earlywarn.scoring.backtest.backtest` gives) into ``experiment``; ``files`` (the
    reports) go under the run's ``backtest/`` folder. Returns the parent
    run's id; a failure marks the run FAILED and raises :class:`TrackingError`."""
    ensure_no_personal_columns(runs, "backtest runs")
    ensure_no_personal_columns(by_county, "backtest counties")
    uri = tracking_uri()
    check_tracking_available(uri)
    configure(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment_key = experiment_id(client, experiment, uri)
    tags = {KIND_TAG: BACKTEST_KIND, "earlywarn.target_year": str(target_year)}
    try:
        parent = client.create_run(experiment_key, run_name=f"backtest-{target_year}", tags=tags)
    except MlflowException as err:
        raise TrackingError(f"cannot start a run in {redact_uri(uri)}: {first_line(err)}") from err
    run_id = str(parent.info.run_id)
    try:
        client.log_param(run_id, "target_year", target_year)
        client.log_param(run_id, "n_runs", len(runs))
        ordered = runs.sort_values([AS_OF, MODEL_VERSION])
        for step, row in enumerate(ordered.to_dict("records")):
            metrics = run_metrics(row)
            _log_scoring_run(client, experiment_key, run_id, target_year, row, metrics)
            for key, value in metrics.items():
                client.log_metric(run_id, key, value, step=step)
        for path in files:
            client.log_artifact(run_id, str(path), artifact_path="backtest")
    except (MlflowException, OSError) as err:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise TrackingError(
            f"logging the backtest of {target_year} to {redact_uri(uri)} failed "
            f"({type(err).__name__}: {first_line(err)}); the run is marked FAILED"
        ) from err
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    log.info("logged backtest of %d as run %s (%d scoring runs)", target_year, run_id, len(runs))
    return run_id


def _log_scoring_run(
    client: MlflowClient,
    experiment_key: str,
    parent_id: str,
    target_year: int,
    row: Mapping[str, object],
    metrics: Mapping[str, float],
) -> None:
    """One scoring run's figures (``metrics``, from ``row``) as a run nested in the
    backtest's."""
    as_of = pd.Timestamp(str(row[AS_OF])).date().isoformat()
    version = str(row[MODEL_VERSION])
    child = client.create_run(
        experiment_key,
        run_name=f"as_of={as_of} model={version}",
        tags={
            "mlflow.parentRunId": parent_id,
            KIND_TAG: BACKTEST_KIND,
            "earlywarn.target_year": str(target_year),
            "earlywarn.as_of": as_of,
            "earlywarn.model_version": version,
        },
    )
    child_id = str(child.info.run_id)
    for key, value in metrics.items():
        client.log_metric(child_id, key, value)
    client.set_terminated(child_id, RunStatus.to_string(RunStatus.FINISHED))
