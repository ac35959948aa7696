"""Place features: what is known about the village and the county at the as-of date d, from
every household of the place, whatever slice is being scored: the poverty rate and the rate of
each shock in the last closed year (Y-1), and the rate of each shock so far in Y (before d).

A place enters the model only through these rates, never by its name: a name lets the trees
remember which places were hit in which training year, shocks that do not recur.
"""

from __future__ import annotations

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
    as_of = pd.Timestamp(as_of)
    last_year = as_of.year - 1
    households = tables.households
    n = len(households)
    if codes is None:
        codes = table_codes(tables)
    county, _ = pd.factorize(households[COUNTY])
    village, _ = pd.factorize(households[VILLAGE])
    _, village = np.unique(
        county.astype(np.int64) * (int(village.max(initial=0)) + 1) + village, return_inverse=True
    )
    places = {"village": village.reshape(-1), "county": county}

    household_years = tables.household_years
    rows = np.flatnonzero(
        (household_years[YEAR].to_numpy() == last_year) & (codes.household_years >= 0)
    )
    income = per_capita_net_income(household_years[INCOME_COLUMNS].iloc[rows]).to_numpy()
    code = codes.household_years[rows]
    poor = np.full(n, np.nan)
    poor[code] = is_poor(income, household_lines(tables, code, np.full(len(rows), last_year)))
    known = ~np.isnan(poor)

    events = tables.events
    day = day_numbers(events[DATE])
    start_of_year = pd.Timestamp(year=as_of.year, month=1, day=1)
    windows = {
        "last_year": (day_number(pd.Timestamp(year=last_year, month=1, day=1)), start_of_year),
        "this_year": (day_number(start_of_year), as_of),
    }
    names = {
        ("village", "last_year"): village_shock_rate_name,
        ("county", "last_year"): county_shock_rate_name,
        ("village", "this_year"): village_shock_rate_this_year_name,
        ("county", "this_year"): county_shock_rate_this_year_name,
    }

    rates: dict[str, np.ndarray] = {}
    for level, group in places.items():
        n_groups = int(group.max()) + 1 if n else 0
        n_known = np.bincount(group[known], minlength=n_groups)
        n_poor = np.bincount(group[known], weights=poor[known], minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[f"{level}_poverty_rate_last_year"] = (n_poor / n_known)[group]
    for window, (first_day, end) in windows.items():
        had_shock = _had_shock(codes, day, n, first_day, day_number(pd.Timestamp(end)))
        for level, group in places.items():
            n_groups = int(group.max()) + 1 if n else 0
            size = np.bincount(group, minlength=n_groups)
            for t, event_type in enumerate(EVENT_TYPES):
                n_hit = np.bincount(group[had_shock[:, t]], minlength=n_groups)
                rates[names[level, window](event_type)] = (n_hit / size)[group]
    return pd.DataFrame(rates, index=pd.Index(households[HOUSEHOLD_ID], name=HOUSEHOLD_ID))


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
