"""The simulator: deterministic, contract-valid, calibrated to public figures, honest oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.data import columns as c
from earlywarn.data.personal import contract_frames
from earlywarn.data.schema import read_tables, validate_tables
from earlywarn.simulator.households import simulate_tables
from earlywarn.simulator.oracle import poverty_probability
from earlywarn.simulator.realism import (
    MIX_TARGETS,
    calibration_figures,
    render_calibration,
    roc_auc,
)
from earlywarn.simulator.world import initial_state


@pytest.fixture(scope="module")
def calibration_run():
    """3,000 households: enough for the calibration figures to be stable."""
    return simulate_tables(3_000, seed=0, n_oracle_draws=40)


def test_same_seed_same_tables_and_truth():
    first = simulate_tables(200, seed=7, n_oracle_draws=20)
    again = simulate_tables(200, seed=7, n_oracle_draws=20)
    for name in ("households", "household_years", "events", "assistance", "lines", "personal"):
        pd.testing.assert_frame_equal(getattr(first.tables, name), getattr(again.tables, name))
    pd.testing.assert_frame_equal(first.truth, again.truth)


def test_other_seed_other_world_and_tables_ignore_oracle_draws():
    base = simulate_tables(200, seed=7, n_oracle_draws=20)
    other = simulate_tables(200, seed=8, n_oracle_draws=20)
    more_draws = simulate_tables(200, seed=7, n_oracle_draws=40)
    assert not base.tables.household_years.equals(other.tables.household_years)
    pd.testing.assert_frame_equal(base.tables.events, more_draws.tables.events)
    pd.testing.assert_frame_equal(base.tables.household_years, more_draws.tables.household_years)


def test_tables_keep_the_data_contract(simulation):
    assert validate_tables(contract_frames(simulation.tables), today=None) == []


def test_tables_have_canonical_dtypes_and_ranges(tables):
    households, years = tables.households, tables.household_years
    assert households[c.HOUSEHOLD_ID].is_unique
    assert pd.api.types.is_string_dtype(households[c.COUNTY])
    assert str(households[c.POVERTY_EXIT_YEAR].dtype) == "Int64"
    exits = households[c.POVERTY_EXIT_YEAR].dropna()
    assert exits.between(2016, 2020).all() and households[c.POVERTY_EXIT_YEAR].isna().any()
    assert years[c.YEAR].dtype == np.int64 and years[c.HOUSEHOLD_SIZE].dtype == np.int64
    assert set(years[c.YEAR]) == set(range(2014, 2026))
    assert (years[c.HOUSEHOLD_SIZE] >= 1).all()
    for name in c.MEMBER_COUNTS:
        assert str(years[name].dtype) == "Int64"
        assert (years[name].dropna() <= years.loc[years[name].notna(), c.HOUSEHOLD_SIZE]).all()
    assert str(years[c.HOUSING_SAFE].dtype) == "boolean"
    assert (years[c.BUSINESS_INCOME] < 0).any()
    assert set(tables.events[c.EVENT_TYPE]) <= set(c.EVENT_TYPES)
    assert tables.events[c.DATE].dtype.kind == "M"
    assert tables.events[c.DATE].max() < pd.Timestamp("2026-01-01")
    assert set(tables.assistance[c.MEASURE]) <= set(c.MEASURES)
    assert tables.assistance[c.END_DATE].isna().any()
    ended = tables.assistance.dropna(subset=[c.END_DATE])
    assert (ended[c.END_DATE] >= ended[c.START_DATE]).all()
    assert list(tables.lines.columns) == [c.YEAR, c.LINE, c.COUNTY] and tables.lines.empty


def test_personal_data_lives_apart_and_looks_real(tables):
    personal = tables.personal
    assert not set(c.PERSONAL_COLUMNS) & set(tables.households.columns)
    assert personal.index.name == c.HOUSEHOLD_ID
    assert personal.index.equals(pd.Index(tables.households[c.HOUSEHOLD_ID]))
    assert personal[c.ID_NUMBER].str.len().eq(18).all()
    assert personal[c.PHONE].str.fullmatch(r"1\d{10}").all()
    assert personal[c.HEAD_NAME].str.len().between(2, 3).all()


def test_simulated_directory_reads_back_unchanged(simulation, tmp_path):
    from earlywarn.jobs.simulate import run_calibration, run_simulate

    out = tmp_path / "data"
    written = run_simulate(out, n_households=150, seed=3, n_oracle_draws=10)
    tables = read_tables(out)
    pd.testing.assert_frame_equal(tables.household_years, written.tables.household_years)
    pd.testing.assert_frame_equal(tables.personal, written.tables.personal)
    truth = pd.read_parquet(out / "truth.parquet")
    pd.testing.assert_frame_equal(truth, written.truth)
    assert run_calibration(out).oracle["n"].sum() == len(truth)


def test_truth_covers_the_default_population_twice_a_year(simulation):
    from earlywarn.features.labels import population

    truth = simulation.truth
    assert list(truth.columns) == [
        c.HOUSEHOLD_ID,
        c.AS_OF,
        c.TARGET_YEAR,
        c.ORACLE_PROBABILITY,
        c.POOR,
    ]
    assert truth[c.ORACLE_PROBABILITY].between(0, 1).all()
    dates = sorted(truth[c.AS_OF].unique())
    assert len(dates) == 16 and pd.Timestamp(dates[0]) == pd.Timestamp("2018-01-01")
    for as_of in (pd.Timestamp("2019-01-01"), pd.Timestamp("2023-07-01")):
        ids = truth.loc[truth[c.AS_OF] == as_of, c.HOUSEHOLD_ID]
        assert set(ids) == set(population(simulation.tables, as_of))


def test_oracle_probability_is_certain_for_the_rich_and_the_destitute():
    rng = np.random.default_rng(4)
    state = initial_state(np.zeros(6, np.int64), np.full(6, 40), np.full(6, 9), rng)
    state.wage[:3] = 1e7  # the year is already made
    state.medical[3:] = 1e7  # the year is already lost
    probability = poverty_probability(state, 2022, 7, 20, np.random.SeedSequence(0), n_counties=1)
    np.testing.assert_array_equal(probability, [0, 0, 0, 1, 1, 1])


def test_roc_auc_matches_a_hand_count():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_calibration_figures_are_within_public_ranges(calibration_run):
    figures = calibration_figures(calibration_run)
    assert 14_000 <= figures.median_income <= 18_000
    for source, (low, high) in MIX_TARGETS.items():
        # 3,000 households in 6 counties: shares move about a point with county luck
        assert low - 0.015 <= figures.income_mix[source] <= high + 0.015, source
    assert figures.returns["rate"].between(0.02, 0.12).all()
    assert list(figures.returns.index) == list(range(2018, 2026))
    assert figures.shocks_before_return.index[0] == "illness"
    assert len(render_calibration(figures)) == 4


def test_oracle_is_sharp_and_calibrated(calibration_run):
    figures = calibration_figures(calibration_run)
    assert figures.oracle_auc > 0.85
    assert abs(figures.oracle_mean - figures.oracle_rate) <= 0.10 * figures.oracle_rate
    # knowing the first half of the year helps
    by_month = figures.oracle.groupby(figures.oracle.index.month)["auc"].mean()
    assert by_month[7] > by_month[1]


def test_oracle_gives_the_same_truth_in_other_processes(monkeypatch):
    import earlywarn.simulator.oracle

    monkeypatch.setattr(earlywarn.simulator.oracle, "ROWS_PER_CHUNK", 500)  # several chunks
    alone = simulate_tables(150, seed=5, n_oracle_draws=10)
    shared = simulate_tables(150, seed=5, n_oracle_draws=10, workers=2)
    pd.testing.assert_frame_equal(alone.truth, shared.truth)


def test_no_oracle_draws_means_an_empty_truth_with_its_columns():
    simulation = simulate_tables(100, seed=1, n_oracle_draws=0)
    truth = simulation.truth
    assert truth.empty
    assert list(truth.columns) == [
        c.HOUSEHOLD_ID,
        c.AS_OF,
        c.TARGET_YEAR,
        c.ORACLE_PROBABILITY,
        c.POOR,
    ]
    assert truth[c.AS_OF].dtype.kind == "M" and str(truth[c.POOR].dtype) == "boolean"
