"""A tiny RiskModel logged to an MLflow store in tmp_path: pyfunc, registry, resolve, promote."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from earlywarn import tracking
from earlywarn.cli import app
from earlywarn.config import Config, TrackingConfig
from earlywarn.errors import PersonalDataError, PromotionRefused, TrackingError
from earlywarn.model.fit import fit_model
from earlywarn.model.model_file import Calibrator, RiskModel, save_model

NAME = "earlywarn-test"
TRIALS = pd.DataFrame(  # what search.trial_history gives: four trials, one pruned, one running
    {
        "number": [0, 1, 2, 3],
        "state": ["COMPLETE", "PRUNED", "COMPLETE", "RUNNING"],
        "value": [0.4, float("nan"), 0.5, float("nan")],
        "duration_seconds": [2.0, 1.0, 3.0, float("nan")],
        "finished_at": [
            "2026-01-01T00:00:02+00:00",
            "2026-01-01T00:00:03+00:00",
            "2026-01-01T00:00:06+00:00",
            None,
        ],
    }
)
CONFIG = Config(tracking=TrackingConfig(experiment="earlywarn-test", registered_model=NAME))


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=tracking.configure())


def _features(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "county": pd.Categorical(
                rng.choice(["c1", "c2", "c3"], n), categories=["c1", "c2", "c3"]
            ),
            "net_income_per_capita_last_round": rng.normal(8_000, 3_000, n),
            "n_illness_events_12m": rng.integers(0, 3, n).astype(float),
        },
        index=pd.Index([f"H{i:04d}" for i in range(n)], name="household_id"),
    )
    features.iloc[3, 1] = np.nan
    return features


def _tiny_model(features: pd.DataFrame) -> RiskModel:
    poor = (
        (features["net_income_per_capita_last_round"].fillna(8_000) < 7_000)
        | (features["county"] == "c1")
    ).astype(int)
    model = fit_model(
        features,
        poor,
        {"min_data_in_leaf": 5},
        seed=0,
        num_threads=1,
        num_boost_round=8,
        catalog_hash="catalog-test",
        metadata={"config_hash": "cfg-test"},
    )
    return replace(model, calibrator=Calibrator("platt", 0.8, -0.2))


def _log(
    model: RiskModel,
    model_dir: Path,
    features: pd.DataFrame,
    *,
    ap_model: float,
    ap_rule: float,
    artifacts: dict[str, Path] | None = None,
) -> tracking.ModelRef:
    return tracking.log_training_run(
        config=CONFIG,
        model=model,
        model_dir=model_dir,
        metrics={
            tracking.PROMOTION_METRIC_MODEL: ap_model,
            tracking.PROMOTION_METRIC_RULE: ap_rule,
            "test_roc_auc_model": 0.8,
            "subgroup_county (县)_average_precision@10%": 0.1,
        },
        params={"num_leaves": 7, "learning_rate": 0.1, "population": "exited"},
        table_fingerprints={"households": "a" * 64, "household_years": "b" * 64},
        artifacts=artifacts or {},
        input_example=features.head(5),
        tuning_history=TRIALS,
        feature_catalog=pd.DataFrame({"name": list(model.feature_names)}),
        run_name="test-run",
        description=f"Model card summary: AP {ap_model} vs rule {ap_rule}.",
        study=tracking.StudyRef("sqlite:////studies/tuning.sqlite3", "study-x"),
        table_columns={
            "households": pd.DataFrame({"household_id": ["H1"], "county": ["c1"]}),
            "household_years": pd.DataFrame({"household_id": ["H1"], "year": [2020]}),
        },
        data_source="/data/county-a",
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An MLflow store in tmp with one registered version that beats the rule."""
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        features = _features(300, seed=0)
        model = _tiny_model(features)
        save_model(model, root / "model")
        card = root / "model_card.md"
        card.write_text("# Model card\nintended use: early warning\n", encoding="utf-8")
        ref = _log(
            model,
            root / "model",
            features,
            ap_model=0.6,
            ap_rule=0.4,
            artifacts={"model_card.md": card},
        )
        yield {"root": root, "features": features, "model": model, "ref": ref}


def test_pyfunc_predicts_calibrated_risk(store):
    features, model, ref = store["features"], store["model"], store["ref"]
    example = features.head(40).astype({"county": object})
    example.iloc[5, 0] = None  # a missing county
    tracking.configure()
    pyfunc = mlflow.pyfunc.load_model(ref.registered_uri)
    predicted = pyfunc.predict(example)
    assert list(predicted.columns) == ["risk"]
    np.testing.assert_allclose(predicted["risk"].to_numpy(), model.predict_risk(example))
    as_text = example.astype({"county": "str"})  # pandas 3 text, as read from CSV
    np.testing.assert_allclose(pyfunc.predict(as_text)["risk"], predicted["risk"])


