"""Refitting after calibration: the chosen model is fitted again on every example before the
test year (never the test year) and keeps the calibrator it was given."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from earlywarn.config import Config
from earlywarn.data.columns import TARGET_YEAR
from earlywarn.features.examples import Examples, split_out_of_time
from earlywarn.model.choice import fit_candidate
from earlywarn.model.model_file import Calibrator
from earlywarn.model.training import examples_before_test, refit_before_test
from ratio_world import ratio_world


def test_the_refit_learns_from_the_calibration_households_never_the_test_year():
    examples = ratio_world(200, seed=0)
    cfg = Config()
    split = split_out_of_time(examples.keys, calibration_share=0.5, seed=0)
    fit = examples.take(split.fit)
    first = fit_candidate("logistic", fit.features, fit.labels, tuning=None, seed=0, num_threads=1)
    calibrator = Calibrator("platt", slope=0.7, intercept=-0.2)
    given = replace(first, calibrator=calibrator)

    calibration = examples.take(split.calibration)
    refit = refit_before_test(given, "logistic", fit, calibration, split, None, cfg)

    assert refit.calibrator == calibrator
    assert refit.scorer_text() != first.scorer_text()
    before_test = np.sort(np.concatenate([split.fit, split.calibration]))
    assert not set(split.test) & set(before_test)
    everything = examples.take(before_test)
    expected = fit_candidate(
        "logistic", everything.features, everything.labels, tuning=None, seed=0, num_threads=1
    )
    assert refit.scorer_text() == expected.scorer_text()
    # the test year's labels play no part: turning them upside down changes nothing
    flipped = Examples(
        features=examples.features,
        labels=examples.labels.where(examples.keys[TARGET_YEAR] != 2025, ~examples.labels),
        keys=examples.keys,
    )
    again = refit_before_test(
        given,
        "logistic",
        flipped.take(split.fit),
        flipped.take(split.calibration),
        split,
        None,
        cfg,
    )
    assert again.scorer_text() == refit.scorer_text()


def test_the_examples_before_the_test_year_are_the_fit_and_calibration_rows_in_order():
    """What the comparison refits its logistic regression on is exactly what the model was
    refitted on: the fitting and calibration examples, in the order they were drawn from."""
    examples = ratio_world(120, seed=3)
    split = split_out_of_time(examples.keys, calibration_share=0.5, seed=0)
    fit, calibration = examples.take(split.fit), examples.take(split.calibration)
    before = examples_before_test(fit, calibration, split)
    expected = examples.take(np.sort(np.concatenate([split.fit, split.calibration])))
    pd.testing.assert_frame_equal(before.features, expected.features)
    pd.testing.assert_series_equal(before.labels, expected.labels)
    pd.testing.assert_frame_equal(before.keys, expected.keys)
    assert 2025 not in set(before.keys[TARGET_YEAR])
