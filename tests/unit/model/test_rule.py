"""The current rule on raw tables: income near the line, or a serious shock, known at d."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import RuleConfig
from earlywarn.data.columns import (
    ASSISTANCE,
    COST,
    DATE,
    EVENT_TYPE,
    EVENTS,
    HOUSEHOLD_ID,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    LINES,
    YEAR,
)
from earlywarn.data.contract import empty_table, to_canonical
from earlywarn.data.tables import Tables
from earlywarn.errors import SchemaError
from earlywarn.model.rule import (
    INCOME_NEAR_LINE,
    LAST_INCOME,
    LINE_YEAR,
    RULE_FLAGGED,
    RULE_LINE,
    SERIOUS_SHOCK,
    SHOCK_TYPES,
    rule_flags,
)

AS_OF = pd.Timestamp("2024-04-01")  # line 2024: 7300 yuan per person


def _round(hid, year, wage, size=2, medical=0.0):
    return {
        HOUSEHOLD_ID: hid,
        YEAR: year,
        "household_size": size,
        "wage_income": wage,
        "business_income": 0.0,
        "property_income": 0.0,
        "transfer_income": 0.0,
        "medical_expense": medical,
        "education_expense": 0.0,
    }


@pytest.fixture
def small_tables():
    ids = ["H1", "H2", "H3", "H4"]
    households = pd.DataFrame(
        {
            HOUSEHOLD_ID: ids,
            "county": ["C1"] * 4,
            "village": ["V1", "V1", "V2", "V2"],
            "head_sex": ["M", "F", "M", "F"],
            "head_birth_year": [1960, 1970, 1980, 1990],
            "head_education_years": [6, 9, 9, 12],
            "ethnic_minority": [False, True, False, False],
            "poverty_exit_year": [2019, 2019, 2020, 2020],
        }
    )
    years = pd.DataFrame(
        [
            _round("H1", 2022, 40_000.0),
            _round("H1", 2023, 20_000.0),  # 10,000 pc: near (< 10,950)
            _round("H2", 2023, 60_000.0),  # 30,000 pc: far
            _round("H3", 2022, 60_000.0),
            _round("H3", 2024, 1_000.0),  # 2024 not known at d
            _round("H4", 2023, 80_000.0),
        ]
    )
    events = pd.DataFrame(
        {
            HOUSEHOLD_ID: ["H2", "H3", "H3", "H4"],
            DATE: pd.to_datetime(["2023-12-01", "2024-04-01", "2022-01-01", "2024-02-01"]),
            EVENT_TYPE: ["illness", "death", "job_loss", "crop_failure"],
            COST: [5_000.0, np.nan, 1_000.0, 2_000.0],
        }
    )
    return Tables(
        households=to_canonical(HOUSEHOLDS, households),
        household_years=to_canonical(HOUSEHOLD_YEARS, years),
        events=to_canonical(EVENTS, events),
        assistance=empty_table(ASSISTANCE),
        lines=empty_table(LINES),
    )


def test_each_trigger_and_only_what_is_known(small_tables):
    flags = rule_flags(small_tables, AS_OF, ["H1", "H2", "H3", "H4"])
    assert flags.index.tolist() == ["H1", "H2", "H3", "H4"]
    assert flags.loc["H1", LAST_INCOME] == 10_000.0
    assert flags[INCOME_NEAR_LINE].tolist() == [True, False, False, False]
    # H2: illness 4 months ago; H3: death ON the as-of date (not yet known) and a job loss
    # two years ago (outside 12 months); H4: crop failure is not a serious type by default
    assert flags[SERIOUS_SHOCK].tolist() == [False, True, False, False]
    assert flags.loc["H2", SHOCK_TYPES] == "illness"
    assert flags[RULE_FLAGGED].tolist() == [True, True, False, False]
    assert flags.loc["H3", LAST_INCOME] == 30_000.0  # 2022, not the 2024 round


def test_rule_is_configurable(small_tables):
    cfg = RuleConfig(income_margin=4.0, serious_shocks=("crop_failure",), min_shock_cost=3_000.0)
    flags = rule_flags(small_tables, AS_OF, ["H1", "H2", "H3", "H4"], cfg=cfg)
    assert flags[INCOME_NEAR_LINE].tolist() == [True, True, True, False]  # < 36,500
    assert not flags[SERIOUS_SHOCK].any()  # the crop failure cost 2,000 < 3,000


def test_an_unknown_cost_counts_only_without_a_minimum(small_tables):
    later = pd.Timestamp("2024-05-01")
    assert rule_flags(small_tables, later, ["H3"]).loc["H3", SERIOUS_SHOCK]
    cfg = RuleConfig(min_shock_cost=1.0)
    assert not rule_flags(small_tables, later, ["H3"], cfg=cfg).loc["H3", SERIOUS_SHOCK]


def test_no_events_table_means_no_shocks(small_tables):
    quiet = replace(small_tables, events=empty_table(EVENTS))
    assert not rule_flags(quiet, AS_OF, ["H2"])[SERIOUS_SHOCK].any()


def test_default_households_are_the_population(tables):
    flags = rule_flags(tables, pd.Timestamp("2023-07-01"))
    assert len(flags) > 0 and flags.index.is_unique
    assert flags[RULE_FLAGGED].dtype == bool


def test_until_a_year_has_its_line_the_latest_earlier_line_stands(small_tables):
    # the defaults end in 2025 (7,600); a county line set for 2026 applies only to its county
    lines = pd.DataFrame({YEAR: [2026], "line": [12_000.0], "county": ["C2"]})
    with_lines = replace(small_tables, lines=to_canonical(LINES, lines))
    flags = rule_flags(with_lines, pd.Timestamp("2026-03-01"), ["H1", "H2"])
    assert flags[LINE_YEAR].tolist() == [2025, 2025]
    assert flags[RULE_LINE].tolist() == [7_600.0, 7_600.0]
    assert flags[INCOME_NEAR_LINE].tolist() == [True, False]  # 10,000 < 7,600 x 1.5
    own = replace(with_lines, lines=to_canonical(LINES, lines.assign(county="C1")))
    flags = rule_flags(own, pd.Timestamp("2026-03-01"), ["H1"])
    assert (flags.loc["H1", LINE_YEAR], flags.loc["H1", RULE_LINE]) == (2026, 12_000.0)


def test_no_line_in_or_before_the_year_is_an_error(small_tables):
    with pytest.raises(SchemaError, match="no poverty line in or before 2010"):
        rule_flags(small_tables, pd.Timestamp("2010-03-01"), ["H1"])
