"""`earlywarn train` end to end on a small simulated world, tracked in a throwaway MLflow store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.model import load_model

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(simulation, tmp_path):
    from earlywarn.schema import write_tables

    target = tmp_path / "data"
    write_tables(simulation.tables, target, extra={"truth": simulation.truth})
    return target


def test_train_tunes_compares_saves_and_registers(data_dir, tmp_path, monkeypatch, tables):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({
        "tune": {"n_trials": 5, "num_threads": 1, "seed": 0},
        "train": {"max_boost_rounds": 60, "early_stopping_rounds": 10, "n_valid_years": 1},
        "tracking": {"experiment": "test", "registered_model": "earlywarn-test"},
    }))
    out = tmp_path / "models" / "run"
    result = CliRunner().invoke(app, ["train", "--data", str(data_dir), "--config", str(config),
                                      "--trials", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line == "models:/earlywarn-test/1"
    for name in ("model", "logistic", "rule", "oracle"):
        assert name in result.stdout

    saved = load_model(out)
    card = out.with_name("run_card")
    comparison = pd.read_csv(card / "comparison.csv")
    assert comparison["model"].tolist() == ["model", "logistic", "rule", "oracle"]
    assert "test_year" in saved.metadata and saved.metadata["test_year"] == 2025
    assert (card / "precision_recall.png").stat().st_size > 0
    assert "Limitations" in (card / "model_card.md").read_text(encoding="utf-8")
    assert "<table>" in (card / "model_card.html").read_text(encoding="utf-8")

    from earlywarn.features import build_features
    from earlywarn.tracking import resolve_model

    features = build_features(tables, as_of=pd.Timestamp("2025-04-01"))
    registered = resolve_model(last_line)
    np.testing.assert_allclose(registered.predict_risk(features), saved.predict_risk(features))

    import optuna

    study = optuna.load_study(study_name=saved.metadata["study_name"],
                              storage=f"sqlite:///{out.parent / 'tuning.sqlite3'}")
    assert len(study.trials) == 2
