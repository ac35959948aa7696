"""Simulated-like tables for the scoring benchmark: contract-shaped, a million households fast.

The household simulator (``earlywarn.simulator``) runs a month-by-month world with an oracle
and needs minutes for a million households; scoring only needs tables with the same shape,
dtypes and rough distributions. This draws them directly with numpy: 10 survey rounds
(2015-2024, about 5% missing), about 5 events and 0.6 assistance measures per household,
villages of about 200 households, counties of about 5,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data import columns as c
from earlywarn.data.contract import empty_table
from earlywarn.data.tables import Tables

YEARS = np.arange(2015, 2025)
EVENT_P = np.array([0.30, 0.08, 0.03, 0.08, 0.03, 0.12, 0.12, 0.08, 0.06, 0.02, 0.08])


def _ids(prefix: str, values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(np.char.add(prefix, np.char.zfill(values.astype(str), width)), dtype="str")


def simulated_like_tables(n: int, seed: int = 0) -> Tables:
    rng = np.random.default_rng(seed)
    hid = _ids("H", np.arange(n), 7)
    county_i = np.arange(n) // 5_000
    village_i = np.arange(n) // 200
    exit_year = np.where(rng.random(n) < 0.8, rng.integers(2016, 2021, n), -1)
    households = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: hid,
            c.COUNTY: _ids("C", county_i, 4),
            c.VILLAGE: _ids("V", village_i, 6),
            c.HEAD_SEX: pd.Series(np.where(rng.random(n) < 0.8, "M", "F"), dtype="str"),
            c.HEAD_BIRTH_YEAR: pd.array(rng.integers(1940, 1995, n), dtype="Int64"),
            c.HEAD_EDUCATION_YEARS: pd.array(rng.integers(0, 13, n), dtype="Int64"),
            c.ETHNIC_MINORITY: pd.array(rng.random(n) < 0.2, dtype="boolean"),
            c.POVERTY_EXIT_YEAR: pd.array(np.where(exit_year > 0, exit_year, 0), dtype="Int64"),
        }
    )
    households.loc[exit_year < 0, c.POVERTY_EXIT_YEAR] = pd.NA

    # survey rounds: household x year, ~5% missing
    n_years = len(YEARS)
    keep = rng.random(n * n_years) >= 0.05
    h = np.repeat(np.arange(n), n_years)[keep]
    year = np.tile(YEARS, n)[keep]
    m = len(h)
    size = np.clip(rng.poisson(3.2, n) + 1, 1, 12)[h]
    level = rng.lognormal(0, 0.45, n)[h]
    growth = 1.07 ** (year - 2015)
    shock = rng.lognormal(0, 0.35, m)
    base = 9_000.0 * level * growth * shock * size
    labor = np.minimum(rng.binomial(size, 0.55), size)
    elderly = np.minimum(rng.binomial(size, 0.15), size - labor)
    children = np.minimum(rng.binomial(size, 0.2), size - labor - elderly)

    def money(share: float, spread: float) -> np.ndarray:
        return np.round(base * share * rng.lognormal(0, spread, m), 0)

    business = money(0.33, 0.6) * np.where(rng.random(m) < 0.05, -0.3, 1.0)
    medical = np.round(rng.exponential(1_500, m) * np.where(rng.random(m) < 0.1, 8, 1), 0)
    household_years = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: hid.to_numpy()[h],
            c.YEAR: year.astype("int64"),
            c.HOUSEHOLD_SIZE: size.astype("int64"),
            c.N_LABOR: pd.array(labor, dtype="Int64"),
            c.N_ELDERLY: pd.array(elderly, dtype="Int64"),
            c.N_CHILDREN: pd.array(children, dtype="Int64"),
            c.N_STUDENTS: pd.array(np.minimum(rng.binomial(children, 0.7), size), dtype="Int64"),
            c.N_DISABLED: pd.array(rng.binomial(size, 0.03), dtype="Int64"),
            c.N_CHRONIC_ILL: pd.array(rng.binomial(size, 0.08), dtype="Int64"),
            c.N_MIGRANT_WORKERS: pd.array(rng.binomial(labor, 0.4), dtype="Int64"),
            c.WAGE_INCOME: money(0.40, 0.5),
            c.BUSINESS_INCOME: business,
            c.PROPERTY_INCOME: money(0.03, 0.8),
            c.TRANSFER_INCOME: money(0.24, 0.4),
            c.MEDICAL_EXPENSE: medical,
            c.EDUCATION_EXPENSE: np.round(children * rng.exponential(800, m), 0),
            c.HOUSING_SAFE: pd.array(rng.random(m) < 0.95, dtype="boolean"),
            c.WATER_SAFE: pd.array(rng.random(m) < 0.97, dtype="boolean"),
            c.HAS_MEDICAL_INSURANCE: pd.array(rng.random(m) < 0.96, dtype="boolean"),
        }
    )
    household_years[c.HOUSEHOLD_ID] = household_years[c.HOUSEHOLD_ID].astype("str")
    null_income = rng.random(m) < 0.01
    household_years.loc[null_income, c.WAGE_INCOME] = np.nan

    # events: ~5 per household between 2015 and early 2025
    n_events = rng.poisson(5, n)
    eh = np.repeat(np.arange(n), n_events)
    k = len(eh)
    start = pd.Timestamp("2015-01-01")
    days = rng.integers(0, (pd.Timestamp("2025-02-28") - start).days, k)
    events = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.Series(hid.to_numpy()[eh], dtype="str"),
            c.DATE: (start + pd.to_timedelta(days, unit="D")).astype("datetime64[us]"),
            c.EVENT_TYPE: pd.Series(
                np.asarray(c.EVENT_TYPES)[rng.choice(len(c.EVENT_TYPES), k, p=EVENT_P)], dtype="str"
            ),
            c.COST: np.round(rng.lognormal(7.5, 1.2, k), 0),
        }
    )
    events.loc[rng.random(k) < 0.3, c.COST] = np.nan
    events = events.sort_values([c.HOUSEHOLD_ID, c.DATE], kind="stable", ignore_index=True)

    # assistance: ~0.6 measures per household
    n_assist = rng.poisson(0.6, n)
    ah = np.repeat(np.arange(n), n_assist)
    a = len(ah)
    a_start = start + pd.to_timedelta(rng.integers(0, 3_500, a), unit="D")
    a_end = np.minimum(
        a_start + pd.to_timedelta(rng.integers(180, 2_000, a), unit="D"), pd.Timestamp("2025-12-31")
    )
    assistance = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.Series(hid.to_numpy()[ah], dtype="str"),
            c.START_DATE: pd.Series(a_start).astype("datetime64[us]"),
            c.END_DATE: pd.Series(a_end).astype("datetime64[us]"),
            c.MEASURE: pd.Series(
                np.asarray(c.MEASURES)[rng.integers(0, len(c.MEASURES), a)], dtype="str"
            ),
            c.AMOUNT: np.round(rng.lognormal(8, 0.6, a), 0),
        }
    )
    assistance.loc[rng.random(a) < 0.4, c.END_DATE] = pd.NaT
    lines = empty_table(c.LINES)
    return Tables(
        households=households,
        household_years=household_years,
        events=events,
        assistance=assistance,
        lines=lines,
    )
