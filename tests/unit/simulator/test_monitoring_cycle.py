"""The simulated monitoring cycle: visits lead to spells, exits follow a year above the line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import DEFAULT_LINES, HOUSEHOLD_ID, POVERTY_EXIT_YEAR, YEAR
from earlywarn.features.labels import per_capita_net_income
from earlywarn.simulator.monitoring import monitoring_cycle


@pytest.fixture(scope="module")
def cycle(simulation):
    return simulation.tables.monitoring, simulation.tables.visits


def test_the_cycle_has_spells_exits_and_every_outcome(cycle):
    monitoring, visits = cycle
    assert len(monitoring) >= 20 and monitoring["exited"].notna().sum() >= 5
    assert monitoring["exited"].isna().sum() >= 5  # some still monitored at the end
    assert set(monitoring["category"]) == {"unstable", "edge", "sudden_hardship"}
    assert set(visits["outcome"]) == {"confirmed", "not_at_risk", "unreachable"}
    assert monitoring["entered"].min() >= pd.Timestamp("2020-04-01")
    assert max(monitoring["entered"].max(), visits["visit_date"].max()) <= pd.Timestamp(
        "2025-12-31"
    )


def test_every_spell_follows_a_confirmed_visit(cycle):
    monitoring, visits = cycle
    confirmed = visits[visits["outcome"] == "confirmed"]
    spells = monitoring.sort_values([HOUSEHOLD_ID, "entered"])
    previous_exit = spells.groupby(HOUSEHOLD_ID)["exited"].shift(1)
    spells = spells.assign(after_exit=spells["entered"] == previous_exit + pd.Timedelta(days=1))
    pairs = spells.merge(confirmed, on=HOUSEHOLD_ID)
    gap = (pairs["entered"] - pairs["visit_date"]).dt.days
    follows = gap.between(7, 42) | (pairs["after_exit"] & (gap >= 7))
    followed = pairs[follows].drop_duplicates([HOUSEHOLD_ID, "entered"])
    assert len(followed) == len(monitoring)


def test_unstable_spells_are_of_registered_households(simulation, cycle):
    monitoring, _ = cycle
    exit_year = simulation.tables.households.set_index(HOUSEHOLD_ID)[POVERTY_EXIT_YEAR]
    unstable = monitoring[monitoring["category"] == "unstable"]
    assert exit_year.reindex(unstable[HOUSEHOLD_ID]).notna().all()


def test_risk_is_eliminated_after_a_year_above_the_line(simulation, cycle):
    monitoring, _ = cycle
    rounds = simulation.tables.household_years
    income = rounds.assign(pc=per_capita_net_income(rounds)).set_index([HOUSEHOLD_ID, YEAR])["pc"]
    exits = monitoring[monitoring["exited"].notna()]
    assert (exits["exit_reason"] == "risk_eliminated").all()
    for _, spell in exits.iterrows():
        year = spell["exited"].year - 1
        assert 3 <= spell["exited"].month <= 5  # in spring, once the round is in
        assert income[(spell[HOUSEHOLD_ID], year)] >= DEFAULT_LINES[year]
        assert spell["entered"] < pd.Timestamp(year, 7, 1)


def test_visits_confirm_the_truly_poor_more_often_but_not_always(simulation, cycle):
    _, visits = cycle
    truth = simulation.truth.drop_duplicates([HOUSEHOLD_ID, "target_year"])
    poor = truth.set_index([HOUSEHOLD_ID, "target_year"])["poor"]
    met = visits[visits["outcome"] != "unreachable"]
    key = pd.MultiIndex.from_arrays([met[HOUSEHOLD_ID], met["visit_date"].dt.year])
    was_poor = pd.Series(poor.reindex(key).to_numpy(), index=met.index).dropna().astype(bool)
    confirmed = met.loc[was_poor.index, "outcome"] == "confirmed"
    rate_poor, rate_not = confirmed[was_poor].mean(), confirmed[~was_poor].mean()
    assert rate_poor > rate_not + 0.3
    assert rate_not > 0.0  # noise: some households not poor that year are confirmed


def test_same_seed_same_cycle_and_no_other_table_changes(simulation):
    tables = simulation.tables
    years = sorted(tables.household_years[YEAR].unique())
    flat = {int(y): np.full(len(tables.households), 5000.0) for y in years}
    first = monitoring_cycle(
        tables.households, tables.household_years, tables.events, flat, DEFAULT_LINES, seed=4
    )
    again = monitoring_cycle(
        tables.households, tables.household_years, tables.events, flat, DEFAULT_LINES, seed=4
    )
    pd.testing.assert_frame_equal(first.monitoring, again.monitoring)
    pd.testing.assert_frame_equal(first.visits, again.visits)
