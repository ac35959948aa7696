"""How long tuning (30 trials) and training take on 100,000 households.

Run: ``.venv/bin/python benchmarks/bench_train.py [--households 100000] [--trials 30]
[--source-households 5000] [--num-threads 1] [--timeout SECONDS]``

With ``--timeout`` the search stops starting trials after that long; the time for all
``--trials`` is then extrapolated from the mean time per finished trial (and says so).

Simulates ``--source-households`` households, stacks the training examples (four as-of dates
per target year, default population) and scales them to a registry of ``--households``
households by drawing whole households of the simulated registry (all their examples, none
for households never in the population) with replacement under new ids, so the number of
examples per registered household stays realistic. Then times, in this process:

- the Optuna search (``--trials`` trials, pruning, early stopping, out-of-time folds),
- the final fit of the chosen parameters and the calibration,
- the plain alternative: one LightGBM fit with default parameters (100 trees, no search),
  and the logistic-regression baseline,

and prints the ratio of tuning + fitting to the plain fit, and the chosen model's
explanation rate (households per second of ``pred_contrib``) against plain predict.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import optuna
import pandas as pd

from earlywarn.config import TuneConfig
from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.features.examples import (
    Examples,
    as_of_dates,
    build_examples,
    labelled_target_years,
    split_out_of_time,
)
from earlywarn.model.baselines import fit_logistic
from earlywarn.model.fit import calibrate, fit_model
from earlywarn.model.search import SearchBounds, explanation_rate, search
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--source-households", type=int, default=5_000)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--num-threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    started = time.perf_counter()
    simulation = simulate_tables(args.source_households, seed=args.seed)
    tables = simulation.tables
    source = build_examples(tables, as_of_dates(labelled_target_years(tables)))
    prepared_seconds = time.perf_counter() - started
    examples = scale_examples(source, tables.households[HOUSEHOLD_ID], args.households, args.seed)
    split = split_out_of_time(examples.keys, n_valid_years=2)
    fit, calibration = examples.take(split.fit), examples.take(split.calibration)
    print(
        f"{args.households:,} households ({args.source_households:,} simulated, resampled): "
        f"{len(examples):,} examples, fit {len(fit):,}, calibration {len(calibration):,}, "
        f"test {len(split.test):,}; simulate + examples {prepared_seconds:.1f} s"
    )

    cfg = TuneConfig(
        n_trials=args.trials,
        seed=args.seed,
        num_threads=args.num_threads,
        timeout_seconds=args.timeout,
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tuning.sqlite3'}"
        started = time.perf_counter()
        tuning = search(
            fit.features,
            fit.labels,
            split.folds,
            cfg,
            storage_url=url,
            study_name="bench",
            bounds=SearchBounds(),
        )
        tune_seconds = time.perf_counter() - started
    states = tuning.history["state"].value_counts().to_dict()
    n_done = len(tuning.history)
    print(
        f"tune: {n_done} trials in {tune_seconds:.1f} s ({states}); chosen trial "
        f"{tuning.chosen_trial}: {tuning.num_boost_round} trees, AP "
        f"{tuning.chosen_value:.4f} (best {tuning.best_value:.4f})"
    )
    if n_done < args.trials:
        tune_seconds = tune_seconds / n_done * args.trials
        print(f"tune {args.trials} trials (extrapolated from {n_done}): {tune_seconds:.0f} s")

    started = time.perf_counter()
    model = fit_model(
        fit.features,
        fit.labels,
        tuning.params,
        seed=args.seed,
        num_threads=args.num_threads,
        num_boost_round=tuning.num_boost_round,
    )
    model = calibrate(model, calibration.features, calibration.labels)
    fit_seconds = time.perf_counter() - started
    print(f"final fit + calibration: {fit_seconds:.1f} s")

    started = time.perf_counter()
    fit_model(
        fit.features,
        fit.labels,
        {},
        seed=args.seed,
        num_threads=args.num_threads,
        num_boost_round=100,
    )
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fit_logistic(fit.features, fit.labels, seed=args.seed)
    logistic_seconds = time.perf_counter() - started
    print(
        f"plain LightGBM fit (defaults, 100 trees): {plain_seconds:.1f} s; logistic "
        f"regression: {logistic_seconds:.1f} s"
    )
    print(f"ratio tune + fit / plain fit: {(tune_seconds + fit_seconds) / plain_seconds:.1f}x")

    X = model.prepare(examples.take(split.test).features)
    rate = explanation_rate(model.booster, X, n_rows=5_000)
    sample = X.iloc[:5_000]
    started = time.perf_counter()
    model.booster.predict(sample, num_threads=args.num_threads)
    predict_rate = len(sample) / (time.perf_counter() - started)
    print(
        f"explanation rate: {rate:,.0f} households/s (pred_contrib, {args.num_threads} "
        f"thread); plain predict {predict_rate:,.0f}/s; ratio {predict_rate / rate:.0f}x"
    )


if __name__ == "__main__":
    main()
