"""Assistance features: measures running on the as-of date d, months on the minimum living
allowance, assistance ended in the last 12 months.

Point in time: only rows that started before d count. An end date on or after d is treated
as "still running at d" and otherwise ignored: a caseworker at d could not know when a running
measure would end, and using the recorded end would leak the future. An end date before d is
known at d and used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import AMOUNT, END_DATE, MEASURE, MEASURES, START_DATE
from earlywarn.features.catalog import measure_running_name
from earlywarn.features.rounds import as_float, positions_in
from earlywarn.features.shocks import day_number, day_numbers, months_before

DAYS_PER_MONTH = 365.25 / 12
N_MEASURES = len(MEASURES)
MIN_LIVING_ALLOWANCE = MEASURES.index("minimum_living_allowance")


def assistance_features(
    assistance: pd.DataFrame, codes: np.ndarray, n_households: int, as_of: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Assistance features per household position (``codes``: the rows' household positions).

    Flags and counts are 0 when nothing is recorded; ``assistance_amount_running_yuan`` sums
    the known amounts (NaN when something runs but no amount is known).
    """
    d = day_number(as_of)
    start = day_numbers(assistance[START_DATE])
    end = day_numbers(assistance[END_DATE])
    measure = positions_in(assistance[MEASURE], MEASURES)
    with np.errstate(invalid="ignore"):
        started = (codes >= 0) & (measure >= 0) & (start < d)
        ended = started & (end < d)  # NaN end (still running) compares False
    running = started & ~ended
    code = codes.astype(np.int64)

    features: dict[str, np.ndarray] = {}
    cell = code[running] * N_MEASURES + measure[running]
    n_running = np.bincount(cell, minlength=n_households * N_MEASURES).reshape(
        n_households, N_MEASURES
    )
    for m, name in enumerate(MEASURES):
        features[measure_running_name(name)] = (n_running[:, m] > 0).astype(np.float64)

    amount = as_float(assistance[AMOUNT])
    with_amount = running & ~np.isnan(amount)
    total = np.bincount(code[with_amount], weights=amount[with_amount], minlength=n_households)
    n_known = np.bincount(code[with_amount], minlength=n_households)
    features["assistance_amount_running_yuan"] = np.where(
        (n_known == 0) & (n_running.sum(axis=1) > 0), np.nan, total
    )

    dibao = started & (measure == MIN_LIVING_ALLOWANCE)
    stop = np.where(ended, end, d)
    months = (stop[dibao] - start[dibao]) / DAYS_PER_MONTH
    features["months_on_min_living_allowance"] = np.bincount(
        code[dibao], weights=months, minlength=n_households
    )

    ended_12m = ended & (end >= months_before(as_of, 12))
    features["n_assistance_ended_12m"] = np.bincount(
        code[ended_12m], minlength=n_households
    ).astype(np.float64)
    last_end = np.full(n_households, -np.inf)
    np.maximum.at(last_end, code[ended], end[ended])
    since = d - last_end
    features["days_since_assistance_ended"] = np.where(np.isinf(since), np.nan, since)
    return features
