"""Where a scoring run's chunks go: in this process or on a Dask cluster whose scheduler is
checked reachable first; and its progress bar, drawn on stderr so that stdout holds results."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from rich.console import Console
from rich.progress import Progress

from earlywarn.errors import SchedulerError
from earlywarn.scoring.runner import ChunkRunner, Engine

SCHEDULER_PROBE_SECONDS = 5.0


def check_scheduler(address: str) -> None:
    """Refuse, within a few seconds, a Dask scheduler that does not answer at ``address``
    (``tcp://host:port``; Dask's own client waits 30 s, then fails deep in a run)."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname:
        return  # another transport: Dask's client says what is wrong
    try:
        with socket.create_connection(
            (parsed.hostname, parsed.port or 8786), timeout=SCHEDULER_PROBE_SECONDS
        ):
            pass
    except OSError as err:
        raise SchedulerError(
            f"Dask scheduler {address} is unreachable ({type(err).__name__}: {err}): start it, "
            "or leave out --scheduler to score on a local cluster; nothing was written"
        ) from err


def chunk_runner(engine: Engine, scheduler: str | None, n_workers: int) -> ChunkRunner:
    """The chunk runner; a scheduler that stops answering while connecting is a
    :class:`SchedulerError`."""
    try:
        return ChunkRunner(engine, scheduler=scheduler, n_workers=n_workers)
    except OSError as err:
        raise SchedulerError(
            f"Dask scheduler {scheduler} did not answer ({type(err).__name__}: {err})"
        ) from err


def on_stderr(bar: Progress) -> Progress:
    """The progress bar drawn on stderr, so that stdout holds only results."""
    bar.live.console = Console(stderr=True)
    return bar
