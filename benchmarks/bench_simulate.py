"""How long simulating households takes, its peak memory, and the oracle's truth before/after.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [--households 100000] [--workers 2]``

Prints wall and CPU time and peak memory (the process's maximum resident set size) of the
tables alone (no oracle), the ratio of the vectorised simulator to a plain per-household
Python loop (the same monthly step run on one household at a time, timed on a small sample and
scaled), and the oracle's truth two ways on the same households and seeds:

- before: the plain Monte Carlo count over ``--before-draws`` draws (200), each month stepped
  by NumPy (``run_months``): ``estimator="count", engine="numpy"``;
- after: the kernel-smoothed share over ``--after-draws`` draws (100), each month stepped by
  the compiled loop (``estimator="kernel", engine="compiled"``), the worker processes' start
  included: loading the loop's machine code from Numba's on-disk cache, or compiling it (about
  10 CPU-s per process) the first time; ``NUMBA_CACHE_DIR=$(mktemp -d)`` measures a cold cache.

For each: wall time, CPU time (this process and its oracle processes), the machine's load (the
1-minute load average at the end: the machine may be shared), mean oracle probability
against the realised rate, and the oracle's ROC-AUC and average precision against the realised
outcomes. The truth's as-of states are captured from one ``simulate_tables`` run and both
oracles run over them exactly as ``simulate_tables`` would (same seeds, chunks, processes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from earlywarn.simulator.month import run_months
from earlywarn.simulator.oracle import Engine, Estimator, poverty_probability
from earlywarn.simulator.world import initial_state

# scikit-learn, the simulator's tables and its realism checks are imported where used: the
# oracle's spawned processes import this module as their __main__ and need none of them
# (importing them cost each process several CPU-seconds)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _per_household_loop_seconds(n_sample: int) -> float:
    """One year of months run household by household (the plain alternative), per household."""
    rng = np.random.default_rng(0)
    state = initial_state(
        np.zeros(n_sample, np.int64), np.full(n_sample, 50), np.full(n_sample, 7), rng
    )
    started = time.perf_counter()
    for row in range(n_sample):
        run_months(state.take(np.array([row])), 2014, 1, 12, rng, n_counties=1)
    return (time.perf_counter() - started) / n_sample


@contextmanager
def _capturing_oracle_inputs() -> Iterator[list[tuple[Any, ...]]]:
    """While open, ``simulate_tables`` records each as-of state's oracle call instead of
    running it (its truth then holds zeros; its ``poor`` column is still true)."""
    import earlywarn.simulator.households as households

    calls: list[tuple[Any, ...]] = []
    original = households.poverty_probability

    def record(state, year, first_month, n_draws, seed, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((state, year, first_month, seed, kwargs["n_counties"], kwargs["settings"]))
        return np.zeros(len(state))

    households.poverty_probability = record  # type: ignore[assignment]
    try:
        yield calls
    finally:
        households.poverty_probability = original


@dataclass(frozen=True)
class OracleRun:
    wall: float
    cpu: float
    load: float
    probability: np.ndarray


def _run_oracle(
    calls: list[tuple[Any, ...]], n_draws: int, estimator: Estimator, engine: Engine, workers: int
) -> OracleRun:
    started, cpu = time.perf_counter(), _cpu_seconds()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as executor:
        parts = [
            poverty_probability(
                state,
                year,
                month,
                n_draws,
                seed,
                n_counties=n_counties,
                settings=settings,
                executor=executor,
                estimator=estimator,
                engine=engine,
            )
            for state, year, month, seed, n_counties, settings in calls
        ]
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    return OracleRun(wall, cpu, os.getloadavg()[0], np.concatenate(parts))


def _report(name: str, run: OracleRun, poor: np.ndarray) -> None:
    from sklearn.metrics import average_precision_score

    from earlywarn.simulator.realism import roc_auc

    mean, rate = run.probability.mean(), poor.mean()
    print(
        f"{name}: {run.wall:6.1f} s wall, {run.cpu:6.1f} s CPU (load {run.load:.1f}); "
        f"mean probability {mean:.5f} "
        f"vs realised rate {rate:.5f} ({mean / rate - 1:+.2%}); ROC-AUC "
        f"{roc_auc(poor, run.probability):.4f}, AP "
        f"{average_precision_score(poor, run.probability):.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes for the oracle")
    parser.add_argument("--before-draws", type=int, default=200)
    parser.add_argument("--after-draws", type=int, default=100)
    parser.add_argument("--skip-before", action="store_true", help="only the new oracle")
    parser.add_argument("--tables-only", action="store_true", help="skip the oracle's truth")
    args = parser.parse_args()
    import earlywarn.simulator.households as households
    from earlywarn.simulator.realism import roc_auc

    started, cpu = time.perf_counter(), time.process_time()
    with _capturing_oracle_inputs() as calls:
        simulation = households.simulate_tables(args.households, args.seed, n_oracle_draws=1)
    tables_seconds = time.perf_counter() - started
    tables_cpu = time.process_time() - cpu
    n = args.households
    loop_seconds = _per_household_loop_seconds(50) * n * 12  # 12 years of months
    print(
        f"households: {n:,}  survey rounds: {len(simulation.tables.household_years):,}  "
        f"events: {len(simulation.tables.events):,}"
    )
    print(
        f"tables (no oracle): {tables_seconds:6.1f} s wall, {tables_cpu:6.1f} s CPU, "
        f"peak resident memory {_peak_rss_mb():,.0f} MB"
    )
    print(
        f"plain per-household loop, estimated for the tables: {loop_seconds:,.0f} s "
        f"(vectorised is {loop_seconds / tables_seconds:,.0f}x faster)"
    )
    if args.tables_only:
        return
    poor = simulation.truth["poor"].to_numpy(bool)
    print(f"truth rows: {len(poor):,} ({len(calls)} as-of dates), {args.workers} processes")
    after = _run_oracle(calls, args.after_draws, "kernel", "compiled", args.workers)
    _report(f"after  (kernel, compiled, {args.after_draws} draws)", after, poor)
    if args.skip_before:
        return
    before = _run_oracle(calls, args.before_draws, "count", "numpy", args.workers)
    _report(f"before (count, numpy, {args.before_draws} draws)", before, poor)
    print(
        f"after / before: wall {after.wall / before.wall:.2f}, CPU {after.cpu / before.cpu:.2f}; "
        f"ROC-AUC {roc_auc(poor, after.probability) - roc_auc(poor, before.probability):+.4f}"
    )


if __name__ == "__main__":
    main()
