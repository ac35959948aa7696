"""A cluster that loses a part of itself mid-run: a ``dask worker`` process killed (SIGKILL)
while pass 1 is under way costs only its tasks (the scheduler runs them again on the others;
on single files, chunks whose tables were on the lost worker are sent again), and a client
killed mid-run resumes from the finished partitions; either way the scores file is byte for
byte the local engine's."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from earlywarn.config import Config
from earlywarn.data.directory import write_tables
from earlywarn.data.partitioned import county_partitions
from earlywarn.data.tables import Tables
from earlywarn.jobs.score import run_scoring

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"
CHUNK = 200  # tasks of about 100 households: every county (about 500) is a task of its own
EARLYWARN = str(Path(sys.executable).parent / "earlywarn")
Found = TypeVar("Found")


@pytest.fixture(scope="module")
def cluster(start_dask) -> Any:
    """Four worker processes, no nanny (a killed worker stays dead): each test that loses one
    leaves enough for the next."""
    return start_dask(4, nanny=False)


@dataclass(frozen=True)
class Case:
    """A data directory, the local engine's scores file of it, and the chunks (tasks) a
    Dask run of it has."""

    data_dir: Path
    local_file: bytes
    n_chunks: int


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Tables:
    """3,000 simulated households in 6 counties (no oracle: scoring needs none)."""
    from earlywarn.simulator.households import simulate_tables

    return simulate_tables(n_households=3_000, seed=1, n_oracle_draws=0).tables


def local_case(data_dir: Path, model_dir: Path, out: Path) -> Case:
    cfg = Config()
    result = run_scoring(cfg, data_dir, AS_OF, model_dir, out, chunk_size=CHUNK, progress=False)
    return Case(data_dir, out.read_bytes(), result.n_chunks)


@pytest.fixture(scope="module")
def partitioned(simulated, model_dir, tmp_path_factory) -> Case:
    """County partitions: the workers read their own; one task per county."""
    root = tmp_path_factory.mktemp("partitioned")
    data_dir = write_tables(simulated, root / "d", partition_by="county")
    case = local_case(data_dir, model_dir, root / "local" / "s.parquet")
    return replace(case, n_chunks=len(county_partitions(data_dir) or []))


@pytest.fixture(scope="module")
def single_files(simulated, model_dir, tmp_path_factory) -> Case:
    """One file per table: the client reads them and scatters each chunk's tables."""
    root = tmp_path_factory.mktemp("files")
    data_dir = write_tables(simulated, root / "d")
    return local_case(data_dir, model_dir, root / "local" / "s.parquet")


def finished(out: Path) -> list[Path]:
    """The partitions pass 1 has finished (their chunk file is written last)."""
    return sorted(out.parent.glob(f".{out.name}.work-*/chunk-*.parquet"))


@contextmanager
def scoring_client(
    data_dir: Path, model_dir: Path, out: Path, scheduler: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``earlywarn score --engine dask`` running as its own process (killed on the way out)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        EARLYWARN,
        "score",
        "--data",
        str(data_dir),
        "--as-of",
        AS_OF,
        "--model",
        str(model_dir),
        "--out",
        str(out),
        "--chunk-size",
        str(CHUNK),
        "--engine",
        "dask",
        "--scheduler",
        scheduler,
        "--no-progress",
    ]
    with (out.parent / "client.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=out.parent, stdout=log, stderr=log)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def wait_for(
    found: Callable[[], Found | None],
    client: subprocess.Popen[bytes],
    log: Path,
    what: str,
    timeout: float = 180,
) -> Found:
    """Poll ``found()`` until it gives something, the scoring client still running."""
    deadline = time.monotonic() + timeout
    while (result := found()) is None:
        assert client.poll() is None, f"the client ended before {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)
    return result


@pytest.mark.parametrize("layout", ["partitioned", "single_files"])
def test_a_worker_lost_mid_run_costs_only_its_tasks(cluster, model_dir, tmp_path, layout, request):
    from dask.distributed import Client

    case: Case = request.getfixturevalue(layout)
    assert case.n_chunks >= 6
    out = tmp_path / "d" / "s.parquet"
    log = out.parent / "client.log"
    with (
        Client(cluster.address) as watcher,
        scoring_client(case.data_dir, model_dir, out, cluster.address) as client,
    ):

        def busy_worker() -> str | None:
            """A worker with tasks in hand, once some but not all chunks are done."""
            if not 1 <= len(finished(out)) < case.n_chunks:
                return None
            names = {a: w["name"] for a, w in watcher.scheduler_info()["workers"].items()}
            busy = [names[a] for a, keys in sorted(watcher.processing().items()) if keys]
            return busy[0] if busy else None

        before = len(watcher.scheduler_info()["workers"])
        assert before >= 2
        victim = wait_for(busy_worker, client, log, "chunk done")
        cluster.workers[victim].send_signal(signal.SIGKILL)
        cluster.workers[victim].wait(timeout=30)
        assert len(finished(out)) < case.n_chunks  # lost while pass 1 was under way

        def survivors() -> int | None:
            workers = watcher.scheduler_info()["workers"].values()
            return len(workers) if victim not in {w["name"] for w in workers} else None

        assert wait_for(survivors, client, log, "worker removal") == before - 1
        assert client.wait(timeout=300) == 0, log.read_text()

    assert out.read_bytes() == case.local_file
    meta = json.loads(out.with_name("s.parquet.meta.json").read_text())
    assert (meta["chunks"], meta["chunks_reused"]) == (case.n_chunks, 0)
    assert not list(out.parent.glob(".s.parquet.work-*"))  # nothing half-written left behind


def test_a_client_killed_mid_run_resumes_from_the_finished_partitions(
    cluster, partitioned, model_dir, tmp_path
):
    from dask.distributed import Client

    data_dir, n_tasks = partitioned.data_dir, partitioned.n_chunks
    out = tmp_path / "d" / "s.parquet"
    log = out.parent / "client.log"
    with Client(cluster.address) as watcher:
        with scoring_client(data_dir, model_dir, out, cluster.address) as client:
            wait_for(lambda: finished(out) or None, client, log, "partition done")
            client.send_signal(signal.SIGKILL)
            assert client.wait(timeout=30) == -signal.SIGKILL

        def idle() -> bool | None:
            """The workers have finished what they were running for the killed client."""
            executing = watcher.run(lambda dask_worker: dask_worker.state.executing_count)
            busy = any(executing.values()) or any(watcher.processing().values())
            return None if busy else True

        deadline = time.monotonic() + 60
        while idle() is None:
            assert time.monotonic() < deadline, "the workers never went idle"
            time.sleep(0.1)
    kept = len(finished(out))
    assert not out.exists() and 1 <= kept < n_tasks

    with scoring_client(data_dir, model_dir, out, cluster.address) as client:
        assert client.wait(timeout=300) == 0, log.read_text()
    assert out.read_bytes() == partitioned.local_file
    meta = json.loads(out.with_name("s.parquet.meta.json").read_text())
    assert (meta["chunks"], meta["chunks_reused"]) == (n_tasks, kept)
    assert not list(out.parent.glob(".s.parquet.work-*"))
