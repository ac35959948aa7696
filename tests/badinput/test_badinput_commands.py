"""The bad-input corpus against `earlywarn score` and `earlywarn train` (a representative
subset): exit 2, the message naming what and where, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import pandas as pd
import pytest
from corpus import BAD_INPUTS, make_case
from typer.testing import CliRunner

from earlywarn.catalog import catalog_hash
from earlywarn.cli import app
from earlywarn.features import build_features
from earlywarn.labels import make_labels
from earlywarn.model import Calibrator, RiskModel, save_model

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


@pytest.fixture(scope="module")
def model_dir(tables, tmp_path_factory) -> Path:
    """A real (tiny) model, so that scoring gets as far as reading the data."""
    y = make_labels(tables, "2023-03-01", population="all").dropna()
    X = build_features(tables, as_of="2023-03-01", households=y.index)
    params = {
        "objective": "binary",
        "num_leaves": 4,
        "num_threads": 1,
        "verbose": -1,
        "seed": 0,
        "deterministic": True,
        "min_data_in_leaf": 5,
    }
    booster = lgb.train(params, lgb.Dataset(X, label=y.astype(int)), num_boost_round=5)
    categories = {
        name: tuple(str(v) for v in X[name].cat.categories)
        for name in X.columns
        if isinstance(X[name].dtype, pd.CategoricalDtype)
    }
    model = RiskModel(
        booster=booster,
        calibrator=Calibrator("platt", 1.0, 0.0),
        feature_names=tuple(X.columns),
        categories=categories,
        catalog_hash=catalog_hash(),
        version="badinput-1",
    )
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def tracking_store(tmp_path_factory) -> Path:
    """One MLflow store for the module, outside the test folders: train checks the store
    (creating an empty SQLite file) before it reads the data, so a dead server fails fast."""
    return tmp_path_factory.mktemp("mlflow") / "mlflow.db"


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
def test_train_refuses_bad_input_clearly(case, tracking_store, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tracking_store}")
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
    assert listing(tmp_path) == before
