"""Hyper-parameter search for the LightGBM risk model: Optuna TPE, pruning, early stopping.

Each trial cross-validates on precomputed out-of-time folds (train on earlier target years,
validate on a later one), stops early on the validation metric and keeps its best iteration
as a user attribute. The study lives in an Optuna storage (SQLite for one worker) so an
interrupted search resumes: running again with the same storage and study name continues
the same study up to ``n_trials`` finished trials.

Explaining a household costs about trees x leaves x depth², so among the trials within
``size_tolerance`` of the best score the smallest model is chosen.

Each finished trial is reported at INFO on this module's logger (trials done, best so far,
pruned, elapsed): the training job shows these lines on stderr. The study keeps, as user
attributes, the MLflow runs trained from it (:func:`record_run`).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from earlywarn.config import TrainConfig, TuneConfig
from earlywarn.model.search_data import (
    Folds,
    SearchData,
    build_search_data,
    cross_validate,
    kept_for_search,
)

log = logging.getLogger(__name__)

LGB_METRIC = {"average_precision": "average_precision", "roc_auc": "auc"}
BEST_ITERATION = "best_iteration"
RUN_ID_ATTR = "mlflow_run_id"  # study user attributes: the last run trained from the study
RUN_IDS_ATTR = "mlflow_run_ids"  # and every one, oldest first
SEARCH_SPACE_VERSION = 2  # bump when suggest_params changes: a new study, not a resumed one


_TRAIN_DEFAULTS = TrainConfig()


@dataclass(frozen=True)
class SearchBounds:
    """What a trial may choose beyond the sampled space, and how to pick among equals
    (defaults: those of :class:`~earlywarn.config.TrainConfig`)."""

    max_boost_rounds: int = _TRAIN_DEFAULTS.max_boost_rounds
    early_stopping_rounds: int = _TRAIN_DEFAULTS.early_stopping_rounds
    size_tolerance: float = _TRAIN_DEFAULTS.size_tolerance

    @classmethod
    def of(cls, cfg: TrainConfig) -> SearchBounds:
        """The bounds a training config sets."""
        return cls(
            max_boost_rounds=cfg.max_boost_rounds,
            early_stopping_rounds=cfg.early_stopping_rounds,
            size_tolerance=cfg.size_tolerance,
        )


@dataclass(frozen=True)
class TuneResult:
    """The chosen trial's LightGBM parameters and tree count, and the whole history.

    ``params`` are ready for :func:`earlywarn.model.fit.fit_model` (fixed flags included, no
    seed/threads); ``history`` has one row per trial: number, state, value, best_iteration,
    complexity (trees x effective leaves) and each sampled parameter.
    """

    params: dict[str, Any]
    num_boost_round: int
    chosen_trial: int
    chosen_value: float
    best_trial: int
    best_value: float
    history: pd.DataFrame
    study_name: str
    n_trials_run: int


def fixed_params(metric: str = "average_precision") -> dict[str, Any]:
    """Parameters every trial shares: binary objective, deterministic row-wise training."""
    return {
        "objective": "binary",
        "metric": LGB_METRIC[metric],
        "deterministic": True,
        "force_row_wise": True,
        "feature_pre_filter": False,
        "verbosity": -1,
        "bagging_freq": 1,
    }


def suggest_params(trial: optuna.trial.BaseTrial, max_boost_rounds: int) -> dict[str, Any]:
    """The search space: learning rate, tree size and count, regularisation, subsampling."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 8),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 1_000, log=True),
        "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 100.0, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.2, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "num_boost_round": trial.suggest_int(
            "num_boost_round", min(50, max_boost_rounds), max_boost_rounds, log=True
        ),
    }


START_FROM_DEFAULTS = False
"""Whether a new study's first trial is LightGBM's own defaults (:func:`default_trial`)."""


def default_trial(max_boost_rounds: int) -> dict[str, Any]:
    """LightGBM's defaults as a point of the search space (31 leaves, learning rate 0.05,
    no bagging or column sampling, next to no regularisation), with every round allowed:
    a plain model the sampled trials must beat on the validation years to be chosen."""
    return {
        "learning_rate": 0.05,
        "num_leaves": 31,
        "max_depth": 8,  # 2**8 leaves > 31: no limit in effect
        "min_child_samples": 20,
        "lambda_l1": 1e-8,
        "lambda_l2": 1e-8,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "num_boost_round": max_boost_rounds,
    }


