"""Place features: what is known about the village and the county at the as-of date d, from
every household of the place, whatever slice is being scored: the poverty rate and the rate of
each shock in the last closed year (Y-1), and the rate of each shock so far in Y (before d).

A place enters the model only through these rates, never by its name: a name lets the trees
remember which places were hit in which training year, shocks that do not recur.

The rates are ratios of whole numbers counted per village (:func:`place_counts`), so they can
be computed as a distributed aggregate: count each slice of households, add the counts
(:func:`combine_place_counts`), then give each household its places' rates
(:func:`rates_from_counts`). :func:`place_rates` is exactly that on one slice, so both ways
give the same floats, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    COUNTY,
    DATE,
    EVENT_TYPES,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    INCOME_SOURCES,
    RIGID_EXPENSES,
    VILLAGE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.features.labels import household_lines, is_poor, per_capita_net_income
from earlywarn.features.rounds import TableCodes, table_codes
from earlywarn.features.shocks import N_TYPES, day_number, day_numbers
from earlywarn.features.spec import (
    county_shock_rate_name,
    county_shock_rate_this_year_name,
    village_shock_rate_name,
    village_shock_rate_this_year_name,
)

INCOME_COLUMNS = [*INCOME_SOURCES, *RIGID_EXPENSES, HOUSEHOLD_SIZE]
WINDOWS = ("last_year", "this_year")
N_HOUSEHOLDS, N_KNOWN, N_POOR = "n_households", "n_poverty_known_last_year", "n_poor_last_year"
RATE_NAMES = {
    ("village", "last_year"): village_shock_rate_name,
    ("county", "last_year"): county_shock_rate_name,
    ("village", "this_year"): village_shock_rate_this_year_name,
    ("county", "this_year"): county_shock_rate_this_year_name,
}


def hit_count_name(window: str, event_type: str) -> str:
    """The count of households with at least one ``event_type`` event in ``window``."""
    return f"n_hit_{window}_{event_type}"


COUNT_COLUMNS = [
    N_HOUSEHOLDS,
    N_KNOWN,
    N_POOR,
    *(hit_count_name(w, t) for w in WINDOWS for t in EVENT_TYPES),
]


def place_rates(
    tables: Tables, as_of: pd.Timestamp | str, *, codes: TableCodes | None = None
) -> pd.DataFrame:
    """One row per household of ``tables.households`` (same order, indexed by household_id):
    its village's and county's rates in year(as_of) - 1 and so far in year(as_of).

    Poverty rate (last year): poor households among those whose poverty that year is known
    (NaN if none is). Shock rate: households with at least one such event in the window
    (last year; from 1 January to the day before ``as_of``) among all the place's
    households. A village is a (county, village) pair. ``codes``: ``table_codes(tables)`` if
    already computed.
    """
    counts = combine_place_counts([place_counts(tables, as_of, codes=codes)])
    return rates_from_counts(tables.households, counts)


def place_counts(
    tables: Tables, as_of: pd.Timestamp | str, *, codes: TableCodes | None = None
) -> pd.DataFrame:
    """What the place rates of ``tables``' households are made of, one row per village (index:
    county, village): households, households whose poverty in year(as_of) - 1 is known, the
    poor among them, and households hit by each event type in each window (int64 counts; the
    counts of disjoint slices of households add up to those of their union)."""
    as_of = pd.Timestamp(as_of)
    last_year = as_of.year - 1
    households = tables.households
    n = len(households)
    if codes is None:
        codes = table_codes(tables)
    group, villages = village_groups(households)
    n_groups = len(villages)

    household_years = tables.household_years
    rows = np.flatnonzero(
        (household_years[YEAR].to_numpy() == last_year) & (codes.household_years >= 0)
    )
    income = per_capita_net_income(household_years[INCOME_COLUMNS].iloc[rows]).to_numpy()
    code = codes.household_years[rows]
    poor = np.full(n, np.nan)
    poor[code] = is_poor(income, household_lines(tables, code, np.full(len(rows), last_year)))
    known = ~np.isnan(poor)
    counts = {
        N_HOUSEHOLDS: np.bincount(group, minlength=n_groups),
        N_KNOWN: np.bincount(group[known], minlength=n_groups),
        N_POOR: np.bincount(group[known & (poor == 1.0)], minlength=n_groups),
    }
    day = day_numbers(tables.events[DATE])
    start_of_year = pd.Timestamp(year=as_of.year, month=1, day=1)
    windows = {
        "last_year": (day_number(pd.Timestamp(year=last_year, month=1, day=1)), start_of_year),
        "this_year": (day_number(start_of_year), as_of),
    }
    for window, (first_day, end) in windows.items():
        had_shock = _had_shock(codes, day, n, first_day, day_number(pd.Timestamp(end)))
        for t, event_type in enumerate(EVENT_TYPES):
            hit = np.bincount(group[had_shock[:, t]], minlength=n_groups)
            counts[hit_count_name(window, event_type)] = hit
    return pd.DataFrame(
        {name: counts[name].astype(np.int64) for name in COUNT_COLUMNS}, index=villages
    )


def combine_place_counts(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The :func:`place_counts` of disjoint slices of households added up, one row per
    village sorted by county and village."""
    frames = list(parts)
    if not frames:
        return place_counts_empty()
    whole = pd.concat(frames) if len(frames) > 1 else frames[0]
    return whole.groupby(level=[COUNTY, VILLAGE], sort=True).sum().astype(np.int64)


