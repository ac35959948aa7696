"""Figures of a household's survey rounds as known at ``as_of``: the closed rounds (years before
``as_of``'s) with income per person and the poverty line, and what the last of them says."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    BUSINESS_INCOME,
    EDUCATION_EXPENSE,
    HAS_MEDICAL_INSURANCE,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSING_SAFE,
    INCOME_SOURCES,
    MEDICAL_EXPENSE,
    MEMBER_COUNTS,
    TRANSFER_INCOME,
    WAGE_INCOME,
    WATER_SAFE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.features.labels import yearly_poverty
from earlywarn.features.rounds import household_codes

MIN_FALL_PCT = 5.0
"""A fall of income smaller than this (percent) is no reason to mention."""

GAPS = {
    "housing_unsafe": HOUSING_SAFE,
    "water_unsafe": WATER_SAFE,
    "no_medical_insurance": HAS_MEDICAL_INSURANCE,
}
"""Living-condition gaps (glossary code -> the round's yes/no column that is 0 for the gap)."""


def closed_rounds(tables: Tables, as_of: pd.Timestamp, *, by_code: bool = False) -> pd.DataFrame:
    """One row per closed survey round (year before ``as_of``'s) of a known household, sorted
    by household and year: ``last_year`` (the round's year), ``income_per_capita`` and
    ``line`` (yuan per person per year), the incomes, expenses, members and gaps (0/1).

    ``by_code``: the household_id column holds the household's position in
    ``tables.households`` instead of its id (faster to sort and group over many households).
    """
    years = tables.household_years
    closed = years[years[YEAR] < as_of.year]
    codes = household_codes(closed[HOUSEHOLD_ID], tables.households[HOUSEHOLD_ID])
    closed = closed[codes >= 0]
    yearly = yearly_poverty(tables, closed)
    return (
        pd.DataFrame(
            {
                HOUSEHOLD_ID: codes[codes >= 0]
                if by_code
                else closed[HOUSEHOLD_ID].to_numpy(dtype=object),
                "last_year": closed[YEAR].to_numpy(dtype="int64"),
                "income_per_capita": yearly.income,
                "line": yearly.line,
                **{
                    name: closed[name].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
                    for name in (
                        *INCOME_SOURCES,
                        MEDICAL_EXPENSE,
                        EDUCATION_EXPENSE,
                        HOUSEHOLD_SIZE,
                        *MEMBER_COUNTS,
                    )
                },
                **{
                    name: closed[name].astype("boolean").to_numpy(dtype="float64", na_value=np.nan)
                    for name in GAPS.values()
                },
            }
        )
        .sort_values([HOUSEHOLD_ID, "last_year"], kind="stable")
        .reset_index(drop=True)
    )


def last_round_facts(rounds: pd.DataFrame) -> pd.DataFrame:
    """Figures of each household's last closed round and the change from the round before
    (index household_id; rounds as :func:`closed_rounds` gives them)."""
    grouped = rounds.groupby(HOUSEHOLD_ID, sort=False)
    last = grouped.tail(1).set_index(HOUSEHOLD_ID)
    previous = grouped.nth(-2).set_index(HOUSEHOLD_ID).reindex(last.index)
    gross = gross_income(last)
    positive = gross.where(gross > 0)
    facts = last.copy()
    facts["previous_year"] = previous["last_year"]
    facts["previous_income_per_capita"] = previous["income_per_capita"]
    facts["income_to_line_pct"] = 100 * last["income_per_capita"] / last["line"]
    facts["income_fall_pct"] = _fall_pct(last["income_per_capita"], previous["income_per_capita"])
    facts["wage_fall_pct"] = _fall_pct(last[WAGE_INCOME], previous[WAGE_INCOME])
    facts["business_fall_pct"] = _fall_pct(last[BUSINESS_INCOME], previous[BUSINESS_INCOME])
    for name, column in (
        ("medical_share_pct", MEDICAL_EXPENSE),
        ("education_share_pct", EDUCATION_EXPENSE),
        ("transfer_share_pct", TRANSFER_INCOME),
        ("wage_share_pct", WAGE_INCOME),
        ("business_share_pct", BUSINESS_INCOME),
    ):
        facts[name] = 100 * last[column] / positive
    facts["n_dependents"] = last[HOUSEHOLD_SIZE] - last["n_labor"]
    facts["gross_income"] = gross
    facts["net_income"] = last["income_per_capita"] * last[HOUSEHOLD_SIZE]
    gaps = pd.Series("", index=last.index, dtype="string")
    for code, column in GAPS.items():
        gaps = gaps.where(last[column] != 0.0, gaps + "," + code)
    facts["living_gaps"] = gaps.str.lstrip(",").replace("", pd.NA)
    return facts


def gross_income(last: pd.DataFrame) -> pd.Series:
    """A round's gross income (the four sources; NaN when any is unknown)."""
    return last[list(INCOME_SOURCES)].sum(axis=1, min_count=len(INCOME_SOURCES))


def last_income_and_medical_share(rounds: pd.DataFrame) -> pd.DataFrame:
    """``income_per_capita`` and ``medical_share_pct`` of each household's last closed round
    (as :func:`last_round_facts` gives them, without the rest)."""
    last = rounds.groupby(HOUSEHOLD_ID, sort=False).tail(1).set_index(HOUSEHOLD_ID)
    gross = gross_income(last)
    positive = gross.where(gross > 0)
    return pd.DataFrame(
        {
            "income_per_capita": last["income_per_capita"],
            "medical_share_pct": 100 * last[MEDICAL_EXPENSE] / positive,
        }
    )


def _fall_pct(now: pd.Series, before: pd.Series) -> pd.Series:
    """How much ``now`` fell below ``before``, in percent of it; NaN unless it fell by at
    least :data:`MIN_FALL_PCT` (a smaller dip is no reason to mention)."""
    fall = 100 * (before - now) / before.where(before > 0)
    return fall.where(fall >= MIN_FALL_PCT)
