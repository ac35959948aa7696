"""earlywarn.tracking without a tracking server: URIs, names, signature, personal-data guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn import tracking
from earlywarn.config import Config
from earlywarn.errors import ModelError, PersonalDataError, TrackingError
from earlywarn.model.fit import fit_model
from earlywarn.model.model_file import RiskModel, save_model


@pytest.fixture(scope="module")
def model() -> RiskModel:
    rng = np.random.default_rng(1)
    features = pd.DataFrame(
        {
            "county": pd.Categorical(rng.choice(["c1", "c2"], 200), categories=["c1", "c2"]),
            "n_illness_events_12m": rng.integers(0, 3, 200).astype(float),
        }
    )
    labels = pd.Series(rng.integers(0, 2, 200))
    return fit_model(
        features, labels, {"min_data_in_leaf": 5}, seed=0, num_threads=1, num_boost_round=3
    )


def test_tracking_uri_defaults_to_sqlite_in_the_working_directory(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.tracking_uri() == "sqlite:///mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking.tracking_uri() == "http://mlflow.internal:5000"


def test_redact_uri_hides_credentials():
    assert tracking.redact_uri("https://alice:s3cret@host:5000/x") == "https://***@host:5000/x"
    assert tracking.redact_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def test_unreachable_server_is_reported_fast(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    with pytest.raises(TrackingError, match=r"http://127\.0\.0\.1:9 is unreachable"):
        tracking.check_tracking_available("http://127.0.0.1:9")


def test_sqlite_store_in_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(TrackingError, match="does not exist or is not writable"):
        tracking.check_tracking_available(f"sqlite:///{tmp_path}/nowhere/mlflow.db")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("test_average_precision_model", "test_average_precision_model"),
        ("recall@10%", "recall_10_"),
        ("subgroup_county (县)_roc_auc", "subgroup_county _县__roc_auc"),
        ("../etc//passwd", "_/etc/passwd"),
        ("/leading/slash/", "leading/slash"),
        ("", "_"),
    ],
)
def test_sanitize_name_gives_names_mlflow_accepts(raw, clean):
    from mlflow.utils.validation import _validate_metric_name

    assert tracking.sanitize_name(raw) == clean
    _validate_metric_name(clean)


def test_clean_metrics_keeps_every_metric_under_a_distinct_name():
    metrics = tracking.clean_metrics({"a@1": 0.5, "a_1": 0.25, "n": np.int64(3), "none": None})
    assert metrics == {"a_1": 0.5, "a_1_2": 0.25, "n": 3.0}


def test_flatten_config_names_every_field():
    flat = tracking.flatten_config(Config())
    assert flat["config.tracking.registered_model"] == "earlywarn"
    assert flat["config.train.as_of_months"] == "[1, 4, 7, 10]"
    assert all(len(v) <= 6000 for v in flat.values())


def test_signature_requires_every_feature_categoricals_as_any_the_rest_as_double(model):
    signature = tracking.model_signature(model)
    assert [(c["name"], c["type"], c["required"]) for c in signature.inputs.to_dict()] == [
        ("county", "any", True),
        ("n_illness_events_12m", "double", True),
    ]
    assert [c.name for c in signature.outputs.inputs] == ["risk"]
    frame = pd.DataFrame(
        {"county": pd.Categorical(["c1", None]), "n_illness_events_12m": [1, 2]}, index=["H1", "H2"]
    )
    example = tracking.signature_frame(model, frame)
    assert example["county"].tolist() == ["c1", None]
    assert example["n_illness_events_12m"].dtype == "float64"
    assert list(example.index) == [0, 1]  # household ids are not logged


@pytest.mark.parametrize("column", ["head_name", "id_number", "phone", "address"])
def test_frames_with_personal_columns_are_refused(column):
    with pytest.raises(PersonalDataError, match=column):
        tracking.ensure_no_personal_columns(
            pd.DataFrame({column: ["x"], "county": ["c1"]}), "input example"
        )


def test_personal_values_and_files_are_refused(tmp_path):
    with pytest.raises(PersonalDataError, match="resident ID"):
        tracking.ensure_no_personal_values({"note": "53012319800101123X"}, "parameters")
    with pytest.raises(PersonalDataError, match="phone"):
        tracking.ensure_no_personal_values({"features.phone": "1"}, "parameters")
    tracking.ensure_no_personal_values({"fingerprint.households": "0" * 64}, "tags")
    table = tmp_path / "evaluation" / "households.csv"
    table.parent.mkdir()
    table.write_text("household_id,address\nH1,somewhere\n", encoding="utf-8")
    with pytest.raises(PersonalDataError, match="address"):
        tracking.ensure_no_personal_files(tmp_path, "artifact 'evaluation'")


def test_personal_columns_refuse_the_run_before_mlflow_is_touched(model, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    save_model(model, tmp_path / "model")
    with pytest.raises(PersonalDataError, match="feature catalog"):
        tracking.log_training_run(
            config=Config(),
            model=model,
            model_dir=tmp_path / "model",
            metrics={},
            params={},
            table_fingerprints={},
            artifacts={},
            input_example=pd.DataFrame(),
            tuning_history=None,
            feature_catalog=pd.DataFrame({"name": ["x"], "id_number": [1]}),
        )
    assert not (tmp_path / "mlflow.db").exists()


def test_resolve_model_reads_a_local_folder_and_refuses_nonsense(model, tmp_path):
    save_model(model, tmp_path / "model")
    resolved = tracking.resolve_model(tmp_path / "model")
    assert resolved.feature_names == model.feature_names
    with pytest.raises(ModelError, match="neither a folder"):
        tracking.resolve_model(tmp_path / "missing")
    with pytest.raises(ModelError, match="cannot read model URI"):
        tracking.resolve_model("models:/a/b/c")


def test_resolving_from_a_store_that_does_not_exist_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    with pytest.raises(ModelError, match="there is no tracking store"):
        tracking.resolve_model("models:/earlywarn@champion")
    assert list(tmp_path.iterdir()) == []


def test_checking_a_store_that_is_not_there_yet_creates_nothing(tmp_path):
    tracking.check_tracking_available(f"sqlite:///{tmp_path}/mlflow.db")
    tracking.check_tracking_available((tmp_path / "mlruns").as_uri())
    assert list(tmp_path.iterdir()) == []


def test_checking_an_empty_sqlite_file_leaves_it_alone(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"")
    before = db.stat().st_mtime_ns
    tracking.check_tracking_available(f"sqlite:///{db}")
    assert (db.read_bytes(), db.stat().st_mtime_ns) == (b"", before)
    assert list(tmp_path.iterdir()) == [db]


def test_a_tracking_store_that_is_not_a_database_is_refused(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_text("these are notes, not a database\n" * 20, encoding="utf-8")
    with pytest.raises(TrackingError, match=r"cannot be used.*not a database"):
        tracking.check_tracking_available(f"sqlite:///{db}")


def test_promotion_compares_the_metrics_training_logs():
    assert tracking.PROMOTION_REQUIREMENTS == (
        ("test_average_precision_model", "test_average_precision_rule"),
    )


def test_trial_metrics_chart_each_finished_trial_by_its_number():
    from earlywarn.tracking.tuning import trial_metrics

    history = pd.DataFrame(
        {
            "number": [2, 0, 1, 3],  # out of order, as a resumed study may list them
            "state": ["COMPLETE", "PRUNED", "FAIL", "COMPLETE"],
            "value": [0.3, np.nan, np.nan, 0.2],
            "duration_seconds": [1.0, 2.0, np.nan, 4.0],
            "finished_at": ["2026-01-01T00:00:00+00:00", None, None, "not a date"],
        }
    )
    points = {(m.key, m.step): m for m in trial_metrics(history)}
    assert {step for _, step in points} == {0, 2, 3}  # the failed trial is not charted
    assert ("tune_trial_value", 0) not in points  # pruned: no score
    assert points[("tune_trials_pruned_so_far", 3)].value == 1.0
    assert points[("tune_best_value_so_far", 3)].value == 0.3
    assert points[("tune_trial_value", 2)].timestamp == 1767225600000
    assert points[("tune_trial_seconds", 3)].value == 4.0
    assert trial_metrics(pd.DataFrame()) == []


def test_provenance_tags_name_version_commit_and_fingerprints(monkeypatch):
    from earlywarn.tracking import provenance

    monkeypatch.setattr(provenance, "git_commit", lambda: ("f" * 40, True))
    tags = provenance.provenance_tags({"households": "a" * 64})
    assert tags["earlywarn.git_commit"] == "f" * 40
    assert tags["earlywarn.git_dirty"] == "true"
    assert tags["earlywarn.fingerprint.households"] == "a" * 64
    assert tags["earlywarn.version"] == provenance.earlywarn_version() != ""
    monkeypatch.setattr(provenance, "git_commit", lambda: None)
    assert "earlywarn.git_commit" not in provenance.provenance_tags({})


def test_git_commit_of_an_installed_copy_comes_from_its_install_record(monkeypatch, tmp_path):
    from earlywarn.tracking import provenance

    provenance.git_commit.cache_clear()
    monkeypatch.setattr(provenance, "PACKAGE_DIR", tmp_path)  # not a git checkout
    monkeypatch.setattr(provenance, "_installed_commit", lambda: ("c" * 40, False))
    try:
        assert provenance.git_commit() == ("c" * 40, False)
    finally:
        provenance.git_commit.cache_clear()
