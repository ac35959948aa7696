"""Monitoring status as of a date: spells, exits and visits known strictly before d."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from earlywarn.features.monitoring import known_monitoring, monitoring_status
from feature_frames import make_tables

HOUSEHOLDS = [
    {"household_id": h, "county": "C1", "village": "V1", "poverty_exit_year": 2019}
    for h in ("A", "B", "C", "D")
]
ROUNDS = [{"household_id": h, "year": 2022, "household_size": 2} for h in ("A", "B", "C", "D")]


def dates(values):
    return pd.Series(pd.to_datetime(values), dtype="datetime64[us]")


@pytest.fixture
def tables():
    base = make_tables(
        HOUSEHOLDS,
        ROUNDS,
        events=[{"household_id": "C", "date": "2024-03-01", "event_type": "illness", "cost": 1.0}],
    )
    monitoring = pd.DataFrame(
        {
            "household_id": pd.array(["A", "B", "B"], dtype="str"),
            "entered": dates(["2023-02-01", "2021-05-01", "2024-06-01"]),
            "category": pd.array(["edge", "unstable", "sudden_hardship"], dtype="str"),
            "risk_types": pd.array(["illness", None, "disaster"], dtype="str"),
            "exited": dates(["2024-04-01", "2022-09-01", None]),
            "exit_reason": pd.array(["risk_eliminated", "risk_eliminated", None], dtype="str"),
        }
    )
    visits = pd.DataFrame(
        {
            "household_id": pd.array(["C", "D", "D", "D"], dtype="str"),
            "visit_date": dates(["2024-01-10", "2023-01-05", "2024-02-01", "2024-02-01"]),
            "outcome": pd.array(["not_at_risk", "confirmed", "not_at_risk", "unreachable"], "str"),
            "risk_types_found": pd.array([None, "illness", None, None], dtype="str"),
            "measures_agreed": pd.array([None, "medical", None, None], dtype="str"),
        }
    )
    return replace(base, monitoring=monitoring, visits=visits)


def test_status_on_a_date_uses_only_what_is_dated_before_it(tables):
    status = monitoring_status(tables, "2024-04-01", ["A", "B", "C", "D"])
    assert status["monitoring_status"].tolist() == [
        "monitored",  # exit on d itself is not yet known
        "exited",  # the second spell starts after d
        "not_monitored",
        "not_monitored",
    ]
    assert status.loc["A", "monitored_since"] == pd.Timestamp("2023-02-01")
    assert status.loc["A", "monitoring_category"] == "edge"
    assert status.loc["B", "monitoring_exited_on"] == pd.Timestamp("2022-09-01")
    assert pd.isna(status.loc["B", "monitored_since"])


def test_a_day_later_the_exit_and_a_new_spell_are_known(tables):
    status = monitoring_status(tables, "2024-07-01", ["A", "B"])
    assert status["monitoring_status"].tolist() == ["exited", "monitored"]
    assert status.loc["B", "monitoring_category"] == "sudden_hardship"
    assert pd.isna(status.loc["B", "monitoring_exited_on"])


def test_verified_not_at_risk_lasts_n_months_unless_a_shock_follows(tables):
    before_shock = monitoring_status(tables, "2024-02-15", ["C", "D"])
    # D's two visits on one day: the not-at-risk finding stands over unreachable
    assert before_shock["verified_not_at_risk_on"].tolist() == [
        pd.Timestamp("2024-01-10"),
        pd.Timestamp("2024-02-01"),
    ]
    after_shock = monitoring_status(tables, "2024-03-02", ["C", "D"])
    assert pd.isna(after_shock.loc["C", "verified_not_at_risk_on"])  # illness on 1 March
    assert after_shock.loc["D", "verified_not_at_risk_on"] == pd.Timestamp("2024-02-01")
    stale = monitoring_status(tables, "2024-08-02", ["D"], verified_months=6)
    assert pd.isna(stale.loc["D", "verified_not_at_risk_on"])
    longer = monitoring_status(tables, "2024-08-02", ["D"], verified_months=12)
    assert longer.loc["D", "verified_not_at_risk_on"] == pd.Timestamp("2024-02-01")


def test_a_confirmed_visit_on_the_same_day_outweighs_not_at_risk(tables):
    visits = pd.concat(
        [tables.visits, tables.visits.iloc[[2]].assign(outcome="confirmed")], ignore_index=True
    )
    status = monitoring_status(replace(tables, visits=visits), "2024-02-15", ["D"])
    assert pd.isna(status.loc["D", "verified_not_at_risk_on"])


def test_known_monitoring_hides_exits_on_or_after_d(tables):
    known = known_monitoring(tables.monitoring, pd.Timestamp("2024-04-01"))
    assert len(known) == 2
    assert known["exited"].isna().tolist() == [True, False]
    assert known["exit_reason"].isna().tolist() == [True, False]
    assert tables.monitoring["exited"].notna().sum() == 2  # the input is not changed


def test_households_without_anything_are_not_monitored(tables):
    empty = replace(tables, monitoring=tables.monitoring.iloc[:0], visits=tables.visits.iloc[:0])
    status = monitoring_status(empty, "2024-04-01", ["A", "Z"])
    assert status["monitoring_status"].tolist() == ["not_monitored", "not_monitored"]
    assert status["verified_not_at_risk_on"].isna().all()
