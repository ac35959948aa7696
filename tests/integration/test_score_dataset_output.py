"""``--out-dataset``: the scores as a dataset partitioned by county, written by the Dask
workers on county-partitioned input (by the client on the local engine), equal row for row
to the single scores file, each part a scores file of its own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from earlywarn.config import Config, ScoreConfig
from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID
from earlywarn.data.directory import write_tables
from earlywarn.errors import OutputError
from earlywarn.jobs.score import run_scoring
from earlywarn.scoring.scores_file import read_scores, sidecar_path

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"
CFG = Config(score=ScoreConfig(chunk_size=40))


@pytest.fixture(scope="module")
def partitioned_dir(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("data") / "d", partition_by="county")


@pytest.fixture(scope="module")
def local_file(partitioned_dir, model_dir, tmp_path_factory) -> Path:
    """The local engine's scores file: what every dataset must equal."""
    out = tmp_path_factory.mktemp("local") / "s.parquet"
    run_scoring(CFG, partitioned_dir, AS_OF, model_dir, out, progress=False)
    return out


def read_back(folder: Path) -> pd.DataFrame:
    """The dataset read as one frame, in the scores file's order (by household id); the
    folder names read as text (county codes look like numbers)."""
    by_county = ds.partitioning(pa.schema([(COUNTY, pa.string())]), flavor="hive")
    table = ds.dataset(folder, format="parquet", partitioning=by_county).to_table()
    plain = ds.dataset(folder, format="parquet").to_table()  # county is in every part too
    assert plain.sort_by(HOUSEHOLD_ID).equals(table.sort_by(HOUSEHOLD_ID))
    return table.to_pandas().sort_values(HOUSEHOLD_ID).reset_index(drop=True)


def assert_same_as_file(folder: Path, scores_file: Path, *, same_config: bool = True) -> None:
    whole = pd.read_parquet(scores_file)
    parts = sorted(folder.glob(f"{COUNTY}=*/part-0.parquet"))
    assert len(parts) == whole[COUNTY].nunique() > 1
    pd.testing.assert_frame_equal(read_back(folder), whole, check_exact=True)
    schema = pq.read_schema(scores_file)
    for part in parts:
        assert pq.read_schema(part).equals(schema, check_metadata=same_config)
        rows = read_scores(part)  # each part is a scores file of its own
        county = part.parent.name.split("=", 1)[1]
        expected = whole[whole[COUNTY] == county].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, expected, check_exact=True)


@pytest.mark.parametrize("explain", ["flagged", "none"])
def test_workers_write_the_dataset_beside_the_same_file(
    partitioned_dir, model_dir, scheduler, local_file, tmp_path, explain
):
    local = tmp_path / "local.parquet"
    run_scoring(CFG, partitioned_dir, AS_OF, model_dir, local, explain=explain, progress=False)
    result = run_scoring(
        CFG,
        partitioned_dir,
        AS_OF,
        model_dir,
        tmp_path / "s.parquet",
        out_dataset=tmp_path / "scores",
        explain=explain,
        scheduler=scheduler,
        progress=False,
    )
    assert result.out.read_bytes() == local.read_bytes()
    assert result.out_dataset == tmp_path / "scores"
    assert_same_as_file(tmp_path / "scores", local)
    assert not list(tmp_path.glob(".*work-*"))  # the staging went with the work directory
    if explain == "flagged":
        assert read_back(tmp_path / "scores")["reasons"].map(len).gt(0).sum() == result.n_flagged


def test_dataset_alone_with_its_files_beside_it(
    partitioned_dir, model_dir, scheduler, local_file, tmp_path
):
    folder = tmp_path / "out" / "scores"
    folder.mkdir(parents=True)
    (folder / f"{COUNTY}=stale").mkdir()  # an older run's county: gone after this one
    result = run_scoring(
        CFG,
        partitioned_dir,
        AS_OF,
        model_dir,
        None,
        out_dataset=folder,
        scheduler=scheduler,
        progress=False,
    )
    assert result.out == folder and not (folder / f"{COUNTY}=stale").exists()
    assert_same_as_file(folder, local_file)
    assert sidecar_path(folder).is_file()  # scores.meta.json beside the folder
    assert result.drift_markdown.parent == folder.parent
    assert (folder.parent / "score-history").is_dir()
    assert result.n_households == len(pd.read_parquet(local_file))


def test_local_engine_writes_the_same_dataset(partitioned_dir, model_dir, local_file, tmp_path):
    run_scoring(
        CFG, partitioned_dir, AS_OF, model_dir, None, out_dataset=tmp_path / "ds", progress=False
    )
    assert_same_as_file(tmp_path / "ds", local_file)


def test_a_folder_holding_other_files_is_refused_before_any_work(
    partitioned_dir, model_dir, tmp_path
):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match=r"notes\.txt"):
        run_scoring(
            CFG, partitioned_dir, AS_OF, model_dir, None, out_dataset=folder, progress=False
        )
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_the_command_writes_the_dataset_and_needs_somewhere_to_write(
    partitioned_dir, model_dir, local_file, tmp_path
):
    from typer.testing import CliRunner

    from earlywarn.cli import app
    from earlywarn.errors import EXIT_BAD_INPUT

    common = ["score", "--data", str(partitioned_dir), "--as-of", AS_OF, "--model", str(model_dir)]
    nowhere = CliRunner().invoke(app, [*common, "--no-progress"])
    assert nowhere.exit_code == EXIT_BAD_INPUT, nowhere.output
    assert "--out-dataset DIR" in nowhere.stderr
    folder = tmp_path / "scores"
    done = CliRunner().invoke(
        app, [*common, "--no-progress", "--out-dataset", str(folder), "--chunk-size", "40"]
    )
    assert done.exit_code == 0, done.output
    assert str(folder) in done.stdout
    assert_same_as_file(folder, local_file, same_config=False)  # another config hash
