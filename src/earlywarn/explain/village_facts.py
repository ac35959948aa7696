"""Figures about a household's village that reasons compare it with: the village's median
income and medical share of income in the households' last rounds, and its poverty rate."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID, VILLAGE, YEAR
from earlywarn.data.tables import Tables
from earlywarn.explain.round_facts import closed_rounds, last_round_facts

VILLAGE_FACTS = (
    "village_median_income_per_capita",
    "village_median_medical_share_pct",
    "village_poverty_rate_pct",
)
"""Facts about the household's village (over every household of it), in this order."""


def village_facts(tables: Tables, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """One row per village (index: the village): :data:`VILLAGE_FACTS` as known at ``as_of``,
    over every household of the village in ``tables``; pass it to
    :func:`~earlywarn.explain.household_facts.household_facts` to compute the facts of a few
    households from their own rows only."""
    as_of = pd.Timestamp(as_of)
    frame = tables.households.set_index(HOUSEHOLD_ID)
    # only the rows these figures read: each household's last closed round and year - 1
    years = tables.household_years
    closed = years[years[YEAR] < as_of.year]
    last = closed[YEAR].groupby(closed[HOUSEHOLD_ID].to_numpy(), sort=False).transform("max")
    needed = closed[(closed[YEAR] == last) | (closed[YEAR] == as_of.year - 1)]
    rounds = closed_rounds(replace(tables, household_years=needed), as_of)
    facts = frame[[VILLAGE]].join(
        last_round_facts(rounds)[["income_per_capita", "medical_share_pct"]]
    )
    return village_figures(facts, rounds, frame[VILLAGE], as_of.year)


def village_figures(
    facts: pd.DataFrame, rounds: pd.DataFrame, village_of: pd.Series, year: int
) -> pd.DataFrame:
    """Village medians of the households' last rounds (``facts``: village, income_per_capita,
    medical_share_pct per household) and the village's poverty rate in ``year - 1`` (index:
    the village as an object, so any household's village looks it up)."""
    place = facts[VILLAGE].astype(object)
    medians = facts[["income_per_capita", "medical_share_pct"]].groupby(place).median()
    last_year = rounds[rounds["last_year"] == year - 1]
    poor_share = (
        last_year.assign(poor=last_year["income_per_capita"] < last_year["line"])
        .join(village_of.astype(object), on=HOUSEHOLD_ID)
        .groupby(VILLAGE)["poor"]
        .mean()
    )
    out = pd.DataFrame(
        {
            "village_median_income_per_capita": medians["income_per_capita"],
            "village_median_medical_share_pct": medians["medical_share_pct"],
        }
    )
    out = out.reindex(out.index.union(poor_share.index))
    out["village_poverty_rate_pct"] = 100 * poor_share.reindex(out.index).astype("float64")
    out.index = pd.Index(out.index.to_numpy(dtype=object), name=VILLAGE)
    return out.loc[:, list(VILLAGE_FACTS)].astype("float64")
