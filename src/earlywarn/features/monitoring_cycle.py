"""Features from the monitoring cycle as of d: spells as a monitoring subject and home visits.

The as-of rule of :mod:`earlywarn.features.monitoring` holds: a spell counts once ``entered``
is before d, its exit once ``exited`` is before d (an exit on or after d leaves the spell
running at d), a visit once ``visit_date`` is before d. The "last" spell is the one entered
last (a running one before a closed one entered the same day); on a visit day the most serious
finding stands (confirmed over not at risk over unreachable), as in ``monitoring_status``.
Flags and counts are 0 without rows (absent or empty tables too); days are NaN then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.monitoring import (
    CATEGORIES,
    CATEGORY,
    CONFIRMED,
    ENTERED,
    EXITED,
    NOT_AT_RISK,
    OUTCOME,
    OUTCOMES,
    UNREACHABLE,
    VISIT_DATE,
)
from earlywarn.features.rounds import positions_in
from earlywarn.features.shocks import day_number, day_numbers
from earlywarn.features.spec import monitoring_category_name, visit_outcome_name

_SERIOUSNESS = np.array([{UNREACHABLE: 0, NOT_AT_RISK: 1, CONFIRMED: 2}[o] for o in OUTCOMES])


def monitoring_cycle_features(
    monitoring: pd.DataFrame,
    visits: pd.DataFrame,
    spell_codes: np.ndarray,
    visit_codes: np.ndarray,
    n_households: int,
    as_of: pd.Timestamp,
) -> dict[str, np.ndarray]:
    """Monitoring and visit features per household position (``spell_codes``/``visit_codes``:
    each row's household position, -1 to leave it out)."""
    d = day_number(as_of)
    return _spell_features(monitoring, spell_codes, n_households, d) | _visit_features(
        visits, visit_codes, n_households, d
    )


def _last_of_each(code: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(household positions, row indices) of each household's last row ordered by ``keys``
    (first key most significant; rows equal in every key: the last one given)."""
    composite = code.astype(np.int64)
    for key in keys:  # dense ranks folded into one int64 (one argsort, not a lexsort)
        levels, rank = np.unique(key, return_inverse=True)
        composite = composite * len(levels) + rank.reshape(-1)
    order = np.argsort(composite, kind="stable")
    sorted_code = code[order]
    ends = np.flatnonzero(np.r_[sorted_code[1:] != sorted_code[:-1], True][: len(code)])
    return sorted_code[ends], order[ends]


def _spell_features(
    monitoring: pd.DataFrame, codes: np.ndarray, n: int, d: int
) -> dict[str, np.ndarray]:
    entered = day_numbers(monitoring[ENTERED])
    exited = day_numbers(monitoring[EXITED])
    with np.errstate(invalid="ignore"):
        known = (codes >= 0) & (entered < d)
        closed = known & (exited < d)  # NaN (no exit) compares False
    running = known & ~closed
    code = codes.astype(np.int64)

    latest_running = np.full(n, -np.inf)
    np.maximum.at(latest_running, code[running], entered[running])
    last_exit = np.full(n, -np.inf)
    np.maximum.at(last_exit, code[closed], exited[closed])
    monitored = np.isfinite(latest_running)
    features = {
        "is_monitored": monitored.astype(np.float64),
        "days_in_current_monitoring_spell": np.where(monitored, d - latest_running, np.nan),
        "n_monitoring_spells_entered": np.bincount(code[known], minlength=n).astype(np.float64),
        "days_since_monitoring_exit": np.where(np.isfinite(last_exit), d - last_exit, np.nan),
    }
    # category of the running or last spell: entered last, a running one before a closed one
    category = positions_in(monitoring[CATEGORY], CATEGORIES)
    rows = np.flatnonzero(known)
    exit_key = np.where(closed[rows], exited[rows], np.inf)
    households, last = _last_of_each(code[rows], entered[rows], exit_key)
    last_category = np.full(n, -1, dtype=np.int64)
    last_category[households] = category[rows[last]]
    for c, name in enumerate(CATEGORIES):
        features[monitoring_category_name(name)] = (last_category == c).astype(np.float64)
    return features


def _visit_features(
    visits: pd.DataFrame, codes: np.ndarray, n: int, d: int
) -> dict[str, np.ndarray]:
    date = day_numbers(visits[VISIT_DATE])
    outcome = positions_in(visits[OUTCOME], OUTCOMES)
    with np.errstate(invalid="ignore"):
        rows = np.flatnonzero((codes >= 0) & (outcome >= 0) & (date < d))
    households, last = _last_of_each(
        codes[rows].astype(np.int64), date[rows], _SERIOUSNESS[outcome[rows]]
    )
    last_outcome = np.full(n, -1, dtype=np.int64)
    last_outcome[households] = outcome[rows[last]]
    last_date = np.full(n, np.nan)
    last_date[households] = date[rows[last]]
    features = {
        visit_outcome_name(name): (last_outcome == o).astype(np.float64)
        for o, name in enumerate(OUTCOMES)
    }
    features["days_since_last_visit"] = d - last_date
    return features
