"""PSI, drift references and reports."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import DriftConfig
from earlywarn.scoring.drift import (
    add_counts,
    count_bins,
    drift_reference,
    drift_report,
    psi,
    render_drift_markdown,
)


def test_psi_of_identical_distributions_is_zero():
    assert psi(np.array([10, 20, 30]), np.array([1, 2, 3])) == pytest.approx(0.0)


def test_psi_matches_the_formula():
    expected, actual = np.array([0.5, 0.5]), np.array([0.2, 0.8])
    by_hand = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)


def test_psi_stays_finite_with_an_empty_bin():
    assert math.isfinite(psi(np.array([0, 10]), np.array([5, 5])))


def frame(n: int, seed: int, shift: float = 0.0, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(10_000 + shift, 2_000, n)
    income[rng.random(n) < missing] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "county": pd.Categorical(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])),
        }
    )


def test_same_population_no_drift_shifted_population_alerts():
    train = frame(5_000, 0)
    risk = np.random.default_rng(0).random(5_000)
    reference = drift_reference(train, risk)
    cfg = DriftConfig()
    same = drift_report(reference, count_bins(reference, frame(5_000, 1), risk), cfg)
    assert same["warnings"] == []
    assert all(row["psi"] < 0.02 for row in same["features"])
    shifted = frame(5_000, 2, shift=3_000, missing=0.3)
    report = drift_report(reference, count_bins(reference, shifted, risk**3), cfg)
    income = next(row for row in report["features"] if row["feature"] == "income")
    assert income["status"] == "alert"
    assert income["missing_share"] == pytest.approx(0.3, abs=0.03)
    assert report["score_status"] == "alert"
    assert any("missing values" in w for w in report["warnings"])
    assert "| income |" in render_drift_markdown(report)


def test_counts_of_slices_add_up_to_the_whole():
    data = frame(1_000, 3)
    risk = np.linspace(0, 1, 1_000)
    reference = drift_reference(frame(2_000, 4), np.random.default_rng(1).random(2_000))
    whole = count_bins(reference, data, risk, {"county": ("a", "b")})
    parts = add_counts(
        count_bins(reference, data.iloc[:400], risk[:400], {"county": ("a", "b")}),
        count_bins(reference, data.iloc[400:], risk[400:], {"county": ("a", "b")}),
    )
    assert parts == whole


def test_unknown_categories_are_counted_and_warned():
    reference = drift_reference(frame(500, 0), np.zeros(500))
    counts = count_bins(reference, frame(500, 1), np.zeros(500), {"county": ("a", "b")})
    report = drift_report(reference, counts, DriftConfig())
    county = next(row for row in report["features"] if row["feature"] == "county")
    assert county["unknown_category_share"] == pytest.approx(0.2, abs=0.05)
    assert any("never saw" in w for w in report["warnings"])


def test_without_a_reference_only_shares_are_reported():
    counts = count_bins(
        {"features": {}, "score": {"edges": []}},
        frame(100, 0),
        np.zeros(100),
        {"county": ("a", "b", "c")},
    )
    report = drift_report(None, counts, DriftConfig())
    assert not report["has_reference"]
    assert math.isnan(report["score_psi"])
    assert any("no drift reference" in w for w in report["warnings"])


def test_place_rates_shift_every_year_so_their_psi_is_information_not_a_warning():
    rng = np.random.default_rng(0)
    rate = "county_illness_rate_last_year"
    train = pd.DataFrame({rate: rng.choice([0.1, 0.2, 0.3], 2_000)})
    scored = pd.DataFrame({rate: rng.choice([0.5, 0.6], 2_000)})
    risk = rng.random(2_000)
    reference = drift_reference(train, risk)
    report = drift_report(reference, count_bins(reference, scored, risk), DriftConfig())
    row = next(row for row in report["features"] if row["feature"] == rate)
    assert row["psi"] > 0.25 and row["status"] == "info"
    assert not any(rate in w for w in report["warnings"])
    warned = drift_report(
        reference, count_bins(reference, scored, risk), DriftConfig(info_only_groups=())
    )
    assert any(rate in w for w in warned["warnings"])


def test_features_that_grow_with_the_calendar_are_information_not_a_warning():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"years_since_exit": rng.integers(3, 9, 2_000)})
    scored = train + 1  # a year later, every household one year further from its exit
    risk = rng.random(2_000)
    reference = drift_reference(train, risk)
    counts = count_bins(reference, scored, risk)
    row = drift_report(reference, counts, DriftConfig())["features"][0]
    assert row["psi"] > 0.25 and row["status"] == "info"
    warned = drift_report(reference, counts, DriftConfig(info_only_features=()))
    assert warned["features"][0]["status"] == "alert"


def test_levels_never_seen_in_training_count_as_other_without_a_warning():
    import warnings

    train = pd.DataFrame({"village": pd.Categorical(["v1", "v2", "v1", "v2"])})
    scored = pd.DataFrame({"village": pd.Categorical(["v1", "v9", "v9", None])})
    reference = drift_reference(train, np.full(4, 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts = count_bins(reference, scored, np.full(4, 0.1))
    assert counts["features"]["village"] == [1, 0, 2, 1]  # v1, v2, other, missing
