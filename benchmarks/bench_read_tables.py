"""How long reading and validating a data directory takes, against plain pandas reads.

    .venv/bin/python benchmarks/bench_read_tables.py [N_HOUSEHOLDS]

Simulates N households (default 20,000), writes them as Parquet and CSV, then times
``read_tables`` (parse + every contract rule with pandera) and a plain ``pd.read_parquet`` /
``pd.read_csv`` of the same files, and prints the ratio.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from earlywarn.data.contract import TABLES
from earlywarn.data.directory import write_tables
from earlywarn.data.schema import read_tables
from earlywarn.simulator.households import simulate_tables


def best_of(repeats: int, run) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n_households: int) -> None:
    tables = simulate_tables(n_households, seed=0, n_oracle_draws=10).tables
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("parquet", "csv"):
            data_dir = write_tables(tables, Path(folder) / fmt, fmt=fmt)  # type: ignore[arg-type]
            reader = pd.read_parquet if fmt == "parquet" else pd.read_csv
            paths = [data_dir / f"{table}.{fmt}" for table in TABLES]
            plain = best_of(3, lambda p=paths, r=reader: [r(path) for path in p])
            ours = best_of(3, lambda d=data_dir: read_tables(d))
            print(
                f"{fmt:8s} {n_households:,} households, {len(tables.household_years):,} rounds, "
                f"{len(tables.events):,} events: read_tables {ours:.2f} s, plain read "
                f"{plain:.2f} s, ratio {ours / plain:.1f}x"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
