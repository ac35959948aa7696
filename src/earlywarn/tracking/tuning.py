"""The tuning study in a training run: each trial as metrics by step (step = trial number),
beside the whole table (``tuning_history.csv``), and where the study lives.

Trials are metrics of the training run rather than child runs: a study of fifty trials
would otherwise put fifty runs that are not models into the experiment's list, and a
resumed study's earlier trials (run by another process) would need runs made up after the
fact. Metrics by step chart each trial's score, the best so far and the pruned count in the
run's own page; the table carries every trial's parameters; the study itself (its storage
and name are the run's ``tune.storage`` and ``tune.study_name``) keeps the rest and names
the run (:func:`earlywarn.model.search.record_run`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from mlflow.entities import Metric

TRIAL_VALUE = "tune_trial_value"
BEST_SO_FAR = "tune_best_value_so_far"
PRUNED_SO_FAR = "tune_trials_pruned_so_far"
TRIAL_SECONDS = "tune_trial_seconds"


@dataclass(frozen=True)
class StudyRef:
    """Where the tuning study of a run lives: its Optuna storage URL and study name."""

    storage: str
    name: str


def study_params(study: StudyRef) -> dict[str, str]:
    """The run's record of its study, as parameters (``tune.storage``, ``tune.study_name``)."""
    return {"tune.storage": study.storage, "tune.study_name": study.name}


def trial_metrics(history: pd.DataFrame) -> list[Metric]:
    """One point per finished trial at step = trial number: its score (complete trials), the
    best score so far, the pruned trials so far and its duration; timestamped when it ended."""
    if history.empty or "number" not in history:
        return []
    metrics: list[Metric] = []
    best, pruned = -math.inf, 0
    now = int(time.time() * 1000)
    for row in history.sort_values("number").itertuples(index=False):
        state = str(getattr(row, "state", ""))
        if state not in ("COMPLETE", "PRUNED"):
            continue
        step = int(row.number)
        stamp = _milliseconds(getattr(row, "finished_at", None), now)
        value = float(getattr(row, "value", math.nan))
        points: dict[str, float] = {}
        if state == "COMPLETE" and not math.isnan(value):
            points[TRIAL_VALUE] = value
            best = max(best, value)
        else:
            pruned += 1
        if best > -math.inf:
            points[BEST_SO_FAR] = best
        points[PRUNED_SO_FAR] = float(pruned)
        seconds = float(getattr(row, "duration_seconds", math.nan))
        if not math.isnan(seconds):
            points[TRIAL_SECONDS] = seconds
        metrics += [Metric(key, v, stamp, step) for key, v in points.items()]
    return metrics


def _milliseconds(finished_at: object, default: int) -> int:
    if not isinstance(finished_at, str) or not finished_at:
        return default
    try:
        return int(datetime.fromisoformat(finished_at).timestamp() * 1000)
    except ValueError:
        return default
