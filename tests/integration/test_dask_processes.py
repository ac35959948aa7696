"""A real cluster: a ``dask scheduler`` and two ``dask worker`` processes score a
county-partitioned data directory, reading their own partitions; the scores file is byte for
byte the local engine's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from earlywarn.config import Config, ScoreConfig
from earlywarn.data.directory import write_tables
from earlywarn.jobs.score import run_scoring
from earlywarn.model.model_file import save_model

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"
DASK = Path(sys.executable).parent / "dask"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each its own process; their address."""
    from dask.distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
    logs = tmp_path_factory.mktemp("cluster")
    common = ["--no-dashboard"]
    preload = ["--preload", "earlywarn.scoring.partitions"]  # imports before the first task
    commands = [
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1]],
        *[
            [str(DASK), "worker", address, "--nthreads", "1", "--name", f"w{i}", *preload]
            for i in range(2)
        ],
    ]
    handles = [(logs / f"{i}.log").open("w") for i in range(len(commands))]
    processes = [
        subprocess.Popen([*command, *common], env=env, stdout=subprocess.DEVNULL, stderr=log)
        for command, log in zip(commands, handles, strict=True)
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process, log in zip(processes, handles, strict=True):
            process.wait(timeout=30)
            log.close()


def test_scheduler_and_two_worker_processes_give_the_local_file(
    tables, tiny_model, cluster, tmp_path
):
    data = write_tables(tables, tmp_path / "data", partition_by="county")
    model = save_model(tiny_model, tmp_path / "model")
    cfg = Config(score=ScoreConfig(chunk_size=60))
    local = run_scoring(cfg, data, AS_OF, model, tmp_path / "l" / "s.parquet", progress=False)
    remote = run_scoring(
        cfg, data, AS_OF, model, tmp_path / "d" / "s.parquet", scheduler=cluster, progress=False
    )
    assert remote.out.read_bytes() == local.out.read_bytes()
    assert remote.n_chunks == 3 and local.n_flagged > 0
