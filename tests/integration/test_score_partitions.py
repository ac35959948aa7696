"""Scoring a county-partitioned data directory: Dask workers read their own partitions and the
scores file is byte for byte the local engine's; problems of every partition come at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from earlywarn.config import Config, ScoreConfig
from earlywarn.data.directory import write_tables
from earlywarn.data.partitioned import county_partitions
from earlywarn.jobs.score import run_scoring

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"


@pytest.fixture(scope="module")
def partitioned_dir(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("data") / "d", partition_by="county")


@pytest.mark.parametrize("explain", ["flagged", "all", "none"])
def test_workers_reading_partitions_give_the_local_file(
    partitioned_dir, model_dir, scheduler, tmp_path, explain
):
    assert len(county_partitions(partitioned_dir)) > 1
    cfg = Config(score=ScoreConfig(chunk_size=40))
    local = run_scoring(
        cfg,
        partitioned_dir,
        AS_OF,
        model_dir,
        tmp_path / "l" / "s.parquet",
        explain=explain,
        progress=False,
    )
    dask = run_scoring(
        cfg,
        partitioned_dir,
        AS_OF,
        model_dir,
        tmp_path / "d" / "s.parquet",
        explain=explain,
        scheduler=scheduler,
        progress=False,
    )
    assert dask.out.read_bytes() == local.out.read_bytes()
    assert dask.n_chunks == len(county_partitions(partitioned_dir))  # chunk 40: one each
    assert local.n_flagged > 0


@pytest.mark.parametrize("explain", ["flagged", "all"])
def test_counties_cut_into_household_slices_give_the_local_file(
    partitioned_dir, model_dir, scheduler, tmp_path, monkeypatch, explain
):
    """Every county (about 100 households) above the threshold: slices of about 20
    households each, place rates and village figures gathered first, the same bytes."""
    from earlywarn.scoring import slices

    monkeypatch.setattr(slices, "SLICE_ABOVE", 50)
    cfg = Config(score=ScoreConfig(chunk_size=40))
    local = run_scoring(
        cfg, partitioned_dir, AS_OF, model_dir, tmp_path / "l" / "s.parquet", explain=explain,
        progress=False,
    )  # fmt: skip
    dask = run_scoring(
        cfg, partitioned_dir, AS_OF, model_dir, tmp_path / "d" / "s.parquet", explain=explain,
        scheduler=scheduler, progress=False,
    )  # fmt: skip
    assert dask.n_chunks >= 3 * len(county_partitions(partitioned_dir))  # 5 or 6 slices each
    assert dask.out.read_bytes() == local.out.read_bytes()
    assert local.n_flagged > 0
