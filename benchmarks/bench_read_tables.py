"""Read + validate of a data directory against a plain pyarrow read of the same files.

    .venv/bin/python benchmarks/bench_read_tables.py [N_HOUSEHOLDS] [--data DIR] [--repeats R]
        [--csv]

Writes N households (default 200,000) of simulated-like tables as Parquet
(``benchmarks/score_data.py``: 10 survey rounds, ~5 events and 0.6 assistance measures per
household) to a temporary directory, or uses ``--data DIR`` as it is, then times, alternating
and keeping the best of R runs each:

- plain pyarrow: ``pyarrow.parquet.read_table`` of every table file (Arrow tables, no checks),
  with its default threads and with one (earlywarn's checks run on one core);
- plain pyarrow + pandas: the same, then ``.to_pandas()`` (what any pandas reader pays);
- earlywarn ``read_tables``: read, parse, every contract rule, canonical dtypes.

and prints the seconds and ``ratio = read_tables / plain pyarrow`` (the aim: <= 3). The
machine's load average is printed beside them: on a shared machine seconds are rough, the
ratio in one run is the figure. ``--csv`` also writes the tables as CSV and compares
``read_tables`` with plain ``pandas.read_csv`` (slow to write at a million households).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from score_data import simulated_like_tables

from earlywarn.data.contract import TABLES
from earlywarn.data.directory import write_tables
from earlywarn.data.schema import read_tables


def best_times(repeats: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The best wall time of each run over ``repeats`` rounds, the runs alternating."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def compare(data_dir: Path, fmt: str, repeats: int) -> None:
    """Time the plain reads and ``read_tables`` on ``data_dir``'s ``fmt`` files; print them."""
    paths = [p for t in TABLES if (p := data_dir / f"{t}.{fmt}").exists()]
    if fmt == "parquet":
        runs: dict[str, Callable[[], object]] = {
            "plain pyarrow": lambda: [pq.read_table(p) for p in paths],
            "plain pyarrow, 1 thread": lambda: [pq.read_table(p, use_threads=False) for p in paths],
            "plain pyarrow + pandas": lambda: [pq.read_table(p).to_pandas() for p in paths],
        }
    else:
        runs = {"plain pandas.read_csv": lambda: [pd.read_csv(p) for p in paths]}
    runs["earlywarn read_tables"] = lambda: read_tables(data_dir)
    best = best_times(repeats, runs)
    tables = read_tables(data_dir)
    plain = next(iter(best.values()))
    print(
        f"{fmt}: {len(tables.households):,} households, {len(tables.household_years):,} "
        f"survey rounds, {len(tables.events):,} events, {len(tables.assistance):,} measures; "
        f"best of {repeats}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name, seconds in best.items():
        print(f"  {name:24s} {seconds:7.2f} s   {seconds / plain:4.2f}x")
    ours = best["earlywarn read_tables"]
    print(f"  ratio read_tables / {next(iter(best))}: {ours / plain:.2f} (aim <= 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("households", nargs="?", type=int, default=200_000)
    parser.add_argument("--data", type=Path, help="an existing data directory to read")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="also compare CSV files")
    args = parser.parse_args()
    if args.data is not None:
        compare(args.data, "parquet", args.repeats)
        return
    tables = simulated_like_tables(args.households)
    with tempfile.TemporaryDirectory(prefix="bench_read_tables.") as folder:
        formats = ("parquet", "csv") if args.csv else ("parquet",)
        for fmt in formats:
            data_dir = write_tables(tables, Path(folder) / fmt, fmt=fmt)  # type: ignore[arg-type]
            compare(data_dir, fmt, args.repeats)


if __name__ == "__main__":
    main()
