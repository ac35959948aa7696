"""Fixtures shared by the integration tests: the tiny model saved as a model folder, a
LocalCluster, and a Dask cluster of separate processes (``dask scheduler``, ``dask worker``),
as an operator starts one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def model_dir(tiny_model, tmp_path_factory) -> Path:
    """The session's tiny model saved as a model folder (once per module)."""
    from earlywarn.model.model_file import save_model

    return save_model(tiny_model, tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of two single-threaded worker processes, shared by a module's runs."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class DaskProcesses:
    """A running scheduler's address and its worker processes by worker name (``w0``, ...)."""

    address: str
    workers: dict[str, subprocess.Popen[bytes]]


@pytest.fixture(scope="module")
def start_dask(tmp_path_factory) -> Iterator[Callable[..., DaskProcesses]]:
    """``start_dask(n_workers, nanny=True)``: a scheduler and ``n_workers`` single-threaded
    workers, each its own process (earlywarn preloaded), once all have joined; every process
    started is stopped when the module's tests are done. ``nanny=False``: the ``dask worker``
    process is the worker itself, so killing it loses the worker for good."""
    from dask.distributed import Client

    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}
    started: list[tuple[subprocess.Popen[bytes], IO[str]]] = []

    def start(n_workers: int, *, nanny: bool = True) -> DaskProcesses:
        address = f"tcp://127.0.0.1:{free_port()}"
        logs = tmp_path_factory.mktemp("cluster")
        common = ["--no-dashboard"]
        worker_flags = [
            "--nthreads",
            "1",
            "--preload",
            "earlywarn.scoring.partitions",  # imports before the first task
            *([] if nanny else ["--no-nanny"]),
        ]
        commands = {
            "scheduler": [
                str(DASK),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
            ],
            **{
                f"w{i}": [str(DASK), "worker", address, "--name", f"w{i}", *worker_flags]
                for i in range(n_workers)
            },
        }
        processes = {}
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("w")
            processes[name] = subprocess.Popen(
                [*command, *common], env=env, stdout=subprocess.DEVNULL, stderr=log
            )
            started.append((processes[name], log))
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(n_workers, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        del processes["scheduler"]
        return DaskProcesses(address, processes)

    try:
        yield start
    finally:
        for process, _ in reversed(started):
            if process.poll() is None:
                process.terminate()
        for process, log in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
            log.close()
