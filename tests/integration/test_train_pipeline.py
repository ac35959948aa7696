"""`earlywarn train` end to end on a small simulated world, tracked in a throwaway MLflow store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.model.model_file import load_model

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(simulation, tmp_path):
    from earlywarn.data.directory import write_tables

    target = tmp_path / "data"
    write_tables(simulation.tables, target, extra={"truth": simulation.truth})
    return target


def test_train_tunes_compares_saves_and_registers(data_dir, tmp_path, monkeypatch, tables):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tune": {"n_trials": 5, "num_threads": 1, "seed": 0},
                "train": {"max_boost_rounds": 60, "early_stopping_rounds": 10, "n_valid_years": 1},
                "tracking": {"experiment": "test", "registered_model": "earlywarn-test"},
            }
        )
    )
    out = tmp_path / "models" / "run"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(data_dir),
            "--config",
            str(config),
            "--trials",
            "2",
            "--out",
            str(out),
        ],
    )
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

    from earlywarn.features.build import build_features
    from earlywarn.tracking import resolve_model

    features = build_features(tables, as_of=pd.Timestamp("2025-04-01"))
    registered = resolve_model(last_line)
    np.testing.assert_allclose(registered.predict_risk(features), saved.predict_risk(features))

    import optuna

    study = optuna.load_study(
        study_name=saved.metadata["study_name"],
        storage=f"sqlite:///{out.parent / 'tuning.sqlite3'}",
    )
    assert len(study.trials) == 2

    # the SHAP summary of the test year is in the card and logged with the run
    assert (card / "shap_summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import mlflow

    run_id = registered_uri_run_id(last_line)
    logged = [a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "plots")]
    assert "plots/shap_summary.png" in logged

    # the model carries its drift reference: scoring after training reports PSI
    from earlywarn.config import Config
    from earlywarn.jobs.score import run_scoring

    assert set(saved.metadata["drift_reference"]["features"]) == set(saved.feature_names)
    scoring = run_scoring(
        Config(),
        data_dir,
        "2025-04-01",
        last_line,
        tmp_path / "s.parquet",
        progress=False,
        explain="none",
    )
    report = json.loads(scoring.drift_json.read_text())
    assert report["has_reference"]
    assert np.isfinite(scoring.score_psi)
    psi = {row["feature"]: row["psi"] for row in report["features"]}
    assert set(psi) == set(saved.feature_names)
    assert all(value is None or value >= 0 for value in psi.values())
    assert sum(value is not None for value in psi.values()) > len(psi) // 2


def registered_uri_run_id(uri: str) -> str:
    import mlflow

    name, version = uri.removeprefix("models:/").split("/")
    return mlflow.MlflowClient().get_model_version(name, version).run_id


def test_training_fails_fast_when_the_tracking_store_is_unusable(simulation, tmp_path, monkeypatch):
    from earlywarn.config import Config
    from earlywarn.errors import TrackingError
    from earlywarn.jobs.train import train_on_tables

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/missing/dir/mlflow.db")

    def no_tuning(*args, **kwargs):
        raise AssertionError("tuning started although tracking is unusable")

    monkeypatch.setattr("earlywarn.model.training.search", no_tuning)
    with pytest.raises(TrackingError, match=r"not writable|does not exist"):
        train_on_tables(Config(), simulation.tables, out_dir=tmp_path / "models" / "m")
    assert not (tmp_path / "models").exists()


def test_two_trainings_with_the_same_seed_and_config_give_the_same_model(simulation, tmp_path):
    from earlywarn.config import Config
    from earlywarn.features.build import build_features
    from earlywarn.jobs.train import train_on_tables

    cfg = Config.model_validate(
        {
            "tune": {"n_trials": 3, "num_threads": 1, "seed": 3},
            "train": {
                "max_boost_rounds": 40,
                "early_stopping_rounds": 5,
                "n_valid_years": 1,
                "explain_rate_rows": 50,
            },
        }
    )
    first, second = (
        train_on_tables(
            cfg,
            simulation.tables,
            truth=simulation.truth,
            out_dir=tmp_path / name / "model",
            track=False,
        )
        for name in ("a", "b")
    )
    features = build_features(simulation.tables, as_of=pd.Timestamp("2025-04-01"))
    np.testing.assert_array_equal(
        first.model.predict_risk(features), second.model.predict_risk(features)
    )
    assert first.model.booster.model_to_string() == second.model.booster.model_to_string()
    pd.testing.assert_frame_equal(first.comparison, second.comparison)
