"""Figures about a household's village that reasons compare it with: the village's median
income and medical share of income in the households' last rounds, and its poverty rate."""

from __future__ import annotations

from collections.abc import Iterable
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
    household positions instead of ids (it reads every household of the tables); the same
    floats, bit for bit, as :func:`combine_village_parts` of any split of the households.
    """
    return combine_village_parts([village_parts(tables, as_of)])


def village_parts(tables: Tables, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """What the village facts of ``tables``' households are made of, one row per household
    with a village: its ``village``, the ``income_per_capita`` and
    ``medical_share_pct`` of its last closed round (NaN: none, or unknown), and
    ``poor_last_year`` (1.0 or 0.0 from its round of year(as_of) - 1; NaN: no such round).
    The parts of disjoint slices of households are combined by :func:`combine_village_parts`.
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
    own = last_income_and_medical_share(rounds).reindex(np.arange(len(households)))
    past = rounds[rounds["last_year"] == as_of.year - 1]
    poor = np.full(len(households), np.nan)
    poor[past[HOUSEHOLD_ID].to_numpy()] = past["income_per_capita"] < past["line"]
    village = households[VILLAGE].astype(object)
    out = pd.DataFrame(
        {
            VILLAGE: village.to_numpy(),
            "income_per_capita": own["income_per_capita"].to_numpy(dtype="float64"),
            "medical_share_pct": own["medical_share_pct"].to_numpy(dtype="float64"),
            "poor_last_year": poor,
        }
    )
    return out[village.notna().to_numpy()].reset_index(drop=True)


def combine_village_parts(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """:func:`village_facts` from the :func:`village_parts` of disjoint slices of households
    (exact: medians of the same values, poverty rates from whole counts)."""
    frames = list(parts)
    if not frames:
        return pd.DataFrame(
            {name: pd.Series(dtype="float64") for name in VILLAGE_FACTS},
            index=pd.Index([], dtype=object, name=VILLAGE),
        )
    whole = pd.concat(frames) if len(frames) > 1 else frames[0]
    place, names = pd.factorize(whole[VILLAGE], sort=True)
    by_village = whole.drop(columns=VILLAGE).groupby(place, sort=True)
    medians = by_village[["income_per_capita", "medical_share_pct"]].median()
    n_poor = by_village["poor_last_year"].sum().to_numpy(dtype="float64")
    n_known = by_village["poor_last_year"].count().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        poverty = 100 * (n_poor / n_known)
    out = pd.DataFrame(
        {
            "village_median_income_per_capita": medians["income_per_capita"].to_numpy(),
            "village_median_medical_share_pct": medians["medical_share_pct"].to_numpy(),
            "village_poverty_rate_pct": poverty,
        },
        index=pd.Index(
            np.asarray(names, dtype=object)[medians.index.to_numpy().astype(np.intp)], name=VILLAGE
        ),
    )
    return out.loc[:, list(VILLAGE_FACTS)].astype("float64")


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
