"""Benchmark: counties scored whole or cut into household-range slices on the Dask engine.

    .venv/bin/python benchmarks/bench_slices.py [N_HOUSEHOLDS] [--chunk-size 2000]
        [--slice-above 2500] [--workers 2]

Writes N simulated-like households (``score_data.py``: counties of about 5,000 households)
as a data directory partitioned by county and trains a small model, then scores it in this
process three times: the local engine; the Dask engine with every county one task (the
plain way); the Dask engine with every county above ``--slice-above`` households cut into
slices of about ``chunk_size / 2`` (its place rates and village figures gathered first).
Each Dask run gets its own LocalCluster of ``--workers`` single-threaded worker processes.
Prints wall time, each worker's peak RSS (sampled every 0.2 s), the ratio sliced / whole,
and whether the three scores files are byte for byte the same.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench_score import AS_OF, train_model
from score_data import simulated_like_tables

from earlywarn.config import Config, ScoreConfig
from earlywarn.data.columns import COUNTY
from earlywarn.data.directory import write_tables
from earlywarn.data.tables import Tables
from earlywarn.jobs.score import run_scoring
from earlywarn.model.model_file import save_model
from earlywarn.scoring import slices


def with_peaks(run: Callable[[], object]) -> tuple[float, list[float]]:
    """Wall seconds of ``run()`` and the peak RSS (GB) of each child process meanwhile."""
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, sorted((rss / 1e9 for rss in peaks.values() if rss > 50e6), reverse=True)


def merge_counties(tables: Tables, k: int) -> Tables:
    """Every ``k`` consecutive counties as one (the first one's code, whose lines exist)."""
    county = tables.households[COUNTY]
    codes, names = pd.factorize(county, sort=True)
    merged = np.asarray(names, dtype=object)[(codes // k) * k]
    households = tables.households.assign(**{COUNTY: pd.array(merged, dtype=county.dtype)})
    return replace(tables, households=households)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=2_000)
    parser.add_argument("--slice-above", type=int, default=2_500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--merge-counties", type=int, default=1, help="Gather every K counties into one."
    )
    parser.add_argument("--keep", type=Path, help="Keep the data and outputs in this folder.")
    args = parser.parse_args()
    from dask.distributed import LocalCluster

    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-slices-"))
    data, model_dir = root / "data", root / "model"
    if not data.exists():
        tables = simulated_like_tables(args.n, seed=0)
        write_tables(merge_counties(tables, args.merge_counties), data, partition_by="county")
    if not model_dir.exists():
        save_model(train_model(trees=200, leaves=15, depth=6), model_dir)
    cfg = Config(score=ScoreConfig(chunk_size=args.chunk_size))
    n_parts = len(list((data / "households").iterdir()))
    print(
        f"{args.n:,} households in {n_parts} county partitions; tasks of about "
        f"{args.chunk_size // 2:,} households; load {os.getloadavg()[0]:.2f}"
    )

    def score(name: str, scheduler: str | None = None) -> Callable[[], object]:
        return lambda: run_scoring(
            cfg, data, AS_OF, model_dir, root / name / "scores.parquet",
            scheduler=scheduler, progress=False,
        )  # fmt: skip

    local, _ = with_peaks(score("local"))
    print(f"local engine:            {local:7.1f} s")
    default = slices.SLICE_ABOVE
    results = {}
    for name, threshold in (("whole", 10**12), ("sliced", args.slice_above)):
        slices.SLICE_ABOVE = threshold
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=":0"
        ) as cluster:
            results[name] = with_peaks(score(name, cluster.scheduler_address))
        seconds, peaks = results[name]
        shown = ", ".join(f"{rss:.2f}" for rss in peaks[: args.workers + 1])
        print(f"dask, {name + ' counties:':18s} {seconds:7.1f} s, processes' peak RSS {shown} GB")
    slices.SLICE_ABOVE = default
    same = all(
        filecmp.cmp(root / "local" / "scores.parquet", root / name / "scores.parquet", False)
        for name in results
    )
    print(
        f"sliced / whole: {results['sliced'][0] / results['whole'][0]:.2f}x wall, "
        f"{max(results['sliced'][1]) / max(results['whole'][1]):.2f}x largest worker peak; "
        f"scores files byte-identical to the local engine's: {same}; "
        f"load now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
