"""Benchmark: the Dask engine on county-partitioned input against the local engine.

    .venv/bin/python benchmarks/bench_dask.py [N_HOUSEHOLDS] [--workers 2]

Writes N simulated-like households (``score_data.py``: counties of about 5,000 households)
as a data directory partitioned by county, trains a small model on other households, then
runs ``earlywarn score`` on the same directory twice, in subprocesses: the local engine (one
process reads, validates and scores everything) and ``--engine dask`` on a LocalCluster of
``--workers`` single-threaded workers that read their own partitions. Prints for each: wall
time, the client's peak RSS and each worker's (sampled every 0.2 s over the process tree),
the ratio dask / local, and whether the two scores files are byte for byte the same. With
``--dataset`` a third run writes only ``--out-dataset`` (the workers write the county parts,
the client never assembles the whole file): its client peak, and whether the dataset read
back and sorted equals the local file.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.dataset as ds
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench_score import AS_OF, EARLYWARN, train_model
from score_data import simulated_like_tables

from earlywarn.data.directory import write_tables
from earlywarn.model.model_file import save_model


def run_job(args: list[str]) -> tuple[float, float, list[float], str]:
    """Wall seconds, the client's peak RSS (GB), each child process's peak RSS (GB, the
    Dask workers) and stderr's last lines of one ``earlywarn`` subprocess."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(EARLYWARN), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    client = psutil.Process(process.pid)
    peak, children = 0, {}
    while process.poll() is None:
        try:
            peak = max(peak, client.memory_info().rss)
            for child in client.children(recursive=True):
                rss = child.memory_info().rss
                children[child.pid] = max(children.get(child.pid, 0), rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    _, err = process.communicate()
    if process.returncode:
        raise SystemExit(f"earlywarn {' '.join(args)} failed:\n{err[-3000:]}")
    workers = sorted((rss / 1e9 for rss in children.values() if rss > 50e6), reverse=True)
    return seconds, peak / 1e9, workers, "\n".join(err.strip().splitlines()[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="Keep the data and outputs in this folder.")
    parser.add_argument(
        "--dataset", action="store_true", help="Also time the Dask engine writing --out-dataset."
    )
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-dask-"))
    data, model_dir = root / "data", root / "model"
    started = time.perf_counter()
    if not data.exists():
        write_tables(simulated_like_tables(args.n, seed=0), data, partition_by="county")
    if not model_dir.exists():
        save_model(train_model(trees=200, leaves=15, depth=6), model_dir)
    n_parts = len(list((data / "households").iterdir()))
    print(
        f"{args.n:,} households in {n_parts} county partitions, model ready in "
        f"{time.perf_counter() - started:.0f} s; load: {os.getloadavg()[0]:.2f}"
    )
    common = ["score", "--data", str(data), "--as-of", str(AS_OF.date()), "--model",
              str(model_dir), "--no-progress"]  # fmt: skip
    config = root / "config.yaml"
    config.write_text(f"score:\n  n_workers: {args.workers}\n")
    local = run_job([*common, "--out", str(root / "local" / "scores.parquet")])
    dask = run_job(
        [
            *common,
            "--out",
            str(root / "dask" / "scores.parquet"),
            "--engine",
            "dask",
            "--config",
            str(config),
        ]
    )
    same = filecmp.cmp(root / "local" / "scores.parquet", root / "dask" / "scores.parquet", False)
    print(f"local engine: {local[0]:7.1f} s, peak RSS {local[1]:.2f} GB")
    workers = ", ".join(f"{rss:.2f}" for rss in dask[2]) or "-"
    print(
        f"dask engine:  {dask[0]:7.1f} s, client peak RSS {dask[1]:.2f} GB (target < 1), "
        f"workers' peak RSS {workers} GB"
    )
    print(
        f"ratio dask / local: {dask[0] / local[0]:.2f}x (target <= 1.3x); "
        f"scores files byte-identical: {same}; load now: {os.getloadavg()[0]:.2f}"
    )
    if args.dataset:
        folder = root / "dataset" / "scores"
        only = run_job(
            [*common, "--out-dataset", str(folder), "--engine", "dask", "--config", str(config)]
        )
        equal = same_rows(folder, root / "local" / "scores.parquet")
        print(
            f"dask engine, --out-dataset only: {only[0]:7.1f} s, client peak RSS {only[1]:.2f} "
            f"GB, workers' {', '.join(f'{rss:.2f}' for rss in only[2]) or '-'} GB; dataset "
            f"sorted equals the local file: {equal}; load now: {os.getloadavg()[0]:.2f}"
        )


def same_rows(folder: Path, scores_file: Path) -> bool:
    """Whether the dataset, read back and sorted by household id, is the scores file."""
    table = ds.dataset(folder, format="parquet").to_table().sort_by("household_id")
    return table.equals(pq.read_table(scores_file), check_metadata=False)


if __name__ == "__main__":
    main()