def place_counts_empty() -> pd.DataFrame:
    """Counts of no household."""
    index = pd.MultiIndex.from_arrays([[], []], names=[COUNTY, VILLAGE])
    return pd.DataFrame({name: np.zeros(0, np.int64) for name in COUNT_COLUMNS}, index=index)


def rates_from_counts(households: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`place_rates` of ``households`` (one row each, same order, indexed by
    household_id) from the counts of every household of their places
    (:func:`combine_place_counts`); a household whose village is not counted is an error."""
    group, villages = village_groups(households)
    row = counts.index.get_indexer(villages)
    if (row < 0).any():
        missing = villages[row < 0][0]
        raise ValueError(f"no place counts for village {missing!r} (county, village)")
    by_county = counts.groupby(level=COUNTY, sort=True).sum()
    county_row = by_county.index.get_indexer(villages.get_level_values(COUNTY))
    levels = {"village": (counts, row[group]), "county": (by_county, county_row[group])}
    rates: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for level, (table, at) in levels.items():
            n_poor = table[N_POOR].to_numpy(dtype=np.float64)
            rates[f"{level}_poverty_rate_last_year"] = (n_poor / table[N_KNOWN].to_numpy())[at]
        for window in WINDOWS:
            for level, (table, at) in levels.items():
                size = table[N_HOUSEHOLDS].to_numpy()
                for event_type in EVENT_TYPES:
                    n_hit = table[hit_count_name(window, event_type)].to_numpy()
                    rates[RATE_NAMES[level, window](event_type)] = (n_hit / size)[at]
    return pd.DataFrame(rates, index=pd.Index(households[HOUSEHOLD_ID], name=HOUSEHOLD_ID))


def village_groups(households: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex]:
    """Each household's village as a position in the (county, village) pairs found."""
    county, counties = pd.factorize(households[COUNTY])
    village, names = pd.factorize(households[VILLAGE])
    width = len(names) + 1
    pairs, group = np.unique(county.astype(np.int64) * width + village, return_inverse=True)
    villages = pd.MultiIndex.from_arrays(
        [
            np.asarray(counties, dtype=object)[pairs // width],
            np.asarray(names, dtype=object)[pairs % width],
        ],
        names=[COUNTY, VILLAGE],
    )
    return group.reshape(-1), villages


def _had_shock(
    codes: TableCodes, day: np.ndarray, n_households: int, first_day: int, end_day: int
) -> np.ndarray:
    """(households, event types): at least one such event dated in [first_day, end_day)."""
    kind = codes.event_types
    with np.errstate(invalid="ignore"):
        in_window = (day >= first_day) & (day < end_day) & (kind >= 0) & (codes.events >= 0)
    had = np.zeros(n_households * N_TYPES, dtype=bool)
    had[codes.events[in_window] * N_TYPES + kind[in_window]] = True
    return had.reshape(n_households, N_TYPES)
