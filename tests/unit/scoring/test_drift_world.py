"""Drift on the simulator's own world, which does not drift: no alert as of 1 January or
1 July; the same world with wages halved in the last survey round: alerts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import DriftConfig
from earlywarn.data.columns import WAGE_INCOME, YEAR
from earlywarn.data.tables import Tables
from earlywarn.features.build import build_features
from earlywarn.scoring.drift import count_bins, drift_reference, drift_report
from earlywarn.scoring.score import population_ids

pytestmark = pytest.mark.slow

REFERENCE_YEARS = (2021, 2022, 2023)  # training examples, as the train job takes them
MONTHS = (1, 4, 7, 10)


@pytest.fixture(scope="module")
def world() -> Tables:
    from earlywarn.simulator.households import simulate_tables

    return simulate_tables(n_households=1_500, seed=0).tables


def features(tables: Tables, as_of: str, names: tuple[str, ...]) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    households = population_ids(tables, day, "exited")
    return build_features(tables, as_of=day, households=households).loc[:, list(names)]


@pytest.fixture(scope="module")
def reference(world, tiny_model) -> dict:
    names = tiny_model.feature_names
    dated = [
        (f"{y}-{m:02d}-01", features(world, f"{y}-{m:02d}-01", names))
        for y in REFERENCE_YEARS
        for m in MONTHS
    ]
    X = pd.concat([frame for _, frame in dated], ignore_index=True)
    as_of = pd.Series([pd.Timestamp(day) for day, frame in dated for _ in range(len(frame))])
    return drift_reference(X, tiny_model.predict_risk(X), as_of=as_of)


def drift_as_of(tables: Tables, as_of: str, reference: dict, model) -> dict:
    X = features(tables, as_of, model.feature_names)
    counts = count_bins(reference, X, model.predict_risk(X), model.categories)
    return drift_report(reference, counts, DriftConfig(), as_of=as_of)


@pytest.mark.parametrize("as_of", ["2024-01-01", "2024-07-01"])
def test_the_simulators_own_world_raises_no_alert(world, reference, tiny_model, as_of):
    report = drift_as_of(world, as_of, reference, tiny_model)
    assert report["reference_month"] == pd.Timestamp(as_of).month
    assert report["alerts"] == 0, report["warnings"]
    assert report["score_status"] == "ok"


def test_wages_halved_in_the_last_round_raise_alerts(world, reference, tiny_model):
    years = world.household_years
    last_round = years[YEAR] == 2023
    halved = years.assign(
        **{WAGE_INCOME: np.where(last_round, years[WAGE_INCOME] / 2, years[WAGE_INCOME])}
    )
    report = drift_as_of(
        replace(world, household_years=halved), "2024-07-01", reference, tiny_model
    )
    alerts = {row["feature"] for row in report["features"] if row["status"] == "alert"}
    assert "wage_income_share" in alerts, report["warnings"]
    warned = {w.split(":")[0] for w in report["warnings"]}
    assert warned and all("income" in name for name in warned), warned