def trial_params(cfg: TuneConfig, workers: int = 1) -> dict[str, Any]:
    """The parameters every trial of a search shares: fixed flags, seed and threads (the
    ``cfg.num_threads`` shared among ``workers`` folds trained side by side)."""
    threads = max(1, cfg.num_threads // workers)
    return {**fixed_params(cfg.metric), "seed": cfg.seed, "num_threads": threads}


def objective(
    trial: optuna.trial.BaseTrial,
    data: SearchData,
    *,
    cfg: TuneConfig,
    bounds: SearchBounds = SearchBounds(),
) -> float:
    """Mean validation score over the out-of-time folds at the best iteration."""
    params = {**trial_params(cfg, data.workers), **suggest_params(trial, bounds.max_boost_rounds)}
    rounds = params.pop("num_boost_round")

    def report(step: int, value: float) -> None:
        if isinstance(trial, optuna.trial.Trial):  # a FixedTrial has no study to prune in
            trial.report(value, step=step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"trial was pruned at iteration {step}")

    curve = cross_validate(
        params,
        data,
        num_boost_round=rounds,
        early_stopping_rounds=bounds.early_stopping_rounds,
        on_round=report,
    )
    best_iteration = int(np.nanargmax(curve)) + 1
    trial.set_user_attr(BEST_ITERATION, best_iteration)
    return float(curve[best_iteration - 1])


def open_study(cfg: TuneConfig, *, storage_url: str | None, study_name: str) -> optuna.Study:
    """Create or load the study: seeded TPE, percentile pruning, retry of stale trials."""
    storage: RDBStorage | None = None
    if storage_url is not None:
        with warnings.catch_warnings():  # heartbeats are "experimental" since optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = RDBStorage(
                storage_url,
                heartbeat_interval=60,
                grace_period=120,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
            )
    return optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=cfg.seed),
        # prune only the clearly worse (bottom quarter) after 50 rounds: slow learners
        # (small learning rates) look poor early and a median pruner would kill them all
        pruner=optuna.pruners.PercentilePruner(25.0, n_startup_trials=8, n_warmup_steps=50),
    )


def search(
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    cfg: TuneConfig,
    *,
    storage_url: str | None,
    study_name: str,
    n_trials: int | None = None,
    bounds: SearchBounds = SearchBounds(),
    households: np.ndarray | None = None,
    months: np.ndarray | None = None,
    timeout: float | None = None,
) -> TuneResult:
    """Run (or resume) the study until ``n_trials`` trials have finished or time runs out.

    The examples are binned once for all trials (:mod:`earlywarn.model.search_data`); the
    folds train on the rows at ``cfg.as_of_months`` (``months``: each row's as-of month) and
    on ``cfg.negative_share`` of the non-poor ``households`` (ids, one per row of ``X``; rows
    drawn singly without them). ``timeout`` overrides ``cfg.timeout_seconds``."""
    study = open_study(cfg, storage_url=storage_url, study_name=study_name)
    target = n_trials if n_trials is not None else cfg.n_trials
    finished = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    if START_FROM_DEFAULTS and not study.trials:
        study.enqueue_trial(default_trial(bounds.max_boost_rounds))
    remaining = max(0, target - finished)
    if finished:
        log.info(
            "study %s already has %d finished trials; running %d more",
            study_name,
            finished,
            remaining,
        )
    if remaining:
        started = time.perf_counter()
        kept = kept_for_search(
            np.asarray(y, dtype=float),
            households,
            cfg.negative_share,
            cfg.seed,
            months=months,
            as_of_months=cfg.as_of_months,
        )
        workers = max(1, min(cfg.num_threads, len(folds)))  # a thread per fold first
        data = build_search_data(
            X,
            y,
            folds,
            trial_params(cfg, workers),
            kept=kept,
            negative_share=cfg.negative_share,
            workers=workers,
        )
        log.info(
            "search data: %d examples binned once in %.1f s; the folds train on %s rows, "
            "%d side by side",
            len(X),
            time.perf_counter() - started,
            ", ".join(f"{n:,}" for n in data.n_train_rows),
            data.workers,
        )
        study.optimize(
            lambda trial: objective(trial, data, cfg=cfg, bounds=bounds),
            n_trials=remaining,
            timeout=timeout if timeout is not None else cfg.timeout_seconds,
            gc_after_trial=False,
            callbacks=[TrialProgress(target=target, already_finished=finished)],
        )
    return summarize_study(
        study, tolerance=bounds.size_tolerance, metric=cfg.metric, n_trials_run=remaining
    )


