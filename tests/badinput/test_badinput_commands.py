"""The bad-input corpus against `score`, `features`, `train`, `report` and `explain` (a
representative subset): exit 2, the message naming what and where, no traceback, nothing
written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from corpus import BAD_INPUTS, VALID_DIR, make_case
from typer.testing import CliRunner

from earlywarn.cli import app

SUBSET = (
    "duplicated household_id",
    "household of 500",
    "income 1e15",
    "event of an unknown household",
    "event in the future",
    "unknown event type",
    "truncated parquet",
    "empty file",
    "required table missing",
    "GBK without a mapping",
    "thousands separators",
    "Chinese headers without a mapping",
)
CASES = [case for case in BAD_INPUTS if case.name in SUBSET]


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_the_subset_is_all_there():
    assert len(CASES) == len(SUBSET)


def refused_cleanly(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "SchemaError:" in result.output, result.output
    assert expected in result.output, result.output


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_score_refuses_bad_input_clearly(case, model_dir, tmp_path):
    data_dir = make_case(case.breaks, tmp_path / "data")
    before = listing(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(data_dir),
            "--as-of",
            "2024-03-01",
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path / "scores.parquet"),
            "--no-progress",
        ],
    )
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_features_refuses_bad_input_clearly(case, tmp_path):
    data_dir = make_case(case.breaks, tmp_path / "data")
    before = listing(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "features",
            "--data",
            str(data_dir),
            "--as-of",
            "2024-03-01",
            "--out",
            str(tmp_path / "out" / "features.parquet"),
        ],
    )
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_train_refuses_bad_input_clearly(case, tmp_path, monkeypatch):
    """With the default tracking store (mlflow.db here), refused data leave no store behind:
    the tracking check before reading creates nothing."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    data_dir = make_case(case.breaks, tmp_path / "data")
    before = listing(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(data_dir),
            "--trials",
            "1",
            "--out",
            str(tmp_path / "models" / "run"),
        ],
    )
    refused_cleanly(result, case.expected)
    assert not (tmp_path / "mlflow.db").exists()
    assert listing(tmp_path) == before


def test_train_reports_an_unreachable_tracking_server_before_reading_the_data(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.chdir(tmp_path)
    data_dir = make_case(CASES[0].breaks, tmp_path / "data")
    before = listing(tmp_path)
    result = CliRunner().invoke(app, ["train", "--data", str(data_dir), "--trials", "1"])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "TrackingError: tracking server http://127.0.0.1:9 is unreachable" in result.output
    assert "SchemaError" not in result.output  # the data were not read yet
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_report_refuses_bad_input_clearly(case, scores_file, tmp_path):
    data_dir = make_case(case.breaks, tmp_path / "data")
    before, scored = listing(tmp_path), listing(scores_file.parent)
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--scores",
            str(scores_file),
            "--data",
            str(data_dir),
            "--out",
            str(tmp_path / "reports"),
        ],
    )
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before
    assert listing(scores_file.parent) == scored


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_explain_refuses_bad_input_clearly(case, scores_file, tmp_path):
    """The scores were made from the valid directory: explain names the files that changed,
    and what is wrong with them."""
    data_dir = make_case(case.breaks, tmp_path / "data")
    before, scored = listing(tmp_path), listing(scores_file.parent)
    result = CliRunner().invoke(
        app, ["explain", "H003", "--scores", str(scores_file), "--data", str(data_dir)]
    )
    refused_cleanly(result, case.expected)
    assert "are not the ones scores.parquet was made from; refusing to re-derive" in result.output
    assert "and they break the data contract" in result.output
    assert listing(tmp_path) == before
    assert listing(scores_file.parent) == scored


def test_report_and_explain_accept_the_valid_directory(scores_file, tmp_path):
    """The refusals above are for the broken tables, not for the scores file or the model."""
    data_dir = Path(shutil.copytree(VALID_DIR, tmp_path / "data"))
    explained = CliRunner().invoke(
        app, ["explain", "H003", "--scores", str(scores_file), "--data", str(data_dir)]
    )
    assert explained.exit_code == 0, explained.output
    assert "match" in explained.output and "no match" not in explained.output
    reported = CliRunner().invoke(
        app,
        [
            "report",
            "--scores",
            str(scores_file),
            "--data",
            str(data_dir),
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert reported.exit_code == 0, reported.output
    assert (tmp_path / "r" / "index.html").is_file()


@pytest.mark.parametrize("explain", ["--explain", "--explain-all"])
def test_score_writes_an_empty_scores_file_when_nobody_is_in_the_population(
    explain, model_dir, tmp_path, caplog
):
    """In the valid directory nobody lifted out of poverty was known not poor in 2023: an
    empty population is an answer (an empty scores file), not a crash."""
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
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
            str(out),
            explain,
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Scored 0 households" in result.output
    assert "no household is in the exited population as of 2024-03-01" in caplog.text
    scores = pd.read_parquet(out)
    assert scores.empty and {"household_id", "risk", "reasons"} <= set(scores.columns)
