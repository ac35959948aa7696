"""Fitting is deterministic; calibration on held-out data improves the calibration error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.errors import ModelError
from earlywarn.model.evaluate import expected_calibration_error
from earlywarn.model.fit import MIN_PLATT_SLOPE, calibrate, fit_calibrator, fit_model
from earlywarn.model.model_file import load_model, save_model

PARAMS = {
    "learning_rate": 0.05,
    "num_leaves": 8,
    "max_depth": 3,
    "min_child_samples": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
}


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "income_ratio": rng.normal(size=n),
            "n_shocks": rng.poisson(1, n) * 1.0,
            "village": pd.Categorical(
                rng.choice(["V1", "V2", "V3"], n), categories=["V1", "V2", "V3"]
            ),
        }
    )
    X.loc[X.index[::13], "income_ratio"] = np.nan
    logit = -2.5 + 2.0 * X["income_ratio"].fillna(0) + 0.6 * X["n_shocks"]
    return X, pd.Series(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)))


def test_same_seed_gives_identical_predictions():
    X, y = _data(1_500, 0)
    first = fit_model(X, y, PARAMS, seed=7, num_threads=1, num_boost_round=40)
    second = fit_model(X, y, PARAMS, seed=7, num_threads=1, num_boost_round=40)
    np.testing.assert_array_equal(first.predict_risk(X), second.predict_risk(X))
    assert first.booster.model_to_string() == second.booster.model_to_string()


def test_calibration_on_held_out_examples_improves_ece(tmp_path):
    X, y = _data(3_000, 1)
    X_cal, y_cal = _data(3_000, 2)
    X_test, y_test = _data(3_000, 3)
    # few slow rounds: log-odds shrunk towards the base rate (under-confident)
    model = fit_model(
        X, y, {**PARAMS, "learning_rate": 0.02}, seed=0, num_threads=1, num_boost_round=25
    )
    before = expected_calibration_error(y_test.to_numpy(), model.predict_risk(X_test))
    for method in ("platt", "isotonic"):
        calibrated = calibrate(model, X_cal, y_cal, method=method)
        after = expected_calibration_error(y_test.to_numpy(), calibrated.predict_risk(X_test))
        assert after < before / 2, method
    save_model(calibrated, tmp_path / "model")
    np.testing.assert_allclose(
        load_model(tmp_path / "model").predict_risk(X_test), calibrated.predict_risk(X_test)
    )


def test_class_weighting_is_refused():
    X, y = _data(200, 0)
    with pytest.raises(ModelError, match="scale_pos_weight"):
        fit_model(X, y, {"scale_pos_weight": 5.0}, seed=0, num_threads=1)


def test_platt_recovers_a_known_slope():
    rng = np.random.default_rng(0)
    z = rng.normal(size=20_000)
    y = rng.uniform(size=z.size) < 1 / (1 + np.exp(-(2.0 * z - 1.0)))
    calibrator = fit_calibrator(z, y, "platt")
    assert calibrator.slope == pytest.approx(2.0, abs=0.1)
    assert calibrator.intercept == pytest.approx(-1.0, abs=0.1)


def test_platt_never_reverses_the_ranking():
    """A held-out slice where the model looks backwards (a handful of poor households) keeps
    the model's order: the slope stops at a small positive value."""
    z = np.linspace(-3, 3, 200)
    y = z < -2.5  # the lowest scores are the poor ones here
    calibrator = fit_calibrator(z, y, "platt")
    assert calibrator.slope == MIN_PLATT_SLOPE
    risk = calibrator(z)
    assert (np.diff(risk) > 0).all()


def test_unseen_village_is_treated_as_missing_not_an_error():
    X, y = _data(500, 0)
    model = fit_model(X, y, PARAMS, seed=0, num_threads=1, num_boost_round=5)
    unseen = X.head(3).assign(village=pd.Categorical(["V9"] * 3))
    assert np.isfinite(model.predict_risk(unseen)).all()