class TrialProgress:
    """An Optuna callback logging, after each trial, how far the search is (INFO)."""

    def __init__(self, *, target: int, already_finished: int = 0) -> None:
        self.target = target
        self.already_finished = already_finished
        self.started = time.perf_counter()

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        trials = study.get_trials(deepcopy=False)
        states = [t.state for t in trials]
        done = sum(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states)
        complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
        best = max(complete, key=lambda t: float(t.value or 0.0), default=None)
        outcome = (
            f"{trial.value:.4f}" if trial.state == TrialState.COMPLETE else trial.state.name.lower()
        )
        seconds = trial.duration.total_seconds() if trial.duration is not None else float("nan")
        log.info(
            "tuning: trial %d/%d %s in %.1f s; best so far %s; %d pruned, %d failed; "
            "%.0f s elapsed",
            done,
            self.target,
            outcome,
            seconds,
            f"{best.value:.4f} (trial {best.number})" if best is not None else "none",
            states.count(TrialState.PRUNED),
            states.count(TrialState.FAIL),
            time.perf_counter() - self.started,
        )


def record_run(storage_url: str, study_name: str, run_id: str) -> None:
    """Record in the study (user attributes) that MLflow run ``run_id`` was trained from it."""
    study = optuna.load_study(study_name=study_name, storage=storage_url)
    runs = [str(r) for r in study.user_attrs.get(RUN_IDS_ATTR, []) if str(r) != run_id]
    study.set_user_attr(RUN_IDS_ATTR, [*runs, run_id])
    study.set_user_attr(RUN_ID_ATTR, run_id)


def trial_history(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, value, best_iteration, complexity, duration, when it
    finished (ISO text, UTC), parameters."""
    rows = []
    for trial in study.trials:
        best_iteration = trial.user_attrs.get(BEST_ITERATION)
        leaves = effective_leaves(trial.params) if trial.params else np.nan
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "value": trial.value if trial.value is not None else np.nan,
                BEST_ITERATION: best_iteration if best_iteration is not None else np.nan,
                "complexity": (best_iteration or np.nan) * leaves,
                "duration_seconds": (
                    trial.duration.total_seconds() if trial.duration is not None else np.nan
                ),
                "finished_at": (
                    trial.datetime_complete.astimezone(UTC).isoformat()  # Optuna's are local
                    if trial.datetime_complete is not None
                    else None
                ),
                **{f"param_{name}": value for name, value in trial.params.items()},
            }
        )
    return pd.DataFrame(rows)


def effective_leaves(params: dict[str, Any]) -> int:
    """Leaves a tree can actually have: num_leaves, capped by 2**max_depth when bounded."""
    leaves = int(params.get("num_leaves", 31))
    depth = int(params.get("max_depth", -1))
    return min(leaves, 2**depth) if depth > 0 else leaves


def choose_trial(history: pd.DataFrame, *, tolerance: float) -> int:
    """The smallest model (trees x leaves) among complete trials within ``tolerance`` of best."""
    complete = history[(history["state"] == "COMPLETE") & history["value"].notna()]
    if complete.empty:
        raise optuna.exceptions.OptunaError("no tuning trial completed")
    best = complete["value"].max()
    near = complete[complete["value"] >= best - tolerance]
    ordered = near.sort_values(["complexity", "value", "number"], ascending=[True, False, True])
    return int(ordered["number"].iloc[0])


def summarize_study(
    study: optuna.Study,
    *,
    tolerance: float,
    metric: str = "average_precision",
    n_trials_run: int = 0,
) -> TuneResult:
    """Pick the trial to train (see :func:`choose_trial`) and gather its parameters."""
    history = trial_history(study)
    chosen_number = choose_trial(history, tolerance=tolerance)
    chosen = study.trials[chosen_number]
    params = {**fixed_params(metric), **chosen.params}
    params.pop("num_boost_round", None)
    return TuneResult(
        params=params,
        num_boost_round=int(chosen.user_attrs[BEST_ITERATION]),
        chosen_trial=chosen_number,
        chosen_value=float(chosen.value if chosen.value is not None else np.nan),
        best_trial=study.best_trial.number,
        best_value=float(study.best_value),
        history=history,
        study_name=study.study_name,
        n_trials_run=n_trials_run,
    )


def explanation_rate(
    booster: lgb.Booster, X: pd.DataFrame, *, n_rows: int = _TRAIN_DEFAULTS.explain_rate_rows
) -> float:
    """Households explained per second by ``booster.predict(X, pred_contrib=True)``."""
    sample = X.iloc[: min(n_rows, len(X))]
    if sample.empty:
        return float("nan")
    start = time.perf_counter()
    booster.predict(sample, pred_contrib=True)
    elapsed = time.perf_counter() - start
    return float(len(sample) / max(elapsed, 1e-9))
