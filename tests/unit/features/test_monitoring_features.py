"""Features from the monitoring cycle: spells, exits and visits known strictly before d."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.contract import empty_table
from earlywarn.data.monitoring import MONITORING, VISITS
from earlywarn.features.build import build_features
from earlywarn.features.catalog import FEATURES
from feature_frames import make_tables

IDS = ["A", "B", "C", "D"]
MONITORING_FEATURES = [s.name for s in FEATURES if s.reason_group == "monitoring"]
HOUSEHOLDS = [
    {"household_id": h, "county": "C1", "village": "V1", "poverty_exit_year": 2019} for h in IDS
]
ROUNDS = [{"household_id": h, "year": 2022, "household_size": 2} for h in IDS]


def dates(values):
    return pd.Series(pd.to_datetime(values), dtype="datetime64[us]")


@pytest.fixture
def tables():
    base = make_tables(HOUSEHOLDS, ROUNDS)
    monitoring = pd.DataFrame(
        {
            "household_id": pd.array(["A", "B", "B", "C"], dtype="str"),
            "entered": dates(["2023-02-01", "2021-05-01", "2024-06-01", "2024-04-01"]),
            "category": pd.array(["edge", "unstable", "sudden_hardship", "edge"], dtype="str"),
            "risk_types": pd.array([None] * 4, dtype="str"),
            "exited": dates(["2024-04-01", "2022-09-01", None, None]),
            "exit_reason": pd.array(["risk_eliminated", "risk_eliminated", None, None], "str"),
        }
    )
    visits = pd.DataFrame(
        {
            "household_id": pd.array(["C", "D", "D", "D", "A"], dtype="str"),
            "visit_date": dates(
                ["2024-01-10", "2023-01-05", "2024-02-01", "2024-02-01", "2024-04-01"]
            ),
            "outcome": pd.array(
                ["not_at_risk", "confirmed", "not_at_risk", "unreachable", "confirmed"], "str"
            ),
            "risk_types_found": pd.array([None] * 5, dtype="str"),
            "measures_agreed": pd.array([None] * 5, dtype="str"),
        }
    )
    return replace(base, monitoring=monitoring, visits=visits)


def test_features_on_a_date_use_only_what_is_dated_before_it(tables):
    f = build_features(tables, as_of="2024-04-01", households=IDS)[MONITORING_FEATURES]
    # A: entered 2023-02-01, exit on d itself not yet known: still monitored
    a = f.loc["A"]
    assert a["is_monitored"] == 1.0
    assert (
        a["days_in_current_monitoring_spell"]
        == (pd.Timestamp("2024-04-01") - pd.Timestamp("2023-02-01")).days
    )
    assert a["n_monitoring_spells_entered"] == 1.0
    assert np.isnan(a["days_since_monitoring_exit"])
    assert a["is_monitoring_category_edge"] == 1.0
    assert np.isnan(a["days_since_last_visit"])  # the visit on d is not known yet
    assert a["is_last_visit_confirmed"] == 0.0
    # B: first spell exited 2022-09-01; the second (sudden hardship) starts after d
    b = f.loc["B"]
    assert (b["is_monitored"], b["n_monitoring_spells_entered"]) == (0.0, 1.0)
    assert np.isnan(b["days_in_current_monitoring_spell"])
    assert (
        b["days_since_monitoring_exit"]
        == (pd.Timestamp("2024-04-01") - pd.Timestamp("2022-09-01")).days
    )
    assert b["is_monitoring_category_unstable"] == 1.0
    assert b["is_monitoring_category_sudden_hardship"] == 0.0
    # C: entered on d: not yet known; one visit found it not at risk
    c = f.loc["C"]
    assert (c["is_monitored"], c["n_monitoring_spells_entered"]) == (0.0, 0.0)
    assert c[[f"is_monitoring_category_{k}" for k in ("unstable", "edge")]].sum() == 0.0
    assert c["is_last_visit_not_at_risk"] == 1.0
    assert c["days_since_last_visit"] == 82
    # D: two visits on its last visit day: the most serious finding stands
    d = f.loc["D"]
    assert d["is_last_visit_not_at_risk"] == 1.0
    assert d["is_last_visit_unreachable"] == 0.0
    assert d["days_since_last_visit"] == 60


def test_later_dates_see_the_exit_and_the_new_spell(tables):
    f = build_features(tables, as_of="2024-07-01", households=IDS)[MONITORING_FEATURES]
    assert f.loc["A", "is_monitored"] == 0.0
    assert f.loc["A", "days_since_monitoring_exit"] == 91
    assert f.loc["A", "is_last_visit_confirmed"] == 1.0
    assert f.loc["B", "is_monitored"] == 1.0
    assert f.loc["B", "n_monitoring_spells_entered"] == 2.0
    assert f.loc["B", "days_in_current_monitoring_spell"] == 30
    assert f.loc["B", "is_monitoring_category_sudden_hardship"] == 1.0
    assert f.loc["B", "is_monitoring_category_unstable"] == 0.0


def test_absent_or_empty_tables_give_zero_flags_and_counts_and_empty_days(tables):
    empty = replace(tables, monitoring=empty_table(MONITORING), visits=empty_table(VISITS))
    for world in (empty, make_tables(HOUSEHOLDS, ROUNDS)):
        f = build_features(world, as_of="2024-07-01", households=IDS)[MONITORING_FEATURES]
        days = [name for name in MONITORING_FEATURES if name.startswith("days_")]
        assert f[days].isna().all().all()
        assert (f.drop(columns=days) == 0.0).all().all()


def test_a_slice_of_households_gets_the_same_rows(tables):
    whole = build_features(tables, as_of="2024-07-01", households=IDS)[MONITORING_FEATURES]
    part = build_features(tables, as_of="2024-07-01", households=["D", "B"])[MONITORING_FEATURES]
    pd.testing.assert_frame_equal(part, whole.loc[["D", "B"]])
