"""Tuning: the objective on a fixed trial, choosing the smaller model, resuming a study."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from earlywarn.config import TuneConfig
from earlywarn.model.search import (
    BEST_ITERATION,
    SearchBounds,
    choose_trial,
    explanation_rate,
    objective,
    search,
    trial_params,
)
from earlywarn.model.search_data import build_search_data

BOUNDS = SearchBounds(max_boost_rounds=60, early_stopping_rounds=10)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 1_200
    X = pd.DataFrame(
        {
            "income_ratio": rng.normal(size=n),
            "n_shocks": rng.poisson(1, n) * 1.0,
            "county": pd.Categorical(rng.choice(["A", "B", "C"], n)),
        }
    )
    logit = -2 + 1.5 * X["income_ratio"] + 0.5 * X["n_shocks"]
    y = pd.Series(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)))
    year = np.repeat([2019, 2020, 2021], n // 3)
    folds = [
        (np.flatnonzero(year < 2020), np.flatnonzero(year == 2020)),
        (np.flatnonzero(year < 2021), np.flatnonzero(year == 2021)),
    ]
    return X, y, folds


FIXED = {
    "learning_rate": 0.1,
    "num_leaves": 8,
    "max_depth": 3,
    "min_child_samples": 20,
    "lambda_l1": 1e-3,
    "lambda_l2": 1e-3,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "num_boost_round": 50,
}


def test_objective_on_a_fixed_trial_returns_ap_and_keeps_best_iteration(data):
    X, y, folds = data
    cfg = TuneConfig(num_threads=1)
    prepared = build_search_data(X, y, folds, trial_params(cfg))
    trial = optuna.trial.FixedTrial(FIXED)
    value = objective(trial, prepared, cfg=cfg, bounds=BOUNDS)
    assert 0.3 < value <= 1.0
    assert 1 <= trial.user_attrs[BEST_ITERATION] <= 50
    again = optuna.trial.FixedTrial(FIXED)
    assert objective(again, prepared, cfg=cfg, bounds=BOUNDS) == value


def test_interrupted_tuning_continues_the_same_study(data, tmp_path):
    X, y, folds = data
    url = f"sqlite:///{tmp_path / 'tuning.sqlite3'}"
    cfg = TuneConfig(n_trials=2, seed=1, num_threads=1)
    first = search(X, y, folds, cfg, storage_url=url, study_name="resume", bounds=BOUNDS)
    assert first.n_trials_run == 2
    second = search(
        X, y, folds, cfg, storage_url=url, study_name="resume", n_trials=3, bounds=BOUNDS
    )
    assert second.n_trials_run == 1
    assert second.history["number"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(
        second.history.iloc[:2].drop(columns="duration_seconds"),
        first.history.drop(columns="duration_seconds"),
    )
    stored = optuna.load_study(study_name="resume", storage=url)
    assert len(stored.trials) == 3
    assert all(BEST_ITERATION in t.user_attrs for t in stored.trials)
    done = search(X, y, folds, cfg, storage_url=url, study_name="resume", n_trials=3, bounds=BOUNDS)
    assert done.n_trials_run == 0 and done.chosen_trial == second.chosen_trial


def test_the_smaller_of_two_equally_good_models_is_chosen():
    history = pd.DataFrame(
        {
            "number": [0, 1, 2, 3],
            "state": ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE"],
            "value": [0.500, 0.498, 0.9, 0.40],
            "complexity": [400 * 64, 80 * 16, 10, 1],
        }
    )
    assert choose_trial(history, tolerance=0.005) == 1
    assert choose_trial(history, tolerance=0.0) == 0


def test_explanation_rate_is_households_per_second(data):
    import lightgbm as lgb

    X, y, _ = data
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "num_threads": 1},
        lgb.Dataset(X, label=y.astype(float)),
        num_boost_round=5,
    )
    assert explanation_rate(booster, X, n_rows=100) > 0


def test_a_new_study_can_start_from_lightgbms_defaults(data, tmp_path, monkeypatch):
    """With ``START_FROM_DEFAULTS`` the first trial of a new study is the plain default
    model, so the search is never worse on the validation years than LightGBM untuned; a
    resumed study is not given it again."""
    from earlywarn.model import search as search_module

    monkeypatch.setattr(search_module, "START_FROM_DEFAULTS", True)
    X, y, folds = data
    cfg = TuneConfig(n_trials=3, seed=0)
    storage = f"sqlite:///{tmp_path / 's.sqlite3'}"
    first = search(X, y, folds, cfg, storage_url=storage, study_name="s", bounds=BOUNDS)
    row = first.history.iloc[0]
    expected = search_module.default_trial(BOUNDS.max_boost_rounds)
    assert {k: row[f"param_{k}"] for k in expected} == expected
    again = search(X, y, folds, cfg, storage_url=storage, study_name="s", bounds=BOUNDS, n_trials=4)
    defaults = again.history["param_learning_rate"].eq(0.05) & again.history["param_num_leaves"].eq(
        31
    )
    assert len(again.history) == 4 and int(defaults.sum()) == 1
