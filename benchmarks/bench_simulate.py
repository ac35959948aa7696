"""How long simulating households takes, and its peak memory.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [--households 100000] [--oracle-draws 200]``

Prints wall and CPU time and peak memory (the process's maximum resident set size) of the
tables alone (no oracle) and of tables plus the oracle's truth, and the ratio of the
vectorised simulator to a plain per-household Python loop (the same monthly step run on one
household at a time, timed on a small sample and scaled).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from earlywarn.simulator.households import simulate_tables
from earlywarn.simulator.month import run_months
from earlywarn.simulator.world import initial_state


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--oracle-draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes for the oracle")
    parser.add_argument("--tables-only", action="store_true", help="skip the oracle's truth")
    args = parser.parse_args()

    started, cpu = time.perf_counter(), time.process_time()
    simulation = simulate_tables(args.households, args.seed, n_oracle_draws=0)
    tables_seconds = time.perf_counter() - started
    tables_cpu = time.process_time() - cpu
    tables_peak = _peak_rss_mb()

    n = args.households
    per_household = _per_household_loop_seconds(50)
    loop_seconds = per_household * n * 12  # 12 years of months, tables only
    print(
        f"households: {n:,}  survey rounds: {len(simulation.tables.household_years):,}  "
        f"events: {len(simulation.tables.events):,}"
    )
    print(
        f"tables (no oracle): {tables_seconds:6.1f} s wall, {tables_cpu:6.1f} s CPU, "
        f"peak resident memory {tables_peak:,.0f} MB"
    )
    print(
        f"plain per-household loop, estimated for the tables: {loop_seconds:,.0f} s "
        f"(vectorised is {loop_seconds / tables_seconds:,.0f}x faster)"
    )
    if args.tables_only:
        return

    started, cpu = time.perf_counter(), time.process_time()
    simulation = simulate_tables(
        args.households, args.seed, n_oracle_draws=args.oracle_draws, workers=args.workers
    )
    total_seconds = time.perf_counter() - started
    total_cpu = time.process_time() - cpu
    print(f"truth rows: {len(simulation.truth):,}")
    print(
        f"tables + truth ({args.oracle_draws} draws, {args.workers} oracle processes): "
        f"{total_seconds:6.1f} s wall, {total_cpu:6.1f} s CPU of the main process, "
        f"peak resident memory {_peak_rss_mb():,.0f} MB (largest oracle process "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
