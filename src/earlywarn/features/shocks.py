"""Shock features: events by type in the last 3, 12 and 36 months, days since the last of each
type, shocks so far in the target year and their known costs. Only events dated before d."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import COST, DATE, EVENT_TYPE, EVENT_TYPES
from earlywarn.features.catalog import (
    SHOCK_WINDOWS_MONTHS,
    shock_count_name,
    shock_days_since_name,
    shock_this_year_name,
)
from earlywarn.features.rounds import as_float, positions_in

N_TYPES = len(EVENT_TYPES)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as float (NaN for NaT), whatever the datetime resolution."""
    days = dates.to_numpy()
    if not np.issubdtype(days.dtype, np.datetime64):
        days = dates.to_numpy(dtype="datetime64[us]")
    days = days.astype("datetime64[D]")
    out = days.astype(np.int64).astype(np.float64)
    out[np.isnat(days)] = np.nan
    return out


def day_number(when: pd.Timestamp) -> int:
    """Days since 1970-01-01 of a date."""
    return int(np.datetime64(pd.Timestamp(when).date(), "D").astype(np.int64))


def months_before(as_of: pd.Timestamp, months: int) -> int:
    """Day number of the date ``months`` calendar months before ``as_of``."""
    return day_number(as_of - pd.DateOffset(months=months))


def event_type_codes(events: pd.DataFrame) -> np.ndarray:
    """Position of each event's type in EVENT_TYPES (-1 if not a contract type)."""
    return positions_in(events[EVENT_TYPE], EVENT_TYPES)


def shock_features(
    events: pd.DataFrame,
    codes: np.ndarray,
    n_households: int,
    as_of: pd.Timestamp,
    *,
    event_types: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Shock features per household position; ``codes`` are the events' household positions.

    Counts are 0 when nothing happened; ``days_since_last_*`` is NaN when no such event was
    ever recorded; ``event_cost_12m_yuan`` is NaN when every shock of the 12 months has an
    unknown cost. ``event_types``: ``event_type_codes(events)`` if already computed.
    """
    d = day_number(as_of)
    day = day_numbers(events[DATE])
    kind = event_type_codes(events) if event_types is None else event_types
    with np.errstate(invalid="ignore"):
        known = (codes >= 0) & (kind >= 0) & (day < d)
    code, kind, day = codes[known], kind[known], day[known]
    cell = code * N_TYPES + kind

    def counts(since: int) -> np.ndarray:
        recent = day >= since
        return (
            np.bincount(cell[recent], minlength=n_households * N_TYPES)
            .reshape(n_households, N_TYPES)
            .astype(np.float64)
        )

    features: dict[str, np.ndarray] = {}
    by_window = {months: counts(months_before(as_of, months)) for months in SHOCK_WINDOWS_MONTHS}
    this_year = counts(day_number(pd.Timestamp(year=as_of.year, month=1, day=1)))
    last_day = np.full(n_households * N_TYPES, -np.inf)
    np.maximum.at(last_day, cell, day)
    days_since = (d - last_day).reshape(n_households, N_TYPES)  # inf where never
    days_since[np.isinf(days_since)] = np.nan
    for t, event_type in enumerate(EVENT_TYPES):
        for months in SHOCK_WINDOWS_MONTHS:
            features[shock_count_name(event_type, months)] = by_window[months][:, t]
        features[shock_days_since_name(event_type)] = days_since[:, t]
        features[shock_this_year_name(event_type)] = this_year[:, t]
    features["n_events_this_year"] = this_year.sum(axis=1)

    cost = as_float(events[COST])[known]
    last_12m = day >= months_before(as_of, 12)
    has_cost = last_12m & ~np.isnan(cost)
    total = np.bincount(code[has_cost], weights=cost[has_cost], minlength=n_households)
    n_with_cost = np.bincount(code[has_cost], minlength=n_households)
    n_unknown = np.bincount(code[last_12m & np.isnan(cost)], minlength=n_households)
    features["event_cost_12m_yuan"] = np.where((n_with_cost == 0) & (n_unknown > 0), np.nan, total)
    features["n_events_unknown_cost_12m"] = n_unknown.astype(np.float64)
    return features
