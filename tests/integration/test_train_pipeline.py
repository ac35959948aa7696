"""`earlywarn train` end to end on a small simulated world, tracked in a throwaway MLflow store:
the model kind is chosen on validation years only, recorded in the run and the card, and a
logistic winner scores and explains like a booster."""

from __future__ import annotations

import json
from pathlib import Path

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
    chosen = [line for line in result.stdout.splitlines() if "model chosen on the" in line]
    assert len(chosen) == 1 and any(
        c in chosen[0] for c in ("rule_score", "logistic", "blend", "lightgbm")
    )
    for name in ("model", "logistic", "rule", "oracle"):
        assert name in result.stdout

    saved = load_model(out)
    card = out.with_name("run_card")
    comparison = pd.read_csv(card / "comparison.csv")
    assert comparison["model"].tolist() == ["model", "logistic", "rule", "oracle"]
    assert "test_year" in saved.metadata and saved.metadata["test_year"] == 2025

    # the choice: every candidate validated, the winner recorded in the model, card and run
    choice = pd.read_csv(card / "model_choice.csv")
    assert choice["candidate"].tolist() == ["rule_score", "logistic", "blend", "lightgbm"]
    winner = saved.metadata["model_choice"]["winner"]
    assert choice.loc[choice["chosen"], "candidate"].tolist() == [winner]
    assert saved.metadata["model_kind"] == saved.kind
    assert 2025 not in [year["year"] for year in saved.metadata["model_choice"]["years"]]
    card_text = (card / "model_card.md").read_text(encoding="utf-8")
    assert f"{winner} chosen: validation average precision" in card_text
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
    # once registered, the card names the model as the sheets do, here and in the run
    registered_name = last_line.removeprefix("models:/")
    assert registered_name in (card / "model_card.md").read_text(encoding="utf-8")
    assert registered_name in (card / "model_card.zh-CN.html").read_text(encoding="utf-8")
    top = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id)}
    assert {"model_card.md", "model_card.html", "model_card.zh-CN.html"} <= top
    logged_card = mlflow.MlflowClient().download_artifacts(run_id, "model_card.md", str(tmp_path))
    assert registered_name in Path(logged_card).read_text(encoding="utf-8")
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.tags["earlywarn.model_choice"] == winner
    assert run.data.tags["earlywarn.model_kind"] == saved.kind
    assert run.data.params["model_choice"] == winner
    for name, row in choice.set_index("candidate").iterrows():
        assert run.data.metrics[f"validation_average_precision_{name}"] == pytest.approx(
            row["average_precision"]
        )

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
                "candidates": ["lightgbm"],
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


SMALL_TRAINING = {
    "tune": {"n_trials": 2, "num_threads": 1, "seed": 0},
    "train": {"max_boost_rounds": 40, "early_stopping_rounds": 5, "explain_rate_rows": 50},
}


def _with_test_year_incomes_shuffled(tables, test_year: int):
    """The same tables with the test year's incomes moved between households: only the test
    year's labels change (features of the test year use earlier rounds)."""
    from dataclasses import replace

    from earlywarn.data.columns import INCOME_SOURCES, YEAR

    years = tables.household_years.copy()
    rows = np.flatnonzero(years[YEAR].astype(int).to_numpy() == test_year)
    shuffled = np.random.default_rng(0).permutation(rows)
    for name in INCOME_SOURCES:
        column = years.columns.get_loc(name)
        years.iloc[rows, column] = years.iloc[shuffled, column].to_numpy()
    return replace(tables, household_years=years)


def test_the_choice_never_looks_at_the_test_year(simulation):
    from earlywarn.config import Config
    from earlywarn.model.training import train_risk_model

    cfg = Config.model_validate(SMALL_TRAINING)
    first = train_risk_model(simulation.tables, cfg, population="exited", storage_url=None)
    changed = _with_test_year_incomes_shuffled(simulation.tables, first.split.test_year)
    second = train_risk_model(changed, cfg, population="exited", storage_url=None)
    assert not first.test.labels.equals(second.test.labels)  # the test year did change
    pd.testing.assert_frame_equal(first.fit.features, second.fit.features)
    pd.testing.assert_frame_equal(first.choice.table, second.choice.table)
    pd.testing.assert_frame_equal(first.choice.years, second.choice.years)
    assert first.choice.winner == second.choice.winner


