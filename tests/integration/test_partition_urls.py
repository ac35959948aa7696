"""Dask workers read their county partitions from an fsspec URL (``memory://``, ``file://``) as
from a shared folder: the same scores (monitoring status included), reasons and drift counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from earlywarn.config import Config
from earlywarn.data.columns import HOUSEHOLDS
from earlywarn.data.directory import write_tables
from earlywarn.data.mapping import DEFAULT_MAPPING
from earlywarn.data.partitioned import child, county_partitions, partition_sizes
from earlywarn.explain.glossary import load_glossary
from earlywarn.scoring.chunks import ReasonTexts, ScoringPlan
from earlywarn.scoring.cluster import (
    PartitionOutputs,
    PartitionScores,
    group_partitions,
    score_partitions,
)
from earlywarn.scoring.partitions import PartitionPlan, worker_identity
from earlywarn.scoring.runner import ChunkRunner, StageClock, progress_bar
from earlywarn.scoring.work_dir import WorkDir

pytestmark = pytest.mark.slow

AS_OF = pd.Timestamp("2024-03-01")
CHUNK = 60


@pytest.fixture(scope="module")
def local_dir(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("data") / "d", partition_by="county")


@pytest.fixture(scope="module")
def memory_url(local_dir) -> Iterator[str]:
    fs = fsspec.filesystem("memory")
    root = f"/earlywarn-{uuid.uuid4().hex}"
    fs.put(str(local_dir), root, recursive=True)
    yield f"memory://{root}"
    fs.rm(root, recursive=True)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Workers as threads of this process: they see its in-memory filesystem."""
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def score_at(location: str, model, out: Path, scheduler: str) -> PartitionScores:
    """The partition path as ``earlywarn score --engine dask`` runs it, reading ``location``."""
    cfg = Config()
    plan = ScoringPlan(
        as_of=AS_OF,
        explain="flagged",
        texts=ReasonTexts(load_glossary(), cfg.report.lang, cfg.score.n_reasons, cfg.rule),
        policy_cfg=cfg.policy,
    )
    parts = PartitionPlan(
        data_dir=location,
        mapping=DEFAULT_MAPPING,
        work=WorkDir.open(out, "k" * 16),
        as_of=AS_OF,
        population=cfg.data.population,
        chunk_size=CHUNK,
        verified_months=cfg.monitoring.verified_months,
        explain=True,
        identity=worker_identity(),
    )
    partitions = county_partitions(location) or []
    sizes = partition_sizes(child(location, HOUSEHOLDS), partitions)
    groups = group_partitions(partitions, sizes, CHUNK // 2)
    with ChunkRunner("dask", scheduler=scheduler) as runner, progress_bar(False) as bar:
        return score_partitions(
            runner, groups, model, plan, parts, PartitionOutputs(None), bar=bar, clock=StageClock()
        )


def test_workers_read_partitions_from_a_url_as_from_a_folder(
    local_dir, memory_url, tiny_model, scheduler, tmp_path
):
    expected = score_at(str(local_dir), tiny_model, tmp_path / "a" / "s.parquet", scheduler)
    assert expected.scores["flagged"].any() and len(county_partitions(local_dir) or []) > 1
    for i, url in enumerate([memory_url, f"file://{local_dir}"]):
        found = score_at(url, tiny_model, tmp_path / f"u{i}" / "s.parquet", scheduler)
        pd.testing.assert_frame_equal(found.scores, expected.scores)
        assert found.counts == expected.counts
        assert found.reasons is not None and expected.reasons is not None
        assert found.reasons.equals(expected.reasons)


def test_the_score_command_takes_a_url(local_dir, memory_url, tiny_model, scheduler, tmp_path):
    """``earlywarn score --data URL`` (the workers threads of this process, so they see its
    in-memory filesystem): the same bytes as from the folder, the URL kept as given, and the
    input fingerprinted through the URL's filesystem (a rerun on changed data reuses nothing)."""
    import json

    from typer.testing import CliRunner

    from earlywarn.cli import app
    from earlywarn.jobs.audit import table_fingerprints
    from earlywarn.model.model_file import save_model

    model = save_model(tiny_model, tmp_path / "model")

    def score(data: str, name: str) -> Path:
        out = tmp_path / name / "scores.parquet"
        args = ["score", "--data", data, "--as-of", str(AS_OF.date()), "--model", str(model)]
        args += ["--out", str(out), "--scheduler", scheduler, "--no-progress"]
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output
        return out

    expected = score(str(local_dir), "folder").read_bytes()
    for name, url in [("memory", memory_url), ("file", f"file://{local_dir}")]:
        out = score(url, name)
        assert out.read_bytes() == expected
        meta = json.loads(out.with_name("scores.parquet.meta.json").read_text(encoding="utf-8"))
        assert meta["data_dir"] == url
    assert table_fingerprints(memory_url) == table_fingerprints(local_dir)
    assert any(name.endswith("/") for name in table_fingerprints(memory_url))
