"""Small hand-made, contract-shaped tables for the labels and features tests (no simulator)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    EVENT_TYPES,
    HOUSEHOLD_ID,
    MEASURES,
    MEMBER_COUNTS,
    SAFETY_FLAGS,
)
from earlywarn.data.tables import Tables


def households_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    defaults = {
        "head_sex": None,
        "head_birth_year": None,
        "head_education_years": None,
        "ethnic_minority": None,
        "poverty_exit_year": None,
    }
    for name, value in defaults.items():
        if name not in frame:
            frame[name] = value
    for name in ("head_birth_year", "head_education_years", "poverty_exit_year"):
        frame[name] = frame[name].astype("Int64")
    frame["ethnic_minority"] = frame["ethnic_minority"].astype("boolean")
    frame["head_sex"] = frame["head_sex"].astype("str").where(frame["head_sex"].notna())
    for name in (HOUSEHOLD_ID, "county", "village"):
        frame[name] = frame[name].astype("str")
    return frame


def household_years_frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "household_size": 3,
        "n_labor": 2,
        "n_elderly": 0,
        "n_children": 1,
        "n_students": 1,
        "n_disabled": 0,
        "n_chronic_ill": 0,
        "n_migrant_workers": 0,
        "wage_income": 30000.0,
        "business_income": 0.0,
        "property_income": 0.0,
        "transfer_income": 0.0,
        "medical_expense": 0.0,
        "education_expense": 0.0,
        "housing_safe": True,
        "water_safe": True,
        "has_medical_insurance": True,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame[HOUSEHOLD_ID] = frame[HOUSEHOLD_ID].astype("str")
    frame["year"] = frame["year"].astype("int64")
    frame["household_size"] = frame["household_size"].astype("int64")
    for name in MEMBER_COUNTS:
        frame[name] = frame[name].astype("Int64")
    for name in SAFETY_FLAGS:
        frame[name] = frame[name].astype("boolean")
    for name in (
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "medical_expense",
        "education_expense",
    ):
        frame[name] = frame[name].astype("float64")
    return frame


def events_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[HOUSEHOLD_ID, "date", "event_type", "cost"])
    frame[HOUSEHOLD_ID] = frame[HOUSEHOLD_ID].astype("str")
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[us]")
    frame["event_type"] = frame["event_type"].astype("str")
    frame["cost"] = frame["cost"].astype("float64")
    return frame


def assistance_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=[HOUSEHOLD_ID, "start_date", "end_date", "measure", "amount"]
    )
    frame[HOUSEHOLD_ID] = frame[HOUSEHOLD_ID].astype("str")
    for name in ("start_date", "end_date"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    frame["measure"] = frame["measure"].astype("str")
    frame["amount"] = frame["amount"].astype("float64")
    return frame


def lines_frame(rows: list[dict] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows or [], columns=["year", "line", "county"])
    return frame.astype({"year": "int64", "line": "float64", "county": "str"})


def make_tables(
    households: list[dict],
    household_years: list[dict],
    events: list[dict] | None = None,
    assistance: list[dict] | None = None,
    lines: list[dict] | None = None,
) -> Tables:
    return Tables(
        households=households_frame(households),
        household_years=household_years_frame(household_years),
        events=events_frame(events or []),
        assistance=assistance_frame(assistance or []),
        lines=lines_frame(lines),
    )


def random_tables(
    n_households: int = 40, seed: int = 0, first_year: int = 2016, last_year: int = 2024
) -> Tables:
    """Random but contract-shaped tables: skipped rounds, nulls, events, assistance."""
    rng = np.random.default_rng(seed)
    ids = [f"H{i:04d}" for i in range(n_households)]
    households = [
        {
            HOUSEHOLD_ID: hid,
            "county": f"C{rng.integers(3)}",
            "village": f"V{rng.integers(3)}",
            "head_sex": rng.choice(["M", "F", None]),
            "head_birth_year": int(rng.integers(1940, 1995)) if rng.random() < 0.9 else None,
            "head_education_years": int(rng.integers(0, 16)),
            "ethnic_minority": bool(rng.random() < 0.3),
            "poverty_exit_year": int(rng.integers(2015, 2023)) if rng.random() < 0.8 else None,
        }
        for hid in ids
    ]
    rounds = []
    for hid in ids:
        for year in range(first_year, last_year + 1):
            if rng.random() < 0.15:
                continue  # not surveyed that year
            size = int(rng.integers(1, 6))
            row = {
                HOUSEHOLD_ID: hid,
                "year": year,
                "household_size": size,
                "n_labor": int(rng.integers(0, size + 1)),
                "n_elderly": int(rng.integers(0, 2)),
                "n_children": int(rng.integers(0, 2)),
                "n_students": int(rng.integers(0, 2)),
                "n_disabled": int(rng.integers(0, 2)),
                "n_chronic_ill": int(rng.integers(0, 2)),
                "n_migrant_workers": int(rng.integers(0, 2)),
                "wage_income": float(rng.gamma(2.0, 8000.0 * size)),
                "business_income": float(rng.normal(3000.0, 4000.0)),
                "property_income": float(rng.gamma(1.0, 300.0)),
                "transfer_income": float(rng.gamma(1.0, 1500.0)),
                "medical_expense": float(rng.gamma(1.0, 2000.0)),
                "education_expense": float(rng.gamma(1.0, 1000.0)),
                "housing_safe": bool(rng.random() < 0.9),
                "water_safe": None,
                "has_medical_insurance": bool(rng.random() < 0.95),
            }
            if rng.random() < 0.1:
                row[str(rng.choice(["wage_income", "medical_expense", "n_labor"]))] = None
            rounds.append(row)
    start = pd.Timestamp(f"{first_year}-01-01")
    span = (pd.Timestamp(f"{last_year + 1}-12-31") - start).days
    events = [
        {
            HOUSEHOLD_ID: str(rng.choice(ids)),
            "date": start + pd.Timedelta(days=int(rng.integers(span))),
            "event_type": str(rng.choice(EVENT_TYPES)),
            "cost": float(rng.gamma(1.0, 3000.0)) if rng.random() < 0.8 else None,
        }
        for _ in range(4 * n_households)
    ]
    assistance = []
    for _ in range(n_households):
        begin = start + pd.Timedelta(days=int(rng.integers(span)))
        end = begin + pd.Timedelta(days=int(rng.integers(30, 900))) if rng.random() < 0.6 else None
        assistance.append(
            {
                HOUSEHOLD_ID: str(rng.choice(ids)),
                "start_date": begin,
                "end_date": end,
                "measure": str(rng.choice(MEASURES)),
                "amount": float(rng.gamma(2.0, 1500.0)) if rng.random() < 0.9 else None,
            }
        )
    return make_tables(households, rounds, events, assistance)
