"""Examples at as-of dates and the out-of-time split: the test year stays untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, TARGET_YEAR
from earlywarn.features.examples import (
    NotEnoughYearsError,
    as_of_dates,
    build_examples,
    concat_features,
    labelled_target_years,
    split_out_of_time,
)


@pytest.fixture(scope="module")
def examples(tables):
    years = labelled_target_years(tables)[-6:]
    return build_examples(tables, as_of_dates(years))


def _keys(years, n_per_year=5):
    rows = [
        (f"H{i}", pd.Timestamp(year=y, month=m, day=1), y)
        for y in years
        for m in (1, 4, 7, 10)
        for i in range(n_per_year)
    ]
    return pd.DataFrame(rows, columns=[HOUSEHOLD_ID, AS_OF, TARGET_YEAR])


def test_as_of_dates_are_four_a_year_in_order():
    dates = as_of_dates([2021, 2020])
    assert dates[:4] == [pd.Timestamp(f"2020-{m:02d}-01") for m in (1, 4, 7, 10)]
    assert len(dates) == 8 and dates == sorted(dates)


def test_examples_align_features_labels_and_keys(examples):
    assert len(examples.features) == len(examples.labels) == len(examples.keys) > 0
    assert examples.labels.dtype == bool
    assert (examples.keys[AS_OF].dt.year == examples.keys[TARGET_YEAR]).all()
    assert not examples.keys.duplicated([HOUSEHOLD_ID, AS_OF]).any()
    assert (examples.features.dtypes == "float64").all()


def test_split_never_puts_test_year_rows_in_tuning_or_calibration(examples):
    split = split_out_of_time(examples.keys, n_valid_years=2)
    target = examples.keys[TARGET_YEAR].to_numpy()
    assert split.test_year == target.max()
    assert (target[split.test] == split.test_year).all()
    assert split.test_year not in target[split.fit]
    assert split.test_year not in target[split.calibration]
    assert (target[split.calibration] == split.calibration_year).all()
    assert split.calibration_year not in target[split.fit]
    assert len(np.intersect1d(split.fit, split.test)) == 0
    assert len(np.intersect1d(split.calibration, split.test)) == 0


def test_tuning_validates_on_later_years_than_it_trains_on(examples):
    split = split_out_of_time(examples.keys, n_valid_years=2)
    fit_years = examples.keys[TARGET_YEAR].to_numpy()[split.fit]
    assert len(split.folds) == 2
    for train, valid in split.folds:
        assert len(train) and len(valid)
        assert fit_years[train].max() < fit_years[valid].min()
        assert len(np.unique(fit_years[valid])) == 1


def test_household_year_rows_stay_on_one_side():
    keys = _keys(range(2018, 2024))
    split = split_out_of_time(keys, n_valid_years=3)
    parts = {"fit": split.fit, "calibration": split.calibration, "test": split.test}
    owner = {}
    for name, rows in parts.items():
        for hid, year in zip(
            keys[HOUSEHOLD_ID].to_numpy()[rows], keys[TARGET_YEAR].to_numpy()[rows], strict=True
        ):
            assert owner.setdefault((hid, year), name) == name
    assert split.fold_years[-1] == ((2018, 2019, 2020), 2021)


def test_too_few_years_is_a_clear_error():
    with pytest.raises(NotEnoughYearsError, match="at least 4"):
        split_out_of_time(_keys([2022, 2023, 2024]))


def test_a_household_share_of_the_calibration_year_calibrates_the_rest_fits():
    keys = _keys(range(2018, 2024), n_per_year=200)
    split = split_out_of_time(keys, n_valid_years=2, calibration_share=0.5, seed=0)
    target = keys[TARGET_YEAR].to_numpy()
    ids = keys[HOUSEHOLD_ID].to_numpy()
    calibrating = set(ids[split.calibration])
    fitting_that_year = set(ids[split.fit][target[split.fit] == split.calibration_year])
    assert calibrating and fitting_that_year and not calibrating & fitting_that_year
    assert 0.35 < len(calibrating) / 200 < 0.65
    assert (target[split.calibration] == split.calibration_year).all()
    assert split.test_year not in target[split.fit]
    fit_years = target[split.fit]
    for train, valid in split.folds:  # the calibration year's fit rows are in no fold
        assert split.calibration_year not in fit_years[np.concatenate([train, valid])]
        assert fit_years[train].max() < fit_years[valid].min()


def test_stacking_keeps_categories_with_every_level():
    first = pd.DataFrame({"place": pd.Categorical(["b", "a"]), "x": [1.0, 2.0]})
    second = pd.DataFrame({"place": pd.Categorical(["c", None]), "x": [3.0, 4.0]})
    stacked = concat_features([first, second])
    assert list(stacked["place"].cat.categories) == ["a", "b", "c"]
    assert stacked["place"].astype("string").tolist()[:3] == ["b", "a", "c"]
    assert stacked["place"].isna().tolist() == [False, False, False, True]
