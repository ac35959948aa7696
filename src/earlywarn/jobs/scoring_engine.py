"""Where a scoring run's chunks go: in this process or on a Dask cluster whose scheduler is
checked reachable first, the workers reading their own partitions when the data directory is
partitioned by county; and the progress bar, drawn on stderr so that stdout holds results."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

import pyarrow as pa
from rich.console import Console
from rich.progress import Progress

from earlywarn.config import Population
from earlywarn.data.columns import HOUSEHOLDS
from earlywarn.data.mapping import ColumnMapping
from earlywarn.data.partitioned import (
    Location,
    child,
    county_partitions,
    location_text,
    partition_sizes,
)
from earlywarn.errors import SchedulerError
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.chunks import ScoringPlan
from earlywarn.scoring.cluster import (
    PartitionOutputs,
    PartitionScores,
    group_partitions,
    score_partitions,
)
from earlywarn.scoring.partitions import PartitionPlan, worker_identity
from earlywarn.scoring.runner import ChunkRunner, Engine, StageClock, progress_bar
from earlywarn.scoring.work_dir import WorkDir

log = logging.getLogger(__name__)

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


@contextmanager
def client_memory_pool(*, lean: bool) -> Iterator[None]:
    """While ``lean`` (the client of workers that read their own partitions), Arrow
    allocates from the system allocator: its default pool (mimalloc) keeps what was freed,
    and the client's peak is the sum of everything it once read (at 200,000 households the
    client's growth over its libraries was 40 % larger with mimalloc)."""
    if not lean:
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


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


def worker_partitions(data_dir: Location, mapping: ColumnMapping) -> list[str] | None:
    """The county partitions Dask workers read themselves (``county=...``, sorted) when the
    households of ``data_dir`` are a dataset partitioned by county; else None."""
    return county_partitions(data_dir, mapping.file_stem(HOUSEHOLDS))


@dataclass(frozen=True)
class WorkerRun:
    """Where the workers read and how they score: the data directory (a path every worker
    sees), its mapping, the population, households per chunk, the monitoring window, and the
    cluster (a scheduler's address, or a local cluster of ``n_workers``)."""

    data_dir: Location
    mapping: ColumnMapping
    population: Population
    chunk_size: int
    verified_months: int
    scheduler: str | None
    n_workers: int


def score_on_workers(
    partitions: list[str],
    model: RiskModel,
    work: WorkDir,
    plan: ScoringPlan,
    run: WorkerRun,
    outputs: PartitionOutputs,
    *,
    clock: StageClock,
    progress: bool,
) -> tuple[PartitionScores, int]:
    """The partitions gathered into tasks of about half a chunk of households, scored on Dask
    workers (:func:`earlywarn.scoring.cluster.score_partitions`; with a dataset asked for in
    ``outputs``, written by them too); and the number of tasks."""
    parts = PartitionPlan(
        data_dir=location_text(run.data_dir),
        mapping=run.mapping,
        work=work,
        as_of=plan.as_of,
        population=run.population,
        chunk_size=run.chunk_size,
        verified_months=run.verified_months,
        explain=plan.explain != "none",
        identity=worker_identity(),
    )
    folder = child(run.data_dir, run.mapping.file_stem(HOUSEHOLDS))
    sizes = partition_sizes(folder, partitions)
    groups = group_partitions(partitions, sizes, max(1, run.chunk_size // 2))
    log.info(
        "scoring %d county partitions of %s in %d tasks on Dask workers (work dir %s)",
        len(partitions),
        run.data_dir,
        len(groups),
        work.path,
    )
    with (
        chunk_runner("dask", run.scheduler, run.n_workers) as runner,
        on_stderr(progress_bar(progress)) as bar,
    ):
        found = score_partitions(runner, groups, model, plan, parts, outputs, bar=bar, clock=clock)
    return found, len(groups)
