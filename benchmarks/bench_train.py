"""Tuning before and after: wall time and test-year AP of the old and the new search.

Run: ``.venv/bin/python benchmarks/bench_train.py [--households 100000] [--trials 30]
[--search both|old|new] [--negative-share S] [--as-of-months 1,7] [--num-threads 1]
[--timeout SECONDS] [--cache FILE]``

Simulates ``--source-households`` households, stacks the training examples (four as-of dates
per target year, default population) and scales them to a registry of ``--households``
households by drawing whole households of the simulated registry (all their examples, none
for households never in the population) with replacement under new ids, so the number of
examples per registered household stays realistic (``--cache`` keeps them in a pickle for
the next run). Then, for each search asked for:

- **old**: what ``earlywarn train`` did before: every trial runs ``lgb.cv`` on the fitting
  examples, binning them again;
- **new**: :func:`earlywarn.model.search.search`: binned once, the folds train on
  ``--negative-share`` of the non-poor households (weighted up) at ``--as-of-months``;

both with the same study settings (TPE seed, pruner, early stopping, folds). Each prints
its wall time, trials (complete/pruned), the chosen trial, and the **test-year AP** of the
model fitted on all fitting examples with the chosen parameters (the test year is used for
nothing else). With ``--timeout`` each search stops starting trials after that long and its
time for all ``--trials`` is extrapolated from its mean time per trial (said so); its test
AP is then not measured, and the values of the trials both searches ran are compared
instead (with ``--negative-share 1``, equal values: the same study, so the same model).
Ends with the ratio of wall times. ``--num-threads 2``: the new search trains its two folds
side by side (one thread each), the old one gives LightGBM two threads.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from optuna_integration import LightGBMPruningCallback
from sklearn.metrics import average_precision_score

from earlywarn.config import TuneConfig
from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.features.examples import (
    Examples,
    Split,
    as_of_dates,
    build_examples,
    labelled_target_years,
    split_out_of_time,
)
from earlywarn.model.fit import fit_model
from earlywarn.model.search import (
    BEST_ITERATION,
    LGB_METRIC,
    SearchBounds,
    TuneResult,
    open_study,
    search,
    suggest_params,
    summarize_study,
    trial_params,
)
from earlywarn.model.search_data import Folds
from earlywarn.simulator.households import simulate_tables


def scale_examples(
    examples: Examples, registry: pd.Series, n_households: int, seed: int
) -> Examples:
    """Draw ``n_households`` households of the registry with replacement (new ids), each with
    all its examples (none if it was never in the population)."""
    rng = np.random.default_rng(seed)
    ids = examples.keys[HOUSEHOLD_ID].to_numpy()
    groups = pd.Series(np.arange(len(ids))).groupby(ids).indices
    none = np.empty(0, dtype=np.int64)
    names = registry.astype(str).to_numpy()
    drawn = rng.choice(len(names), size=n_households, replace=True)
    rows = [groups.get(names[i], none) for i in drawn]
    positions = np.concatenate(rows)
    new_ids = np.concatenate([np.full(len(r), f"S{k:07d}") for k, r in enumerate(rows)])
    scaled = examples.take(positions)
    keys = scaled.keys.assign(**{HOUSEHOLD_ID: pd.array(new_ids, dtype="str")})
    order = np.lexsort((keys[HOUSEHOLD_ID].to_numpy(), keys["as_of"].to_numpy()))
    return Examples(
        features=scaled.features.iloc[order].reset_index(drop=True),
        labels=scaled.labels.iloc[order].reset_index(drop=True),
        keys=keys.iloc[order].reset_index(drop=True),
    )


def prepared_examples(args: argparse.Namespace) -> Examples:
    """The scaled examples, from ``--cache`` when it holds them for these arguments."""
    key = (args.households, args.source_households, args.seed)
    if args.cache is not None and args.cache.exists():
        cached_key, examples = pickle.loads(args.cache.read_bytes())
        if cached_key == key:
            return examples
    started = time.perf_counter()
    tables = simulate_tables(args.source_households, seed=args.seed).tables
    source = build_examples(tables, as_of_dates(labelled_target_years(tables)))
    examples = scale_examples(source, tables.households[HOUSEHOLD_ID], args.households, args.seed)
    print(f"simulate + examples {time.perf_counter() - started:.1f} s")
    if args.cache is not None:
        args.cache.write_bytes(pickle.dumps((key, examples)))
    return examples


def old_objective(
    trial: optuna.trial.Trial,
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    cfg: TuneConfig,
    bounds: SearchBounds,
) -> float:
    """The trial as it was: ``lgb.cv`` on a Dataset of ``X`` built (binned) in every trial."""
    params = {**trial_params(cfg), **suggest_params(trial, bounds.max_boost_rounds)}
    rounds = params.pop("num_boost_round")
    metric = LGB_METRIC[cfg.metric]
    callbacks = [
        lgb.early_stopping(bounds.early_stopping_rounds, verbose=False),
        LightGBMPruningCallback(trial, metric, valid_name="valid"),
    ]
    history = lgb.cv(
        params,
        lgb.Dataset(X, label=np.asarray(y, dtype=float), free_raw_data=False),
        num_boost_round=rounds,
        folds=list(folds),
        stratified=False,
        shuffle=False,
        seed=cfg.seed,
        callbacks=callbacks,
    )
    curve = np.asarray(history[f"valid {metric}-mean"])
    best_iteration = int(np.nanargmax(curve)) + 1
    trial.set_user_attr(BEST_ITERATION, best_iteration)
    return float(curve[best_iteration - 1])


def old_search(
    X: pd.DataFrame, y: pd.Series, folds: Folds, cfg: TuneConfig, url: str, timeout: float | None
) -> TuneResult:
    """The same study as :func:`search` opens, optimised with :func:`old_objective`."""
    study = open_study(cfg, storage_url=url, study_name="old")
    bounds = SearchBounds()
    study.optimize(
        lambda trial: old_objective(trial, X, y, folds, cfg, bounds),
        n_trials=cfg.n_trials,
        timeout=timeout,
        gc_after_trial=False,
    )
    return summarize_study(study, tolerance=bounds.size_tolerance, metric=cfg.metric)


@dataclass(frozen=True)
class Measured:
    """One search: its result, wall time (for all trials, maybe extrapolated) and test AP."""

    tuning: TuneResult
    seconds: float
    extrapolated: bool
    test_ap: float | None


def test_year_ap(
    tuning: TuneResult, fit: Examples, test: Examples, num_threads: int, seed: int
) -> tuple[float, float]:
    """Seconds to fit the chosen parameters on every fitting example, and the test-year AP."""
    started = time.perf_counter()
    model = fit_model(
        fit.features,
        fit.labels,
        tuning.params,
        seed=seed,
        num_threads=num_threads,
        num_boost_round=tuning.num_boost_round,
    )
    seconds = time.perf_counter() - started
    risk = model.predict_log_odds(test.features)
    return seconds, float(average_precision_score(test.labels.to_numpy(dtype=float), risk))


def run_search(
    kind: str, examples: Examples, split: Split, cfg: TuneConfig, timeout: float | None
) -> Measured:
    """Time one search (old or new) and measure its model on the test year."""
    fit, test = examples.take(split.fit), examples.take(split.test)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tuning.sqlite3'}"
        started = time.perf_counter()
        if kind == "old":
            tuning = old_search(fit.features, fit.labels, split.folds, cfg, url, timeout)
        else:
            tuning = search(
                fit.features,
                fit.labels,
                split.folds,
                cfg,
                storage_url=url,
                study_name="new",
                timeout=timeout,
                households=fit.keys[HOUSEHOLD_ID].to_numpy(),
                months=pd.DatetimeIndex(fit.keys["as_of"]).month.to_numpy(),
            )
        seconds = time.perf_counter() - started
    history = tuning.history
    n_done = int(history["state"].isin(["COMPLETE", "PRUNED"]).sum())
    states = history["state"].value_counts().to_dict()
    print(
        f"{kind} search: {n_done} trials in {seconds:.1f} s ({states}); chosen trial "
        f"{tuning.chosen_trial}: {tuning.num_boost_round} trees, validation AP "
        f"{tuning.chosen_value:.4f} (best {tuning.best_value:.4f})",
        flush=True,
    )
    columns = ["number", "state", "value", BEST_ITERATION, "duration_seconds"]
    print(history[columns].round(5).to_string(index=False), flush=True)
    extrapolated = n_done < cfg.n_trials
    if extrapolated:
        seconds = seconds / max(n_done, 1) * cfg.n_trials
        print(f"{kind} search, {cfg.n_trials} trials extrapolated from {n_done}: {seconds:.0f} s")
        return Measured(tuning, seconds, True, None)
    fit_seconds, ap = test_year_ap(tuning, fit, test, cfg.num_threads, cfg.seed)
    print(
        f"{kind} search: test-year ({split.test_year}) AP {ap:.4f} (final fit {fit_seconds:.1f} s)",
        flush=True,
    )
    return Measured(tuning, seconds, False, ap)


def compare(old: Measured, new: Measured) -> None:
    """The ratio of wall times, and the test APs or the trials both searches ran."""
    print(f"old / new search wall time: {old.seconds / new.seconds:.2f}x")
    if old.test_ap is not None and new.test_ap is not None:
        print(f"test-year AP new - old: {new.test_ap - old.test_ap:+.4f}")
        return
    both = old.tuning.history.merge(new.tuning.history, on="number", suffixes=("_old", "_new"))
    both = both[(both["state_old"] == "COMPLETE") & (both["state_new"] == "COMPLETE")]
    gap = (both["value_old"] - both["value_new"]).abs().max() if len(both) else float("nan")
    print(f"trials both completed: {len(both)}; largest difference in value: {gap:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--source-households", type=int, default=5_000)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--search", choices=["both", "old", "new"], default="both")
    defaults = TuneConfig()
    parser.add_argument("--negative-share", type=float, default=defaults.negative_share)
    parser.add_argument("--as-of-months", type=str, default=None, help="e.g. 1,7; default: all")
    parser.add_argument("--num-threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    examples = prepared_examples(args)
    split = split_out_of_time(examples.keys, n_valid_years=2)
    print(
        f"{args.households:,} households ({args.source_households:,} simulated, resampled): "
        f"{len(examples):,} examples, fit {len(split.fit):,}, calibration "
        f"{len(split.calibration):,}, test {len(split.test):,}; {args.num_threads} thread(s); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    new_cfg = TuneConfig(
        n_trials=args.trials,
        seed=args.seed,
        num_threads=args.num_threads,
        negative_share=args.negative_share,
        as_of_months=(
            tuple(int(m) for m in args.as_of_months.split(","))
            if args.as_of_months
            else defaults.as_of_months
        ),
    )
    old_cfg = TuneConfig(n_trials=args.trials, seed=args.seed, num_threads=args.num_threads)
    print(
        f"new search: negative_share {new_cfg.negative_share}, as_of_months {new_cfg.as_of_months}"
    )
    old = (
        run_search("old", examples, split, old_cfg, args.timeout)
        if args.search in ("both", "old")
        else None
    )
    new = (
        run_search("new", examples, split, new_cfg, args.timeout)
        if args.search in ("both", "new")
        else None
    )
    if old is not None and new is not None:
        compare(old, new)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
