"""The search's data: binned once, the same curve as ``lgb.cv``, and the rows the folds train on."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
import pytest

from earlywarn.config import TuneConfig
from earlywarn.errors import ModelError
from earlywarn.model.search import BEST_ITERATION, SearchBounds, objective, search, trial_params
from earlywarn.model.search_data import build_search_data, cross_validate, kept_for_search

PARAMS = {
    **trial_params(TuneConfig(num_threads=1)),
    "learning_rate": 0.2,
    "num_leaves": 8,
    "min_child_samples": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n = 1_500
    X = pd.DataFrame(
        {
            "income_ratio": rng.normal(size=n),
            "n_shocks": rng.poisson(1, n) * 1.0,
            "county": pd.Categorical(rng.choice(["A", "B", "C"], n)),
        }
    )
    logit = -2.5 + 1.5 * X["income_ratio"] + 0.5 * X["n_shocks"]
    y = pd.Series(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)))
    year = np.repeat([2019, 2020, 2021], n // 3)
    folds = [
        (np.flatnonzero(year < 2020), np.flatnonzero(year == 2020)),
        (np.flatnonzero(year < 2021), np.flatnonzero(year == 2021)),
    ]
    households = np.tile(np.arange(n // 6), 6).astype(str)
    months = np.tile(np.repeat([1, 7], n // 6), 3)
    return X, y, folds, households, months


def test_the_curve_is_that_of_lgb_cv_on_the_same_folds(data):
    X, y, folds, _, _ = data
    history = lgb.cv(
        PARAMS,
        lgb.Dataset(X, label=y.astype(float), free_raw_data=False),
        num_boost_round=40,
        folds=list(folds),
        stratified=False,
        shuffle=False,
        callbacks=[lgb.early_stopping(5, verbose=False)],
    )
    expected = np.asarray(history["valid average_precision-mean"])
    prepared = build_search_data(X, y, folds, PARAMS)
    curve = cross_validate(PARAMS, prepared, num_boost_round=40, early_stopping_rounds=5)
    np.testing.assert_array_equal(curve, expected)


def test_folds_trained_side_by_side_give_the_same_curve(data):
    X, y, folds, _, _ = data
    alone = build_search_data(X, y, folds, PARAMS)
    side_by_side = build_search_data(X, y, folds, PARAMS, workers=2)
    assert side_by_side.workers == 2
    curves = [
        cross_validate(PARAMS, prepared, num_boost_round=30, early_stopping_rounds=30)
        for prepared in (alone, side_by_side)
    ]
    np.testing.assert_array_equal(*curves)
    assert len(curves[0]) > 1


def test_trials_never_bin_the_examples_again(data, monkeypatch):
    X, y, folds, _, _ = data
    cfg = TuneConfig(num_threads=1)
    prepared = build_search_data(X, y, folds, trial_params(cfg))
    binned = []
    original = lgb.Dataset._lazy_init

    def counted(self, data, *args, **kwargs):
        binned.append(len(data))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(lgb.Dataset, "_lazy_init", counted)
    for learning_rate in (0.05, 0.2):
        trial = optuna.trial.FixedTrial(
            {
                "learning_rate": learning_rate,
                "num_leaves": 8,
                "max_depth": 3,
                "min_child_samples": 50,
                "lambda_l1": 1e-3,
                "lambda_l2": 1e-3,
                "feature_fraction": 0.9,
                "bagging_fraction": 0.9,
                "num_boost_round": 20,
            }
        )
        assert objective(trial, prepared, cfg=cfg, bounds=SearchBounds(max_boost_rounds=20)) > 0
        assert 1 <= trial.user_attrs[BEST_ITERATION] <= 20
    assert len(X) not in binned  # (the folds' threads parse a 2-row dataset to be quiet)


def test_parameters_that_would_need_new_bins_are_refused(data):
    X, y, folds, _, _ = data
    prepared = build_search_data(X, y, folds, PARAMS)
    with pytest.raises(ModelError, match="seed"):
        cross_validate({**PARAMS, "seed": 7}, prepared, num_boost_round=5, early_stopping_rounds=5)


def test_the_search_keeps_every_poor_row_and_whole_non_poor_households(data):
    _, y, _, households, months = data
    labels = y.to_numpy(dtype=float)
    kept = kept_for_search(labels, households, 0.25, seed=0)
    assert kept[labels == 1].all()
    non_poor = pd.Series(kept[labels == 0]).groupby(households[labels == 0]).agg(["min", "max"])
    assert (non_poor["min"] == non_poor["max"]).all()  # a household's rows all or none
    assert 0.15 < non_poor["min"].mean() < 0.35
    np.testing.assert_array_equal(kept, kept_for_search(labels, households, 0.25, seed=0))
    at_january = kept_for_search(labels, households, 1.0, 0, months=months, as_of_months=(1,))
    np.testing.assert_array_equal(at_january, months == 1)
    with pytest.raises(ModelError, match="as-of month"):
        kept_for_search(labels, households, 1.0, 0, as_of_months=(1,))


def test_kept_non_poor_rows_are_weighted_up_and_validation_keeps_every_row(data):
    X, y, folds, households, _ = data
    labels = y.to_numpy(dtype=float)
    kept = kept_for_search(labels, households, 0.25, seed=0)
    prepared = build_search_data(X, y, folds, PARAMS, kept=kept, negative_share=0.25)
    for (train, valid), (train_set, valid_set) in zip(folds, prepared.folds, strict=True):
        rows = train[kept[train]]
        assert train_set.num_data() == len(rows) < len(train)
        np.testing.assert_array_equal(train_set.get_label(), labels[rows])
        np.testing.assert_array_equal(train_set.get_weight(), np.where(labels[rows] == 1, 1, 4))
        assert valid_set.num_data() == len(valid) and valid_set.get_weight() is None


def test_a_subsampled_search_runs_and_is_reproducible(data):
    X, y, folds, households, months = data
    cfg = TuneConfig(n_trials=2, num_threads=1, negative_share=0.5, as_of_months=(1,))
    bounds = SearchBounds(max_boost_rounds=30, early_stopping_rounds=5)
    runs = [
        search(
            X,
            y,
            folds,
            cfg,
            storage_url=None,
            study_name="sub",
            bounds=bounds,
            households=households,
            months=months,
        )
        for _ in range(2)
    ]
    assert runs[0].history["value"].notna().all()
    pd.testing.assert_series_equal(runs[0].history["value"], runs[1].history["value"])


def test_the_folds_threads_keep_lightgbm_quiet(data, capfd):
    X, y, folds, _, _ = data
    params = {**PARAMS, "min_child_samples": 5_000}  # no split possible: LightGBM would warn
    prepared = build_search_data(X, y, folds, params, workers=2)
    cross_validate(params, prepared, num_boost_round=3, early_stopping_rounds=5)
    assert "[LightGBM]" not in capfd.readouterr().out


def test_the_settings_that_change_the_trials_change_the_study_and_neutral_ones_do_not():
    plain = TuneConfig().model_dump(mode="json")
    assert TuneConfig(negative_share=1.0, as_of_months=None).model_dump(mode="json") == plain
    assert "negative_share" not in plain and "as_of_months" not in plain
    changed = TuneConfig(negative_share=0.25, as_of_months=(1, 7)).model_dump(mode="json")
    assert changed["negative_share"] == 0.25 and changed["as_of_months"] == [1, 7]
