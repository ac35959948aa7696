"""The chunk runner: runs one function over chunks of households, here or on a Dask cluster;
the progress bar a scoring run shows (households per second) and its clock (seconds per
stage)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import pandas as pd
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError

Engine = Literal["local", "dask"]
#: How many times a Dask job cancelled by a lost worker (its data gone with it) is sent again.
RESENDS = 3


class WorkerMismatch(EarlywarnError):
    """A Dask worker runs another earlywarn or feature catalog than the client."""


def describe_identity(identity: Any) -> str:
    """``earlywarn 1.2 (catalog 3f2a...)`` for an identity pair, else its text."""
    if isinstance(identity, tuple | list) and len(identity) == 2:
        return f"earlywarn {identity[0]} (feature catalog {str(identity[1])[:12]})"
    return str(identity)


def worker_mismatch(worker: str, there: Any, here: Any) -> WorkerMismatch:
    """The error for a worker whose identity ``there`` differs from the client's ``here``."""
    return WorkerMismatch(
        f"Dask worker {worker} runs {describe_identity(there)}, the client "
        f"{describe_identity(here)}: install the same earlywarn on every worker"
    )


@dataclass(frozen=True)
class ChunkJob:
    """One call of the runner's function: ``fn(*args, **kwargs)``, its result keyed by ``key``
    (the chunk's number)."""

    key: int
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class ChunkRunner:
    """Runs chunk jobs locally, one after the other, or on a Dask cluster.

    ``engine="dask"`` connects to ``scheduler`` when given, else starts a local cluster of
    ``n_workers`` single-threaded processes (closed with the runner). Use it as a context
    manager, or call :meth:`close`.
    """

    def __init__(self, engine: Engine, *, scheduler: str | None = None, n_workers: int = 2) -> None:
        self.engine = engine
        self.client: Any = None
        self.cluster: Any = None
        if engine == "dask":
            from dask.distributed import Client, LocalCluster  # only when asked for: slow import

            if scheduler:
                self.client = Client(scheduler)
            else:
                self.cluster = LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=":0",
                    processes=True,
                    env={"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"},
                )
                self.client = Client(self.cluster)

    def __enter__(self) -> ChunkRunner:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def broadcast(self, value: Any) -> Any:
        """``value`` as every job should receive it: on Dask, a task that holds it (each worker
        fetches it once). Not scattered: scattered data lost with a worker cannot be made
        again, and every job needing it would be cancelled; the task is rerun instead."""
        if self.client is None:
            return value
        return self.client.submit(_held, value, pure=False)

    def run(self, fn: Callable[..., Any], jobs: Iterable[ChunkJob]) -> Iterator[tuple[int, Any]]:
        """Yield ``(job.key, fn(*job.args, **job.kwargs))`` for each job, as they finish.

        ``jobs`` is consumed lazily: locally one job at a time, on Dask at most ``2 x workers``
        (counted as jobs finish) ahead of the results taken; frames and tables among a job's
        arguments travel with it. So a caller that builds each job's data only when asked keeps
        memory bounded by chunks.
        """
        if self.client is None:
            for job in jobs:
                yield job.key, fn(*job.args, **job.kwargs)
            return
        yield from self._run_on_dask(fn, iter(jobs))

    def _run_on_dask(
        self, fn: Callable[..., Any], pending: Iterator[ChunkJob]
    ) -> Iterator[tuple[int, Any]]:
        """Keep ``2 x workers`` jobs in flight, counting the workers again as each job
        finishes: a worker that joins mid-run gets work; one that is lost costs only its jobs
        (the scheduler runs them again elsewhere; a job whose frames were scattered to the
        lost worker is cancelled by Dask, so it is sent again from the copy kept here until
        it finishes, up to :data:`RESENDS` times)."""
        from dask.distributed import as_completed
        from distributed.client import FutureCancelledError

        client = self.client
        in_flight: dict[str, ChunkJob] = {}
        sends: dict[int, int] = {}

        def sent(value: Any) -> Any:
            return (
                client.scatter(value, hash=False)
                if isinstance(value, pd.DataFrame | Tables)
                else value
            )

        def submit(job: ChunkJob) -> Any:
            args = tuple(sent(a) for a in job.args)
            kwargs = {name: sent(value) for name, value in job.kwargs.items()}
            future = client.submit(fn, *args, **kwargs, pure=False)
            in_flight[str(future.key)] = job
            sends[job.key] = sends.get(job.key, 0) + 1
            return future

        def refill(running: Any) -> None:
            limit = self.capacity()
            while len(in_flight) < limit:
                following = next(pending, None)
                if following is None:
                    return
                running.add(submit(following))

        running = as_completed([])
        refill(running)
        for future in running:
            job = in_flight.pop(str(future.key))
            try:
                result = future.result()
            except FutureCancelledError:
                if sends[job.key] > RESENDS:
                    raise
                future.release()  # its scattered data (or its result) were lost with a worker
                running.add(submit(job))
                continue
            future.release()
            refill(running)
            yield job.key, result

    def capacity(self) -> int:
        """Jobs to keep in flight: two per worker connected now (at least two)."""
        if self.client is None:
            return 1
        return 2 * max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def check_workers(self, identity: Callable[[], Any]) -> None:
        """Refuse to start when a worker's ``identity()`` (e.g. its earlywarn version and
        feature catalog) differs from this process's: a :class:`WorkerMismatch` naming it."""
        if self.client is None:
            return
        here = identity()
        for worker, there in sorted(self.client.run(identity).items()):
            if there != here:
                raise worker_mismatch(worker, there, here)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None


def _held(value: Any) -> Any:
    """What :meth:`ChunkRunner.broadcast` hands to the jobs on a worker."""
    return value


class HouseholdsPerSecond(ProgressColumn):
    """The speed of a task counted in households."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} households/s" if speed else "- households/s")


def progress_bar(enabled: bool) -> Progress:
    """A Rich progress bar for households (hidden when not ``enabled``)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        HouseholdsPerSecond(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


def advance_by_households(
    bar: Progress, task: TaskID, *, delay: float = 0.0
) -> Callable[[int], None]:
    """A callback moving ``task`` on by a finished chunk's households (then waiting ``delay``
    seconds: tests use it to kill a run part-way)."""

    def advance(n_households: int) -> None:
        bar.advance(task, n_households)
        if delay:
            time.sleep(delay)

    return advance


class StageClock:
    """Seconds spent per stage of a run (``seconds``, rounded to ms) and in all."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Add the time since the last lap (or the start) to ``stage``."""
        now = time.perf_counter()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self._last, 3)
        self._last = now

    def total(self) -> float:
        return time.perf_counter() - self.started
