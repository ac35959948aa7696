"""Benchmark: point-in-time features for a million households, vectorised vs plain pandas.

    .venv/bin/python benchmarks/bench_features.py [--households 1000000] [--plain-sample 2000]

Input: ``score_data.simulated_like_tables`` (contract-shaped, drawn with numpy): 1,000,000
households x 10 survey rounds (2015-2024, ~5% missing, ~9.5 M rows), ~5 M events, ~0.6 M
assistance spells. It is generated once in a child process and cached as Parquet under
/tmp, so this process's peak memory (``ru_maxrss``) covers reading the input plus building
the features, not generating them.

Measured in this one process: reading the Parquet tables, ``build_features`` for every
household as of one date (time, peak RSS), then the plain per-household pandas version
(``plain_features.plain_build_features``: ``groupby().apply`` per household) on two random
subsamples (a quarter of --plain-sample, then --plain-sample households): the difference
gives the cost per household, extrapolated linearly to all households plus the fixed cost,
and the ratio of wall times. The subsample's features are also compared with the vectorised
ones. Wall time depends on the machine's load, so CPU time and the load average are printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # plain_features, the plain path

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, VILLAGE  # noqa: E402
from earlywarn.data.tables import Tables  # noqa: E402
from earlywarn.features.build import build_features  # noqa: E402
from earlywarn.features.catalog import FEATURE_NAMES  # noqa: E402
from plain_features import plain_build_features  # noqa: E402

TABLES = ("households", "household_years", "events", "assistance", "lines")


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def current_rss_gb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3


def generate(n_households: int, folder: Path) -> None:
    """Draw the tables and write them as Parquet (run in a child process)."""
    from score_data import simulated_like_tables

    tables = simulated_like_tables(n_households, seed=0)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        getattr(tables, name).to_parquet(folder / f"{name}.parquet", index=False)


def read(folder: Path) -> Tables:
    return Tables(**{name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--plain-sample", type=int, default=2_000)
    parser.add_argument("--as-of", default="2025-03-01")
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_into:
        generate(args.households, args.generate_into)
        return

    folder = Path(f"/tmp/earlywarn-bench-features-{args.households}")
    if not (folder / "lines.parquet").exists():
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--households",
                str(args.households),
                "--generate-into",
                str(folder),
            ],
            check=True,
        )
        print(
            f"generated input into {folder} in {time.perf_counter() - started:.0f} s "
            "(child process, cached)"
        )

    started = time.perf_counter()
    tables = read(folder)
    read_seconds = time.perf_counter() - started
    gc.collect()
    rss_input, peak_reading = current_rss_gb(), peak_rss_gb()
    print(
        f"input: {len(tables.households):,} households, {len(tables.household_years):,} "
        f"survey rounds, {len(tables.events):,} events, {len(tables.assistance):,} "
        f"assistance spells; read in {read_seconds:.1f} s, RSS {rss_input:.2f} GB "
        f"(peak while reading {peak_reading:.2f} GB)"
    )

    as_of = pd.Timestamp(args.as_of)
    everyone = pd.Index(tables.households[HOUSEHOLD_ID], name=HOUSEHOLD_ID)
    started, cpu_started = time.perf_counter(), time.process_time()
    features = build_features(tables, as_of=as_of, households=everyone)
    fast_seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_rss_gb()
    print(
        f"vectorised build_features as of {as_of.date()}: {len(features):,} households x "
        f"{len(FEATURE_NAMES)} features in {fast_seconds:.1f} s wall, {cpu_seconds:.1f} s CPU "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); process peak "
        f"RSS {peak:.2f} GB (input + features), of which input {rss_input:.2f} GB"
    )

    started = time.perf_counter()
    default = build_features(tables, as_of=as_of)
    print(
        f"  same, default population ({len(default):,} households, incl. selecting it): "
        f"{time.perf_counter() - started:.1f} s"
    )
    del default

    rng = np.random.default_rng(0)
    sample = pd.Index(
        rng.choice(everyone.to_numpy(), args.plain_sample, replace=False), name=HOUSEHOLD_ID
    )
    small = sample[: max(len(sample) // 4, 1)]
    started = time.perf_counter()
    plain_build_features(tables, as_of=as_of, households=small)
    small_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plain = plain_build_features(tables, as_of=as_of, households=sample)
    plain_seconds = time.perf_counter() - started
    per_household = max(plain_seconds - small_seconds, 0.0) / (len(sample) - len(small))
    fixed = max(plain_seconds - per_household * len(sample), 0.0)
    plain_all = fixed + per_household * len(everyone)
    print(
        f"plain per-household pandas (groupby().apply) on random subsamples of {len(small):,} "
        f"and {len(sample):,} households: {small_seconds:.1f} s and {plain_seconds:.1f} s, "
        f"i.e. {fixed:.1f} s fixed + {per_household * 1000:.1f} ms per household; "
        f"extrapolated linearly to {len(everyone):,} households: {plain_all:,.0f} s "
        f"({plain_all / 3600:.1f} h)"
    )

    numeric = [name for name in FEATURE_NAMES if name not in (COUNTY, VILLAGE)]
    ours = features.loc[sample, numeric].to_numpy(dtype=float)
    theirs = plain.loc[sample, numeric].to_numpy(dtype=float)
    same = np.isclose(ours, theirs, rtol=1e-9, atol=1e-9, equal_nan=True)
    print(
        f"subsample check: {same.mean():.6%} of {same.size:,} values equal to the plain "
        f"version ({int((~same).sum())} differ)"
    )
    print(
        f"speed-up, vectorised vs plain (extrapolated, wall time in this process): "
        f"{plain_all / fast_seconds:,.0f}x"
    )
    aims = {
        "under 20 s": fast_seconds < 20,
        "under 4 GB": peak < 4,
        "at least 5x faster": plain_all / fast_seconds >= 5,
    }
    print("aims: " + ", ".join(f"{aim} {'met' if ok else 'NOT met'}" for aim, ok in aims.items()))


if __name__ == "__main__":
    main()
