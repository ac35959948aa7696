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
    reference_month,
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


def seasonal(n: int, year: int, month: int, seed: int) -> pd.DataFrame:
    """Days since the harvest: short in autumn, long in spring (the same every year)."""
    rng = np.random.default_rng(seed + 100 * year + month)
    return pd.DataFrame({"days_since_harvest": rng.normal(30 * ((month - 10) % 12), 10, n)})


def dated_reference(years: range, months=(1, 7), n: int = 2_000, **columns) -> dict:
    parts, dates = [], []
    for year in years:
        for month in months:
            part = seasonal(n, year, month, 0).assign(**{k: f(year) for k, f in columns.items()})
            parts.append(part)
            dates += [pd.Timestamp(year, month, 1)] * n
    X = pd.concat(parts, ignore_index=True)
    return drift_reference(X, np.zeros(len(X)), as_of=pd.Series(dates))


def test_a_run_compares_with_the_reference_rows_of_its_own_month():
    reference = dated_reference(range(2021, 2024))
    assert reference["reference_year"] == 2023 and sorted(reference["by_month"]) == ["1", "7"]
    july = seasonal(2_000, 2024, 7, 1)
    counts = count_bins(reference, july, np.zeros(2_000))
    matched = drift_report(reference, counts, DriftConfig(), as_of="2024-07-01")
    assert matched["reference_month"] == 7
    assert matched["warnings"] == [] and matched["alerts"] == 0
    pooled = drift_report(reference, counts, DriftConfig())  # no date: every month pooled
    assert pooled["features"][0]["psi"] > 0.25 and pooled["alerts"] == 1
    assert "as of 1 July" in render_drift_markdown(matched)


def test_the_nearest_reference_month_stands_in_for_a_month_not_kept():
    reference = dated_reference(range(2022, 2024), months=(1, 4, 7, 10))
    assert [reference_month(reference, f"2024-{m:02d}-15") for m in (2, 3, 5, 12)] == [1, 4, 4, 1]
    assert reference_month({"features": {}}, "2024-07-01") is None


def test_a_feature_that_moves_every_year_by_itself_is_judged_beyond_that():
    """A county-wide event that hits a different share of households each year: PSI between
    training years is large, and a year like the others raises nothing; a feature that was
    steady and now moves as much is an alert."""
    rng = np.random.default_rng(0)

    def lumpy(year: int) -> np.ndarray:
        return rng.choice([0.0, 1.0], 2_000, p=[0.9, 0.1] if year % 2 else [0.5, 0.5])

    reference = dated_reference(range(2020, 2024), lumpy=lumpy, steady=lambda y: 0.0)
    tolerance = reference["year_to_year_psi"]
    assert tolerance["lumpy"] > 0.5 and tolerance["steady"] == 0.0
    scored = seasonal(2_000, 2024, 1, 3).assign(lumpy=lumpy(2024), steady=lumpy(2024))
    report = drift_report(
        reference, count_bins(reference, scored, np.zeros(2_000)), DriftConfig(), as_of="2024-01-01"
    )
    status = {row["feature"]: row["status"] for row in report["features"]}
    assert status == {"days_since_harvest": "ok", "lumpy": "ok", "steady": "alert"}
    assert report["alerts"] == 1
    assert any(w.startswith("steady: PSI") for w in report["warnings"])


def test_a_reference_without_dates_is_still_read():
    """Format 1 (models trained before references kept months): pooled, no tolerance."""
    train = frame(2_000, 0)
    reference = drift_reference(train, np.zeros(2_000))
    reference["format"] = 1
    assert "by_month" not in reference and "year_to_year_psi" not in reference
    shifted = frame(2_000, 1, shift=3_000)
    report = drift_report(
        reference,
        count_bins(reference, shifted, np.zeros(2_000)),
        DriftConfig(),
        as_of="2024-07-01",
    )
    assert report["reference_month"] is None and report["alerts"] == 1


def test_a_place_rate_that_moved_is_information_even_within_its_yearly_movement():
    rate = "county_illness_rate_last_year"
    rng = np.random.default_rng(0)

    def rates(year: int) -> np.ndarray:  # villages' rates, a little higher every year
        return rng.uniform(0, 0.3, 2_000) + 0.1 * (year - 2020)

    reference = dated_reference(range(2020, 2024), **{rate: rates})
    scored = seasonal(2_000, 2024, 1, 5).assign(**{rate: rates(2024)})
    report = drift_report(
        reference, count_bins(reference, scored, np.zeros(2_000)), DriftConfig(), as_of="2024-01-01"
    )
    row = next(row for row in report["features"] if row["feature"] == rate)
    assert row["psi"] > 0.25 and row["psi_between_training_years"] > 0.25
    assert row["status"] == "info" and report["alerts"] == 0
