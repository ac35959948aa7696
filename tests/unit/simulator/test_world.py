"""The world's state and rules: the calendar, the ramp, the first households, a month, a year."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from earlywarn.config import SimulateConfig
from earlywarn.data.columns import EVENT_TYPES
from earlywarn.simulator.month import run_months
from earlywarn.simulator.new_year import end_year, start_year
from earlywarn.simulator.records import Records
from earlywarn.simulator.shocks import livelihood_shocks
from earlywarn.simulator.world import (
    DISASTER,
    FIRST_YEAR,
    ILLNESS,
    INJURY,
    LINES,
    NO_END,
    Month,
    WorldState,
    days_in_month,
    initial_state,
    keep_counts_consistent,
    month_start,
    poverty_ramp,
)

MEMBERS = ("n_children", "n_students", "n_labor", "n_elderly")


def households(n: int, seed: int = 0, *, n_counties: int = 3) -> WorldState:
    """``n`` households of 1 January 2014 spread over ``n_counties`` counties."""
    rng = np.random.default_rng(seed)
    county = np.arange(n) % n_counties
    head_age = rng.integers(25, 80, n)
    return initial_state(county, head_age, rng.integers(0, 13, n), rng)


def assert_counts_consistent(state: WorldState) -> None:
    for name in (*MEMBERS, "n_migrant", "n_chronic", "n_disabled"):
        assert (getattr(state, name) >= 0).all(), name
    workers = state.n_chronic_labor + state.n_disabled_labor + state.n_migrant
    assert (workers <= state.n_labor).all()
    assert (state.n_chronic <= state.n_chronic_labor + state.n_elderly).all()
    assert (state.n_disabled <= state.n_disabled_labor + state.n_elderly).all()
    assert (state.size >= 1).all()


def test_calendar():
    assert month_start(1970, 1) == 0
    assert month_start(2014, 2) - month_start(2014, 1) == 31
    assert days_in_month(2016, 2) == 29 and days_in_month(2017, 2) == 28
    assert days_in_month(2025, 12) == 31
    december = Month.of(2025, 12)
    assert (december.t, december.n_days) == (11, 31)
    assert december.medical_growth == pytest.approx(1.05**11)


def test_a_months_rates_follow_the_worlds_settings():
    settings = SimulateConfig(
        shock_rate=2.0, shock_rates={"illness": 3.0}, harsh_year=2025, income_growth=0.1
    )
    harsh, before = Month.of(2025, 3, settings), Month.of(2024, 3, settings)
    assert harsh.shock_rate[ILLNESS] == 2.0 * 3.0 * 1.5 and before.shock_rate[ILLNESS] == 6.0
    assert harsh.shock_rate[INJURY] == 3.0 and harsh.is_harsh and not before.is_harsh
    assert harsh.earned_growth == pytest.approx(1.1**11)
    today = Month.of(2025, 3)
    assert today.shock_rate == (1.0,) * len(EVENT_TYPES) and today.earned_growth == 1.0
    # Python floats: a NumPy scalar would compare float32 draws in float64 and move the world
    assert all(type(rate) is float for rate in (*today.shock_rate, *harsh.shock_rate))


def test_poverty_ramp_rises_from_2014_to_2020_then_holds():
    assert poverty_ramp(2014) == 0.0
    assert poverty_ramp(2017) == pytest.approx(0.5)
    assert poverty_ramp(2020) == poverty_ramp(2025) == 1.0
    ramp = [poverty_ramp(year) for year in range(2010, 2026)]
    assert ramp == sorted(ramp) and min(ramp) == 0.0


def test_first_households_are_whole_and_the_same_for_the_same_seed():
    state, again, other = households(2_000), households(2_000), households(2_000, seed=1)
    assert_counts_consistent(state)
    np.testing.assert_array_equal(state.size_start, state.size)
    assert not state.registered.any() and not state.exited.any()
    assert (state.dibao_start == NO_END).all() and np.isnan(state.last_pc_net).all()
    for field in fields(WorldState):
        np.testing.assert_array_equal(getattr(state, field.name), getattr(again, field.name))
    assert not np.array_equal(state.ability, other.ability)


def test_a_year_keeps_incomes_in_range_and_members_whole():
    state = households(3_000)
    year = run_months(state, 2018, 1, 12, np.random.default_rng(1), n_counties=3)
    assert_counts_consistent(year)
    for name in ("wage", "property_income", "transfer", "medical", "education"):
        assert (getattr(year, name) >= 0).all(), name
    assert np.isfinite(year.business).all() and (year.business < 0).any()
    per_capita = year.per_capita_net() / LINES[2018]
    # the typical household lives on one to four times the line; a bad year costs a few lines
    assert 1 < np.median(per_capita) < 4
    assert np.percentile(per_capita, 1) > -5 and per_capita.max() < 100
    # the same seed gives the same year; another seed another one
    again = run_months(state, 2018, 1, 12, np.random.default_rng(1), n_counties=3)
    other = run_months(state, 2018, 1, 12, np.random.default_rng(2), n_counties=3)
    for field in fields(WorldState):
        np.testing.assert_array_equal(getattr(year, field.name), getattr(again, field.name))
    assert not np.array_equal(year.medical, other.medical)


def test_incomes_grow_from_year_to_year():
    state = households(3_000)
    early = run_months(state, 2015, 1, 12, np.random.default_rng(1), n_counties=3)
    late = run_months(state, 2024, 1, 12, np.random.default_rng(1), n_counties=3)
    assert np.median(late.wage) > 1.5 * np.median(early.wage)


def test_a_disaster_takes_the_harvest_and_the_herd():
    state = households(2_000)
    state.business[:] = 0.0
    before_harvest, before_herd = state.harvest_factor.copy(), state.herd.copy()
    every = np.ones(len(state), bool)
    shocks = livelihood_shocks(
        state, Month.of(2019, 7), every, ~every, None, np.random.default_rng(0)
    )
    assert shocks.disaster.hit.all() and (shocks.disaster.cost > 0).all()
    # about 70% of the hit households lose part of their crop, 30% with a herd part of it
    assert 0.6 < shocks.crop.hit.mean() < 0.8
    assert (state.harvest_factor[shocks.crop.hit] < before_harvest[shocks.crop.hit]).all()
    herders = before_herd > 0
    assert 0.2 < shocks.livestock.hit[herders].mean() < 0.4
    assert (state.herd <= before_herd).all() and (state.business < 0).all()


def test_a_drought_fails_most_crops():
    state = households(2_000)
    nowhere, everywhere = np.zeros(len(state), bool), np.ones(len(state), bool)
    when = Month.of(2019, 7)
    rng = np.random.default_rng(0)
    dry = livelihood_shocks(state.copy(), when, nowhere, nowhere, everywhere, rng)
    normal = livelihood_shocks(state.copy(), when, nowhere, nowhere, None, rng)
    assert 0.75 < dry.crop.hit.mean() < 0.85 and normal.crop.hit.mean() < 0.03
    herders = state.herd > 0
    assert dry.livestock.hit[herders].mean() > 5 * normal.livestock.hit[herders].mean()


def test_a_lockdown_cuts_migrant_wages():
    state = households(3_000)
    # February 2020: nine counties in ten locked down; February 2019: none
    locked = run_months(state, 2020, 2, 2, np.random.default_rng(4), n_counties=3)
    normal = run_months(state, 2019, 2, 2, np.random.default_rng(4), n_counties=3)
    migrants = state.n_migrant > 0
    assert np.median(locked.wage[migrants]) < 0.6 * np.median(normal.wage[migrants])


def test_run_months_is_pure_and_reproducible():
    rng = np.random.default_rng(1)
    state = initial_state(np.arange(50) % 3, np.full(50, 45), np.full(50, 8), rng)
    before = state.copy()
    first = run_months(state, 2014, 3, 12, np.random.default_rng(5), n_counties=3)
    again = run_months(state, 2014, 3, 12, np.random.default_rng(5), n_counties=3)
    for name in ("wage", "medical", "n_labor", "business"):
        np.testing.assert_array_equal(getattr(state, name), getattr(before, name))
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert isinstance(start_year(first, 2015, rng), WorldState)


def test_an_illness_early_in_the_year_raises_that_years_medical_bill():
    rng = np.random.default_rng(2)
    state = initial_state(np.zeros(4_000, np.int64), np.full(4_000, 45), np.full(4_000, 8), rng)
    frail = state.copy()
    frail.frailty = frail.frailty * 4
    healthy = run_months(state, 2016, 1, 12, np.random.default_rng(3), n_counties=1)
    sick = run_months(frail, 2016, 1, 12, np.random.default_rng(3), n_counties=1)
    assert sick.medical.mean() > 2 * healthy.medical.mean()
    assert sick.wage.mean() < healthy.wage.mean()


def test_new_year_starts_the_flows_again_and_remembers_last_year():
    rng = np.random.default_rng(5)
    december = run_months(households(1_000), 2016, 1, 12, rng, n_counties=3)
    january = start_year(december, 2017, rng)
    for name in ("wage", "business", "property_income", "transfer", "medical", "education"):
        assert (getattr(january, name) == 0).all(), name
    np.testing.assert_array_equal(january.last_pc_net, december.per_capita_net())
    np.testing.assert_array_equal(january.size_start, np.maximum(january.size, 1))
    assert_counts_consistent(january)
    assert december.wage.sum() > 0  # the input is not changed


def test_poorer_households_are_registered_and_all_exit_by_2020():
    rng = np.random.default_rng(6)
    state = run_months(households(3_000), FIRST_YEAR, 1, 12, rng, n_counties=3)
    registered = end_year(state, FIRST_YEAR, rng).registered
    income = state.per_capita_net()
    assert 0.2 < registered.mean() < 0.8
    assert np.median(income[registered]) < np.median(income[~registered])
    state.registered = registered
    assert not end_year(state, 2015, rng).exited.any()
    assert 0 < end_year(state, 2016, rng).exited.sum() < registered.sum()
    last = end_year(state, 2020, rng)
    np.testing.assert_array_equal(last.exited, registered)


def test_records_keep_one_row_per_household_hit():
    state = households(10)
    records = Records.empty()
    records.event(state, np.array([2, 5]), np.arange(10) + 100, DISASTER, 500.0)
    records.event(state, np.array([], np.int64), 0, DISASTER, 1.0)  # nothing to write
    records.aid(state, np.array([1]), np.array([7]), np.array([NO_END]), 3, np.array([900.0]))
    assert len(records.event_household) == 1
    np.testing.assert_array_equal(records.event_household[0], [2, 5])
    np.testing.assert_array_equal(records.event_day[0], [102, 105])
    np.testing.assert_array_equal(records.event_cost[0], [500.0, 500.0])
    assert records.aid_end[0][0] == NO_END and records.aid_amount[0][0] == 900.0


def test_counts_are_made_consistent_after_deaths():
    state = households(5)
    state.n_labor[:] = 1
    state.n_chronic_labor[:] = 1
    state.n_disabled_labor[:] = 1
    state.n_migrant[:] = 1
    keep_counts_consistent(state)
    assert (state.n_chronic_labor + state.n_disabled_labor + state.n_migrant == 1).all()
