"""Outputs that cannot be written, and a registry version that is not there: exit 2, a clear
message, no traceback, and nothing written (no partial folder, no empty tracking store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import VALID_DIR
from typer.testing import CliRunner

from earlywarn.cli import app


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """An empty working directory with the default tracking store (mlflow.db, not there yet)
    and a plain file where the outputs' folder should be."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    return tmp_path


def score(model_dir: Path, out: str):
    return CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(VALID_DIR),
            "--as-of",
            "2024-03-01",
            "--model",
            str(model_dir),
            "--out",
            out,
            "--no-progress",
        ],
    )


def refused_cleanly(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert expected in result.output, result.output


def test_features_refuses_an_output_under_a_file(here):
    before = listing(here)
    result = CliRunner().invoke(
        app,
        [
            "features",
            "--data",
            str(VALID_DIR),
            "--as-of",
            "2024-03-01",
            "--out",
            "a-file/f.parquet",
        ],
    )
    refused_cleanly(result, "OutputError: cannot write a-file/f.parquet")
    assert "a-file is a file, not a folder" in result.output
    assert listing(here) == before


def test_score_refuses_an_output_under_a_file(here, model_dir):
    before = listing(here)
    result = score(model_dir, "a-file/scores.parquet")
    refused_cleanly(result, "OutputError: cannot write a-file/scores.parquet")
    assert listing(here) == before


def test_score_refuses_a_folder_as_its_scores_file(here, model_dir):
    (here / "scores.parquet").mkdir()
    before = listing(here)
    result = score(model_dir, "scores.parquet")
    refused_cleanly(result, "cannot write scores.parquet: it is a folder")
    assert listing(here) == before


def test_report_refuses_an_output_that_is_a_file(here, scores_file):
    before = listing(here)
    result = CliRunner().invoke(
        app, ["report", "--scores", str(scores_file), "--data", str(VALID_DIR), "--out", "a-file"]
    )
    refused_cleanly(result, "OutputError: cannot write a-file: it is a file")
    assert listing(here) == before
    assert (here / "a-file").read_text(encoding="utf-8") == "not a folder\n"


@pytest.mark.parametrize("out", ["a-file", "a-file/demo"])
def test_demo_refuses_an_unwritable_output_before_simulating(here, out):
    before = listing(here)
    result = CliRunner().invoke(app, ["demo", "--out", out, "--households", "50"])
    refused_cleanly(result, "OutputError: cannot write")
    assert "simulating" not in result.output
    assert listing(here) == before


def test_simulate_refuses_an_output_under_a_file(here):
    before = listing(here)
    result = CliRunner().invoke(app, ["simulate", "--out", "a-file/data", "--households", "50"])
    refused_cleanly(result, "OutputError: cannot write a-file/data")
    assert listing(here) == before


def test_train_refuses_an_output_under_a_file_before_reading_the_data(here):
    before = listing(here)
    result = CliRunner().invoke(
        app, ["train", "--data", str(VALID_DIR), "--trials", "1", "--out", "a-file/model"]
    )
    refused_cleanly(result, "OutputError: cannot write a-file/model")
    assert listing(here) == before  # no mlflow.db either


@pytest.mark.parametrize("version", ["7", "candidate", "not a version"])
def test_promote_without_a_tracking_store_creates_none(here, version):
    before = listing(here)
    result = CliRunner().invoke(app, ["promote", version])
    refused_cleanly(result, f"cannot promote earlywarn {version!r}: there is no tracking store")
    assert listing(here) == before