def test_model_is_registered_as_candidate_with_booster_in_its_own_format(store):
    ref, root = store["ref"], store["root"]
    client = _client()
    assert ref.registered_uri == f"models:/{NAME}/{ref.version}"
    assert str(client.get_model_version_by_alias(NAME, "candidate").version) == ref.version
    local = Path(mlflow.artifacts.download_artifacts(ref.registered_uri, dst_path=str(root / "dl")))
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert {
        "artifacts/risk_model/booster.txt",
        "artifacts/risk_model/model.json",
        "pyfunc.py",
        "MLmodel",
    } <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    signature = mlflow.models.get_model_info(ref.registered_uri).signature
    columns = {c["name"]: (c["type"], c["required"]) for c in signature.inputs.to_dict()}
    assert columns == {  # a category column is "any": MLflow refuses it as "string"
        "county": ("any", True),
        "net_income_per_capita_last_round": ("double", True),
        "n_illness_events_12m": ("double", True),
    }
    example = json.loads((local / "input_example.json").read_text())
    assert "H0000" not in json.dumps(example)  # household ids are not logged


def test_run_records_config_fingerprints_metrics_and_artifacts(store):
    run = _client().get_run(store["ref"].run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["config.tracking.registered_model"] == NAME
    assert run.data.params["fingerprint.households"] == "a" * 64
    assert run.data.tags["earlywarn.fingerprint.household_years"] == "b" * 64
    assert run.data.metrics[tracking.PROMOTION_METRIC_MODEL] == 0.6
    assert "subgroup_county _县__average_precision_10_" in run.data.metrics
    assert tracking.find_in_run(store["ref"].run_id, ["intended use"]) == [
        f"artifact runs:/{store['ref'].run_id}/model_card.md"
    ]
    household_ids = list(store["features"].index)
    assert tracking.find_in_run(store["ref"].run_id, [*household_ids, "head_name"]) == []
    listed = {a.path for a in _client().list_artifacts(store["ref"].run_id)}
    assert {"config.yaml", "feature_catalog.csv", "tuning_history.csv", "model_card.md"} <= listed


@pytest.mark.parametrize("kind", ["registered", "alias", "run", "logged", "folder"])
def test_resolve_model_from_every_kind_of_uri(store, kind):
    ref, features = store["ref"], store["features"]
    uri, version = {
        "registered": (ref.registered_uri, f"{NAME}/{ref.version}"),
        "alias": (f"models:/{NAME}@candidate", f"{NAME}/{ref.version}"),
        "run": (f"runs:/{ref.run_id}/model", ref.run_id),
        "logged": (ref.model_uri, ref.model_uri.removeprefix("models:/")),
        "folder": (str(store["root"] / "model"), "unregistered"),
    }[kind]
    resolved = tracking.resolve_model(uri)
    assert resolved.version == version
    expected = store["model"].predict_risk(features)
    np.testing.assert_allclose(resolved.predict_risk(features), expected)


def test_promote_refuses_a_model_that_does_not_beat_the_rule_then_accepts_one_that_does(store):
    worse = _log(
        store["model"], store["root"] / "model", store["features"], ap_model=0.3, ap_rule=0.4
    )
    with pytest.raises(
        PromotionRefused,
        match=r"test_average_precision_model 0.3000 is not "
        r"above test_average_precision_rule 0.4000",
    ):
        tracking.promote(worse.version, name=NAME)
    with pytest.raises(Exception, match="alias"):
        _client().get_model_version_by_alias(NAME, "champion")

    promotion = tracking.promote(store["ref"].version, name=NAME)
    assert (promotion.version, promotion.previous_version) == (store["ref"].version, None)
    assert str(_client().get_model_version_by_alias(NAME, "champion").version) == promotion.version


def test_promote_command_exits_2_with_the_reason_when_refused(store, tmp_path):
    worse = _log(
        store["model"], store["root"] / "model", store["features"], ap_model=0.2, ap_rule=0.4
    )
    config = tmp_path / "train.yaml"
    config.write_text(f"tracking:\n  registered_model: {NAME}\n  experiment: {NAME}\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["promote", worse.version, "--config", str(config)])
    assert refused.exit_code == 2
    assert "not above" in refused.output
    accepted = runner.invoke(app, ["promote", store["ref"].version, "--name", NAME])
    assert accepted.exit_code == 0, accepted.output
    assert f"models:/{NAME}@champion" in accepted.output


@pytest.mark.parametrize("version", ["999", "nonsense"])
def test_promote_command_refuses_a_version_that_is_not_there_and_changes_nothing(store, version):
    db = store["root"] / "mlflow.db"
    before = db.read_bytes()
    result = CliRunner().invoke(app, ["promote", version, "--name", NAME])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"PromotionRefused: model {NAME} has no version {version!r}" in result.output
    assert db.read_bytes() == before


@pytest.mark.parametrize("failing", ["alias", "registration"])
def test_failed_registration_leaves_no_version_and_a_failed_run(store, monkeypatch, failing):
    client = _client()
    before = {str(v.version) for v in client.search_model_versions(f"name='{NAME}'")}
    register = mlflow.register_model

    def register_then_fail(*args, **kwargs):
        register(*args, **kwargs)
        raise mlflow.exceptions.MlflowException("registry went away")

    def refuse(*args, **kwargs):
        raise mlflow.exceptions.MlflowException("registry went away")

    if failing == "alias":
        monkeypatch.setattr(MlflowClient, "set_registered_model_alias", refuse)
    else:
        monkeypatch.setattr(mlflow, "register_model", register_then_fail)
    with pytest.raises(TrackingError, match="marked FAILED and no model version was registered"):
        _log(store["model"], store["root"] / "model", store["features"], ap_model=0.6, ap_rule=0.4)
    assert {str(v.version) for v in client.search_model_versions(f"name='{NAME}'")} == before
    experiment = client.get_experiment_by_name(CONFIG.tracking.experiment)
    last = client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1
    )[0]
    assert last.info.status == "FAILED"
    assert mlflow.active_run() is None


def test_unreachable_tracking_server_fails_fast_and_writes_nothing(store, monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    with pytest.raises(TrackingError, match=r"tracking server http://127.0.0.1:9 is unreachable"):
        _log(store["model"], store["root"] / "model", store["features"], ap_model=0.6, ap_rule=0.4)
    assert time.perf_counter() - started < 10
    assert list(tmp_path.iterdir()) == []
    assert mlflow.active_run() is None


def test_personal_columns_never_reach_the_store(store):
    client = _client()
    experiment = client.get_experiment_by_name(CONFIG.tracking.experiment)
    n_runs = len(client.search_runs([experiment.experiment_id]))
    with_name = store["features"].head(5).assign(head_name="张三")
    with pytest.raises(PersonalDataError, match=r"input example has personal columns"):
        _log(store["model"], store["root"] / "model", with_name, ap_model=0.6, ap_rule=0.4)
    assert len(client.search_runs([experiment.experiment_id])) == n_runs


def test_a_linear_model_is_logged_as_json_and_its_pyfunc_gives_the_same_risk(store, tmp_path):
    from earlywarn.model.fit import fit_linear_model

    features = store["features"]
    poor = (features["net_income_per_capita_last_round"].fillna(8_000) < 7_000).astype(int)
    linear = replace(
        fit_linear_model(features, poor, seed=0, catalog_hash="catalog-test"),
        calibrator=Calibrator("platt", 0.9, -0.1),
        metadata={"config_hash": "cfg-test", "model_choice": {"winner": "logistic"}},
    )
    save_model(linear, tmp_path / "linear")
    ref = _log(linear, tmp_path / "linear", features, ap_model=0.5, ap_rule=0.4)

    tracking.configure()
    example = features.head(30).astype({"county": object})
    pyfunc = mlflow.pyfunc.load_model(ref.registered_uri)
    np.testing.assert_allclose(pyfunc.predict(example)["risk"], linear.predict_risk(example))
    resolved = tracking.resolve_model(ref.registered_uri)
    assert (resolved.kind, resolved.version) == ("linear", f"{NAME}/{ref.version}")
    np.testing.assert_allclose(resolved.predict_risk(features), linear.predict_risk(features))

    local = Path(
        mlflow.artifacts.download_artifacts(ref.registered_uri, dst_path=str(tmp_path / "dl"))
    )
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert {"artifacts/risk_model/linear.json", "artifacts/risk_model/model.json"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle", "booster.txt"))]
    tags = _client().get_run(ref.run_id).data.tags
    assert tags["earlywarn.model_kind"] == "linear"
    assert tags["earlywarn.model_format"] == "linear-scorer-json+json"
    assert tags["earlywarn.model_choice"] == "logistic"


def test_logging_refuses_a_folder_holding_another_kind_of_model(store, tmp_path):
    from earlywarn.errors import ModelError
    from earlywarn.model.fit import fit_linear_model

    features = store["features"]
    poor = (features["n_illness_events_12m"] > 1).astype(int)
    save_model(fit_linear_model(features, poor, seed=0), tmp_path / "linear")
    with pytest.raises(ModelError, match="holds a different model"):
        _log(store["model"], tmp_path / "linear", features, ap_model=0.6, ap_rule=0.4)


def test_version_is_described_by_the_card_summary_and_tagged_with_provenance(store):
    ref = store["ref"]
    client = _client()
    version = client.get_model_version(NAME, ref.version)
    assert version.description == "Model card summary: AP 0.6 vs rule 0.4."
    assert "mlflow, lightgbm, pandas, numpy" in client.get_registered_model(NAME).description
    from importlib import metadata

    assert version.tags["earlywarn.version"] == metadata.version("earlywarn")
    assert version.tags["earlywarn.fingerprint.households"] == "a" * 64
    assert version.tags["run_id"] == ref.run_id
    run_tags = client.get_run(ref.run_id).data.tags
    assert run_tags["earlywarn.version"] == version.tags["earlywarn.version"]
    from earlywarn.tracking.provenance import git_commit

    commit = git_commit()  # this checkout's HEAD when the tests run from git
    if commit is not None:
        assert len(commit[0]) == 40
        assert version.tags["earlywarn.git_commit"] == run_tags["earlywarn.git_commit"]
        assert version.tags["earlywarn.git_commit"] == commit[0]


def test_run_records_its_study_and_each_trial_by_step(store):
    client = _client()
    run = client.get_run(store["ref"].run_id)
    assert run.data.params["tune.storage"] == "sqlite:////studies/tuning.sqlite3"
    assert run.data.params["tune.study_name"] == "study-x"
    assert run.data.tags["optuna.study_name"] == "study-x"

    def history(key):
        return [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]

    assert history("tune_trial_value") == [(0, 0.4), (2, 0.5)]
    assert history("tune_best_value_so_far") == [(0, 0.4), (1, 0.4), (2, 0.5)]
    assert history("tune_trials_pruned_so_far") == [(0, 0.0), (1, 1.0), (2, 1.0)]
    trial_2 = client.get_metric_history(run.info.run_id, "tune_trial_value")[-1]
    assert trial_2.timestamp == 1767225606000  # when trial 2 ended, not when it was logged


def test_input_tables_are_run_inputs_with_fingerprints_and_columns_but_no_rows(store):
    run = _client().get_run(store["ref"].run_id)
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"households", "household_years"}
    households = inputs["households"]
    assert households.dataset.digest == "a" * 32
    assert {t.key: t.value for t in households.tags}["earlywarn.fingerprint"] == "a" * 64
    assert {t.key: t.value for t in households.tags}["mlflow.data.context"] == "training"
    schema = json.loads(households.dataset.schema)
    assert [c["name"] for c in schema["mlflow_colspec"]] == ["household_id", "county"]
    assert "/data/county-a" in households.dataset.source
    assert "H1" not in json.dumps([d.dataset.to_dictionary() for d in inputs.values()])


def test_input_tables_with_personal_columns_refuse_the_run(store):
    with pytest.raises(PersonalDataError, match=r"input table households has personal columns"):
        tracking.log_training_run(
            config=CONFIG,
            model=store["model"],
            model_dir=store["root"] / "model",
            metrics={},
            params={},
            table_fingerprints={},
            artifacts={},
            input_example=store["features"].head(5),
            tuning_history=None,
            feature_catalog=pd.DataFrame({"name": ["x"]}),
            table_columns={"households": pd.DataFrame({"household_id": [], "head_name": []})},
        )


def test_a_training_run_inside_an_active_run_is_nested_in_it(store):
    tracking.configure()
    experiment = mlflow.set_experiment("a-notebook")
    with mlflow.start_run() as outer:
        ref = _log(
            store["model"], store["root"] / "model", store["features"], ap_model=0.6, ap_rule=0.4
        )
        assert mlflow.active_run().info.run_id == outer.info.run_id
    run = _client().get_run(ref.run_id)
    assert run.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert run.info.status == "FINISHED"
    assert experiment.experiment_id != run.info.experiment_id  # in earlywarn's experiment
