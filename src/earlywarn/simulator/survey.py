"""Yearly survey rounds: members at 1 January, money over the year, a few gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data import columns as c
from earlywarn.features.labels import per_capita_net_income
from earlywarn.simulator.registry import Registry
from earlywarn.simulator.world import WorldState, poverty_ramp

P_NOT_SURVEYED = 0.03
P_NULL_COMPONENT = 0.004


def survey_round(
    start: WorldState, end: WorldState, year: int, registry: Registry, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """One survey round: members at 1 January, money over the year, a few gaps."""
    n = len(start)
    size = start.size_start.astype(np.int64)
    ramp = poverty_ramp(year)  # safe housing and water spread with poverty alleviation
    frame = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(registry.household_id, dtype="str"),
            c.YEAR: np.full(n, year, np.int64),
            c.HOUSEHOLD_SIZE: size,
            c.N_LABOR: start.n_labor,
            c.N_ELDERLY: start.n_elderly,
            c.N_CHILDREN: start.n_children,
            c.N_STUDENTS: start.n_students,
            c.N_DISABLED: np.minimum(start.n_disabled, size),
            c.N_CHRONIC_ILL: np.minimum(start.n_chronic, size),
            c.N_MIGRANT_WORKERS: start.n_migrant,
            c.WAGE_INCOME: end.wage.round(),
            c.BUSINESS_INCOME: end.business.round(),
            c.PROPERTY_INCOME: end.property_income.round(),
            c.TRANSFER_INCOME: end.transfer.round(),
            c.MEDICAL_EXPENSE: end.medical.round(),
            c.EDUCATION_EXPENSE: end.education.round(),
            c.HOUSING_SAFE: registry.housing_u < 0.75 + 0.23 * ramp,
            c.WATER_SAFE: registry.water_u < 0.7 + 0.28 * ramp,
            c.HAS_MEDICAL_INSURANCE: start.insured,
        }
    )
    for name in c.MEMBER_COUNTS:
        frame[name] = frame[name].astype("Int64")
        frame.loc[rng.random(n) < P_NULL_COMPONENT / 2, name] = pd.NA
    for name in (*c.INCOME_SOURCES, *c.RIGID_EXPENSES):
        frame.loc[rng.random(n) < P_NULL_COMPONENT, name] = np.nan
    for name in c.SAFETY_FLAGS:
        frame[name] = frame[name].astype("boolean")
        frame.loc[rng.random(n) < P_NULL_COMPONENT, name] = pd.NA
    surveyed = rng.random(n) >= P_NOT_SURVEYED
    return frame[surveyed].reset_index(drop=True), np.flatnonzero(surveyed)


def observed_per_capita(survey: pd.DataFrame, rows: np.ndarray, n: int) -> np.ndarray:
    """Per-capita net income as the survey shows it, per household row (NaN = unknown or not
    surveyed): the labels' own rule, :func:`~earlywarn.features.labels.per_capita_net_income`."""
    pc = np.full(n, np.nan)
    pc[rows] = per_capita_net_income(survey).to_numpy()
    return pc
