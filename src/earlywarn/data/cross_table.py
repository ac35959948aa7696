"""Rules that span tables: every household_id is in households, every survey round has a line.

A table's checks see the other tables only through a :class:`TableContext`, built once from
every table that could be parsed; a rule whose other table could not be read is skipped
(that table's own problem is reported instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from earlywarn.data.columns import (
    COUNTY,
    DEFAULT_LINES,
    HOUSEHOLD_ID,
    HOUSEHOLDS,
    LINE,
    LINES,
    YEAR,
)


@dataclass(frozen=True)
class TableContext:
    """What checks of one table need from the others, and the day of the run."""

    today: pd.Timestamp
    household_ids: pd.Index | None  # None: households could not be read
    county_of: pd.Series | None  # household_id -> county
    general_line_years: frozenset[int]  # years with a line for every county
    county_line_years: frozenset[tuple[str, int]]  # (county, year) with the county's own line


def table_context(parsed: Mapping[str, pd.DataFrame], today: pd.Timestamp) -> TableContext:
    """The context from the parsed tables: household ids and counties, years with a line."""
    households = parsed.get(HOUSEHOLDS)
    household_ids = county_of = None
    if households is not None and HOUSEHOLD_ID in households.columns:
        household_ids = pd.Index(households[HOUSEHOLD_ID].dropna().unique())
        if COUNTY in households.columns:
            known = households.dropna(subset=[HOUSEHOLD_ID]).drop_duplicates(HOUSEHOLD_ID)
            county_of = known.set_index(HOUSEHOLD_ID)[COUNTY]
    general = set(DEFAULT_LINES)
    by_county: set[tuple[str, int]] = set()
    lines = parsed.get(LINES)
    if lines is not None and {YEAR, LINE} <= set(lines.columns):
        usable = lines.dropna(subset=[YEAR, LINE])
        county = usable[COUNTY] if COUNTY in usable.columns else pd.Series(pd.NA, usable.index)
        general |= {int(y) for y in usable.loc[county.isna(), YEAR]}
        by_county |= {
            (str(c), int(y))
            for c, y in zip(county[county.notna()], usable.loc[county.notna(), YEAR], strict=True)
        }
    return TableContext(today, household_ids, county_of, frozenset(general), frozenset(by_county))


def is_known_household(ids: pd.Series, household_ids: pd.Index) -> pd.Series:
    """Which ``ids`` are in households (a hash lookup: ``Series.isin`` on str is slow)."""
    return pd.Series(household_ids.get_indexer(ids) >= 0, index=ids.index)


def has_line(household_years: pd.DataFrame, context: TableContext) -> pd.Series:
    """Which survey rounds have a poverty line: a default or general line for the year, or
    their county's own; a round whose county or year is unknown is not held against it."""
    assert context.county_of is not None
    county = household_years[HOUSEHOLD_ID].map(context.county_of)
    year = household_years[YEAR]
    general = year.isin(context.general_line_years)
    pairs = pd.MultiIndex.from_arrays([county.fillna(""), year.fillna(-1).astype("int64")])
    by_county = pd.Series(pairs.isin(list(context.county_line_years)), index=year.index)
    return general | by_county | county.isna() | year.isna()
