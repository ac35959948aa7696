"""Figures about a household's village that reasons compare it with: the village's median
income and medical share of income in the households' last rounds, and its poverty rate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID, VILLAGE, YEAR
from earlywarn.data.tables import Tables
from earlywarn.explain.round_facts import (
    closed_rounds,
    last_income_and_medical_share,
)
from earlywarn.features.rounds import household_codes

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
    households from their own rows only.

    The same figures as :func:`village_figures` of the households' facts, computed on
    household positions instead of ids (it reads every household of the tables).
    """
    as_of = pd.Timestamp(as_of)
    households, years = tables.households, tables.household_years
    # only the rows these figures read: each household's last closed round and year - 1
    codes = household_codes(years[HOUSEHOLD_ID], households[HOUSEHOLD_ID])
    round_year = years[YEAR].to_numpy(dtype="int64")
    closed = (round_year < as_of.year) & (codes >= 0)
    last = np.full(len(households), np.iinfo(np.int64).min)
    np.maximum.at(last, codes[closed], round_year[closed])
    needed = closed & ((round_year == last[np.maximum(codes, 0)]) | (round_year == as_of.year - 1))
    rounds = closed_rounds(replace(tables, household_years=years[needed]), as_of, by_code=True)
    own = last_income_and_medical_share(rounds)
    place, names = pd.factorize(households[VILLAGE].astype(object))
    figures = own.reindex(np.arange(len(households)))[place >= 0]
    medians = figures.groupby(place[place >= 0]).median()
    past = rounds[(rounds["last_year"] == as_of.year - 1) & (place[rounds[HOUSEHOLD_ID]] >= 0)]
    poor = pd.Series(past["income_per_capita"] < past["line"])
    poor_share = poor.groupby(place[past[HOUSEHOLD_ID].to_numpy()]).mean()
    out = pd.DataFrame(
        {
            "village_median_income_per_capita": medians["income_per_capita"],
            "village_median_medical_share_pct": medians["medical_share_pct"],
            "village_poverty_rate_pct": 100 * poor_share.reindex(medians.index).astype("float64"),
        }
    )
    out.index = pd.Index(np.asarray(names, dtype=object)[out.index.to_numpy()], name=VILLAGE)
    return out.sort_index().loc[:, list(VILLAGE_FACTS)].astype("float64")


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