def test_with_few_poor_households_the_model_ranks_the_test_year_as_the_rule_does(simulation):
    """About 25 poor households over the validation years: too few to trust a fitted model
    over the rule's own quantity, which it then ranks exactly as (so it cannot lose to it)."""
    from earlywarn.config import Config
    from earlywarn.model.bootstrap import average_precision
    from earlywarn.model.choice import MIN_POOR_HOUSEHOLDS, RULE_FEATURE
    from earlywarn.model.training import train_risk_model

    cfg = Config.model_validate(SMALL_TRAINING)
    trained = train_risk_model(simulation.tables, cfg, population="exited", storage_url=None)
    assert trained.choice.years["n_poor_households"].sum() < MIN_POOR_HOUSEHOLDS
    assert trained.choice.winner == "rule_score"
    assert trained.model.kind == "linear"
    assert trained.model.feature_names == (RULE_FEATURE,)
    labels = trained.test.labels.to_numpy(dtype=float)
    rule = -trained.test.features[RULE_FEATURE].fillna(np.inf).to_numpy()
    model = average_precision(labels, trained.model.predict_risk(trained.test.features))
    assert model >= average_precision(labels, rule) - 1e-12


@pytest.mark.parametrize(("candidate", "kind"), [("logistic", "linear"), ("blend", "blend")])
def test_a_forced_candidate_trains_scores_and_explains(
    candidate, kind, data_dir, tmp_path, monkeypatch
):
    """Forced by config: ``earlywarn train`` registers logistic regression (JSON, no tuning)
    or the blend (tuned booster + logistic regression), ``earlywarn score`` writes its reasons,
    ``earlywarn explain`` re-derives a household."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "train": {"candidates": [candidate], "explain_rate_rows": 50},
                "tune": {"n_trials": 2},
                "tracking": {"experiment": "test", "registered_model": f"earlywarn-{candidate}"},
            }
        )
    )
    runner = CliRunner()
    out = tmp_path / "models" / candidate
    trained = runner.invoke(
        app, ["train", "--data", str(data_dir), "--config", str(config), "--out", str(out)]
    )
    assert trained.exit_code == 0, trained.output
    uri = trained.stdout.strip().splitlines()[-1]
    saved = load_model(out)
    assert (saved.kind, saved.metadata["model_choice"]["winner"]) == (kind, candidate)
    if candidate == "logistic":
        assert saved.metadata["study_name"] is None and saved.metadata["params"] is None
        card = (out.with_name(f"{candidate}_card") / "model_card.md").read_text(encoding="utf-8")
        assert "No tuning: LightGBM was not a candidate." in card
        # the card's logistic regression is fitted on the registered model's terms (refitted
        # on every year before the test year, same calibrator): the two rows are one model
        metrics = saved.metadata["test_metrics"]
        for metric in ("average_precision", "roc_auc", "brier"):
            assert metrics[f"test_{metric}_model"] == pytest.approx(
                metrics[f"test_{metric}_logistic"], rel=0, abs=1e-12
            )
    else:
        assert saved.metadata["study_name"] and saved.metadata["num_boost_round"] > 0

    scores = tmp_path / "scores.parquet"
    scored = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(data_dir),
            "--as-of",
            "2025-04-01",
            "--model",
            uri,
            "--out",
            str(scores),
            "--config",
            str(config),
            "--no-progress",
        ],
    )
    assert scored.exit_code == 0, scored.output
    frame = pd.read_parquet(scores)
    flagged = frame[frame["flagged"]]
    assert len(flagged) > 0
    reasons = flagged["reasons"].iloc[0]
    assert any(not r["code"].startswith("rule:") and r["contribution"] > 0 for r in reasons)

    household = str(flagged["household_id"].iloc[0])
    explained = runner.invoke(
        app, ["explain", household, "--scores", str(scores), "--config", str(config)]
    )
    assert explained.exit_code == 0, explained.output
    assert "match" in explained.output
