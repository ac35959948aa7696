"""Random monitoring spells and visits for test tables, and changes dated on or after a date."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID, MEASURES
from earlywarn.data.monitoring import CATEGORIES, EXIT_REASONS, OUTCOMES, RISK_TYPE_CODES
from earlywarn.data.tables import Tables

FIRST_DAY = pd.Timestamp("2018-01-01")
N_DAYS = 365 * 8


def _codes(rng: np.random.Generator, allowed: tuple[str, ...], n: int) -> list[str | None]:
    return [
        ";".join(rng.choice(allowed, size=rng.integers(1, 3), replace=False))
        if rng.random() < 0.8
        else None
        for _ in range(n)
    ]


def with_monitoring(tables: Tables, seed: int) -> Tables:
    """``tables`` with up to two spells per household for half of them, and visits."""
    rng = np.random.default_rng(seed)
    ids = tables.households[HOUSEHOLD_ID].to_numpy()
    rows = []
    for household in ids[rng.random(len(ids)) < 0.5]:
        day = int(rng.integers(0, N_DAYS))
        for _ in range(int(rng.integers(1, 3))):
            entered = FIRST_DAY + pd.Timedelta(days=day)
            length = int(rng.integers(30, 900))
            closed = rng.random() < 0.6
            exited = entered + pd.Timedelta(days=length) if closed else pd.NaT
            rows.append(
                (
                    household,
                    entered,
                    rng.choice(CATEGORIES),
                    _codes(rng, RISK_TYPE_CODES, 1)[0],
                    exited,
                    rng.choice(EXIT_REASONS) if closed else None,
                )
            )
            if not closed:
                break
            day += length + int(rng.integers(1, 400))
    monitoring = pd.DataFrame(
        rows,
        columns=["household_id", "entered", "category", "risk_types", "exited", "exit_reason"],
    )
    n = len(ids) * 2
    outcomes = rng.choice(OUTCOMES, n)
    met = outcomes != "unreachable"
    visits = pd.DataFrame(
        {
            "household_id": rng.choice(ids, n),
            "visit_date": FIRST_DAY + pd.to_timedelta(rng.integers(0, N_DAYS, n), unit="D"),
            "outcome": outcomes,
            "risk_types_found": np.where(met, _codes(rng, RISK_TYPE_CODES, n), None),
            "measures_agreed": np.where(met, _codes(rng, MEASURES, n), None),
        }
    )
    return replace(tables, monitoring=_typed(monitoring), visits=_typed(visits))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    dates = [c for c in frame.columns if c in ("entered", "exited", "visit_date")]
    texts = [c for c in frame.columns if c not in dates]
    return frame.astype({**dict.fromkeys(dates, "datetime64[us]"), **dict.fromkeys(texts, "str")})


MONITORING_OPERATIONS = [
    "add_spells",
    "change_exits",
    "drop_spells",
    "add_visits",
    "change_visits",
    "drop_visits",
    "shuffle_monitoring",
]


def future_monitoring_change(
    tables: Tables, as_of: pd.Timestamp, operation: str, rng: np.random.Generator
) -> Tables:
    """Change, add or delete only spells, exits and visits dated on or after ``as_of``."""
    monitoring, visits = tables.monitoring, tables.visits
    ids = tables.households[HOUSEHOLD_ID].to_numpy()

    def later(n: int) -> pd.Series:
        days = pd.to_timedelta(rng.integers(0, 800, n), unit="D")
        return pd.Series(as_of + days).astype("datetime64[us]")

    if operation == "add_spells":
        extra = monitoring.sample(min(4, len(monitoring)), random_state=1).copy()
        extra["entered"] = later(len(extra)).to_numpy()
        extra["exited"] = pd.NaT
        extra["exit_reason"] = pd.NA
        monitoring = pd.concat([monitoring, extra], ignore_index=True)
    elif operation == "change_exits":
        monitoring = monitoring.copy()
        open_at = (monitoring["entered"] < as_of) & ~(monitoring["exited"] < as_of)
        n = int(open_at.sum())
        new_exit = later(n).to_numpy().copy()
        new_exit[rng.random(n) < 0.4] = np.datetime64("NaT")
        monitoring.loc[open_at, "exited"] = new_exit
        monitoring.loc[open_at, "exit_reason"] = np.where(
            pd.isna(new_exit), None, "risk_eliminated"
        )
        monitoring.loc[monitoring["entered"] >= as_of, "category"] = "edge"
    elif operation == "drop_spells":
        monitoring = monitoring[monitoring["entered"] < as_of]
    elif operation == "add_visits":
        extra = pd.DataFrame(
            {
                "household_id": rng.choice(ids, 6),
                "visit_date": later(6),
                "outcome": rng.choice(OUTCOMES, 6),
                "risk_types_found": None,
                "measures_agreed": None,
            }
        )
        visits = pd.concat([visits, _typed(extra)], ignore_index=True)
    elif operation == "change_visits":
        visits = visits.copy()
        visits.loc[visits["visit_date"] >= as_of, "outcome"] = "not_at_risk"
    elif operation == "drop_visits":
        visits = visits[visits["visit_date"] < as_of]
    elif operation == "shuffle_monitoring":
        monitoring = monitoring.sample(frac=1.0, random_state=2)
        visits = visits.sample(frac=1.0, random_state=3)
    return replace(tables, monitoring=monitoring, visits=visits)
