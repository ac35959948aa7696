"""A real cluster: a ``dask scheduler`` and two ``dask worker`` processes score a
county-partitioned data directory, reading their own partitions; the scores file is byte for
byte the local engine's."""

from __future__ import annotations

import pytest

from earlywarn.config import Config, ScoreConfig
from earlywarn.data.directory import write_tables
from earlywarn.jobs.score import run_scoring
from earlywarn.model.model_file import save_model

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"


@pytest.fixture(scope="module")
def cluster(start_dask) -> str:
    """A scheduler and two single-threaded workers, each its own process; their address."""
    return start_dask(2).address


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
