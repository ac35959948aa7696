"""The model file: booster text, linear-scorer or blend JSON + JSON sidecar round-trip exactly; a
changed scorer file, an unknown format or a broken sidecar is refused; format 1 still loads;
features are prepared as at training."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.errors import ModelError
from earlywarn.model.blend import BlendScorer
from earlywarn.model.fit import fit_linear_model, fit_model
from earlywarn.model.model_file import (
    BLEND_FILE,
    BOOSTER_FILE,
    FORMAT_VERSION,
    LINEAR_FILE,
    SIDECAR_FILE,
    Calibrator,
    RiskModel,
    is_model_folder,
    load_model,
    save_model,
)


def _features(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "village": pd.Categorical(
                rng.choice(["V1", "V2", "V3"], n), categories=["V1", "V2", "V3"]
            ),
            "income_ratio": rng.normal(size=n),
            "n_illness_events_12m": rng.poisson(1, n).astype(float),
        }
    )
    features.loc[features.index[::11], "income_ratio"] = np.nan
    return features


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return _features(400, seed=0)


def _poor(features: pd.DataFrame) -> pd.Series:
    logit = -1.5 - 1.2 * features["income_ratio"].fillna(0) + 0.4 * features["n_illness_events_12m"]
    return pd.Series(
        np.random.default_rng(1).uniform(size=len(features)) < 1 / (1 + np.exp(-logit))
    )


@pytest.fixture(scope="module")
def linear(features) -> RiskModel:
    fitted = fit_linear_model(features, _poor(features), seed=0, catalog_hash="catalog-abc")
    return replace(
        fitted, calibrator=Calibrator("platt", slope=0.9, intercept=0.1), version="lin-1"
    )


@pytest.fixture(scope="module")
def model(features) -> RiskModel:
    poor = _poor(features)
    fitted = fit_model(
        features,
        poor,
        {"num_leaves": 7, "min_data_in_leaf": 10},
        seed=0,
        num_threads=1,
        num_boost_round=12,
        catalog_hash="catalog-abc",
    )
    return replace(
        fitted,
        calibrator=Calibrator("platt", slope=0.8, intercept=-0.3),
        version="run-7",
        metadata={"config_hash": "cfg-1", "test_year": 2025, "params": {"num_leaves": 7}},
    )


def test_save_and_load_round_trip_everything(model, features, tmp_path):
    saved = save_model(model, tmp_path / "model")
    assert sorted(p.name for p in saved.iterdir()) == [BOOSTER_FILE, SIDECAR_FILE]
    loaded = load_model(saved)
    assert loaded.feature_names == model.feature_names
    assert loaded.categories == {"village": ("V1", "V2", "V3")}
    assert loaded.calibrator == model.calibrator
    assert (loaded.catalog_hash, loaded.version) == ("catalog-abc", "run-7")
    assert loaded.metadata == model.metadata
    assert loaded.booster.model_to_string() == model.booster.model_to_string()
    np.testing.assert_array_equal(loaded.predict_risk(features), model.predict_risk(features))


def test_isotonic_calibration_round_trips_and_is_flat_beyond_its_ends(model, features, tmp_path):
    isotonic = Calibrator("isotonic", x=(-2.0, 0.0, 1.0), y=(0.05, 0.2, 0.6))
    np.testing.assert_allclose(isotonic(np.array([-9.0, -1.0, 0.5, 9.0])), [0.05, 0.125, 0.4, 0.6])
    with_isotonic = replace(model, calibrator=isotonic)
    loaded = load_model(save_model(with_isotonic, tmp_path / "model"))
    assert loaded.calibrator == isotonic
    np.testing.assert_array_equal(
        loaded.predict_risk(features), with_isotonic.predict_risk(features)
    )


def test_the_version_given_at_load_wins_over_the_saved_one(model, tmp_path):
    saved = save_model(model, tmp_path / "model")
    assert load_model(saved).version == "run-7"
    assert load_model(saved, version="earlywarn/3").version == "earlywarn/3"
    sidecar = json.loads((saved / SIDECAR_FILE).read_text(encoding="utf-8"))
    assert sidecar["format_version"] == FORMAT_VERSION


def test_a_changed_booster_is_refused(model, tmp_path):
    saved = save_model(model, tmp_path / "model")
    booster = saved / BOOSTER_FILE
    booster.write_text(booster.read_text().replace("\n", "\n\n", 1))
    with pytest.raises(ModelError, match=r"does not match the hash recorded in model\.json"):
        load_model(saved)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sidecar: sidecar | {"format_version": FORMAT_VERSION + 1}, "is not supported"),
        (lambda sidecar: sidecar | {"scorer_sha256": "0" * 64}, "does not match the hash"),
        (lambda sidecar: sidecar | {"kind": "forest"}, "unknown model kind 'forest'"),
    ],
)
def test_a_sidecar_of_another_format_or_hash_is_refused(model, tmp_path, change, message):
    saved = save_model(model, tmp_path / "model")
    path = saved / SIDECAR_FILE
    path.write_text(json.dumps(change(json.loads(path.read_text(encoding="utf-8")))))
    with pytest.raises(ModelError, match=message):
        load_model(saved)


def test_missing_files_and_broken_json_are_refused(model, tmp_path):
    with pytest.raises(ModelError, match="is not an earlywarn model"):
        load_model(tmp_path)
    saved = save_model(model, tmp_path / "model")
    (saved / SIDECAR_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="is not valid JSON"):
        load_model(saved)


def test_saving_over_an_existing_model_replaces_it_whole(model, tmp_path):
    target = tmp_path / "model"
    save_model(model, target)
    save_model(replace(model, version="run-8"), target)
    assert load_model(target).version == "run-8"
    assert sorted(p.name for p in target.iterdir()) == [BOOSTER_FILE, SIDECAR_FILE]


def test_prepare_orders_columns_and_treats_unseen_levels_as_missing(model, features):
    shuffled = features.head(4)[["n_illness_events_12m", "income_ratio", "village"]].assign(
        village=["V2", "V9", None, "V1"], n_illness_events_12m=["1", "x", 2, 0]
    )
    prepared = model.prepare(shuffled)
    assert list(prepared.columns) == list(model.feature_names)
    assert prepared["village"].cat.categories.tolist() == ["V1", "V2", "V3"]
    assert prepared["village"].isna().tolist() == [False, True, True, False]
    assert prepared["n_illness_events_12m"].dtype == "float64"
    assert np.isnan(prepared["n_illness_events_12m"].iloc[1])
    with pytest.raises(ModelError, match=r"missing columns the model needs: \['income_ratio'\]"):
        model.prepare(features.drop(columns="income_ratio"))


def test_a_linear_model_round_trips_as_json_and_nothing_else(linear, features, tmp_path):
    saved = save_model(linear, tmp_path / "model")
    assert sorted(p.name for p in saved.iterdir()) == [LINEAR_FILE, SIDECAR_FILE]
    assert is_model_folder(saved)
    sidecar = json.loads((saved / SIDECAR_FILE).read_text(encoding="utf-8"))
    assert (sidecar["kind"], sidecar["scorer_file"]) == ("linear", LINEAR_FILE)
    loaded = load_model(saved)
    assert (loaded.kind, loaded.version, loaded.catalog_hash) == ("linear", "lin-1", "catalog-abc")
    assert loaded.categories == linear.categories == {"village": ("V1", "V2", "V3")}
    assert loaded.scorer_text() == linear.scorer_text()
    np.testing.assert_array_equal(loaded.predict_risk(features), linear.predict_risk(features))
    np.testing.assert_array_equal(
        loaded.log_odds_contributions(features), linear.log_odds_contributions(features)
    )
    with pytest.raises(ModelError, match="is a linear model, not a booster"):
        _ = loaded.booster


def test_a_changed_linear_scorer_is_refused(linear, tmp_path):
    saved = save_model(linear, tmp_path / "model")
    scorer = saved / LINEAR_FILE
    changed = json.loads(scorer.read_text(encoding="utf-8"))
    changed["intercept"] += 1.0  # everyone's risk up
    scorer.write_text(json.dumps(changed), encoding="utf-8")
    with pytest.raises(ModelError, match=r"linear\.json does not match the hash recorded"):
        load_model(saved)


def test_a_model_of_format_1_still_loads(model, features, tmp_path):
    saved = save_model(model, tmp_path / "model")
    path = saved / SIDECAR_FILE
    sidecar = json.loads(path.read_text(encoding="utf-8"))
    old = {k: v for k, v in sidecar.items() if k not in ("kind", "scorer_file", "scorer_sha256")}
    path.write_text(
        json.dumps(old | {"format_version": 1, "booster_sha256": sidecar["scorer_sha256"]})
    )
    loaded = load_model(saved)
    assert loaded.kind == "lightgbm"
    np.testing.assert_array_equal(loaded.predict_risk(features), model.predict_risk(features))
    path.write_text(json.dumps(old | {"format_version": 1, "booster_sha256": "0" * 64}))
    with pytest.raises(ModelError, match="does not match the hash"):
        load_model(saved)


def test_a_folder_without_a_scorer_file_is_not_a_model(model, tmp_path):
    saved = save_model(model, tmp_path / "model")
    assert is_model_folder(saved)
    (saved / BOOSTER_FILE).unlink()
    assert not is_model_folder(saved)
    with pytest.raises(ModelError, match=r"is not an earlywarn model \(needs booster\.txt"):
        load_model(saved)


def test_a_blend_averages_its_parts_exactly_and_round_trips_in_one_file(
    model, linear, features, tmp_path
):
    blend = replace(
        model, scorer=BlendScorer(booster=model.booster, linear=linear.scorer, booster_weight=0.3)
    )
    assert blend.kind == "blend"
    expected = 0.3 * model.predict_log_odds(features) + 0.7 * linear.predict_log_odds(features)
    np.testing.assert_allclose(blend.predict_log_odds(features), expected, rtol=0, atol=1e-12)
    contributions = blend.log_odds_contributions(features)
    np.testing.assert_allclose(contributions.sum(axis=1), expected, rtol=0, atol=1e-9)
    assert blend.size() == {
        "model_num_trees": float(model.booster.num_trees()),
        "model_n_coefficients": float(linear.scorer.n_coefficients()),
    }
    saved = save_model(blend, tmp_path / "model")
    assert sorted(p.name for p in saved.iterdir()) == [BLEND_FILE, SIDECAR_FILE]
    loaded = load_model(saved)
    assert loaded.kind == "blend" and loaded.scorer_text() == blend.scorer_text()
    np.testing.assert_array_equal(loaded.predict_risk(features), blend.predict_risk(features))
    np.testing.assert_array_equal(loaded.log_odds_contributions(features), contributions)
    scorer = saved / BLEND_FILE
    changed = json.loads(scorer.read_text(encoding="utf-8"))
    changed["booster_weight"] = 1.0  # all booster
    scorer.write_text(json.dumps(changed), encoding="utf-8")
    with pytest.raises(ModelError, match=r"blend\.json does not match the hash recorded"):
        load_model(saved)


def test_a_blend_weight_outside_zero_to_one_is_refused(model, linear):
    with pytest.raises(ModelError, match=r"booster weight must be in \[0, 1\]"):
        BlendScorer(booster=model.booster, linear=linear.scorer, booster_weight=1.5)
