"""The generalisation harness, small: every score on the same test rows, metrics in range,
and earlywarn never fitted on the test year (``benchmarks/bench_generalisation.py`` is the
full-size run)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, WAGE_INCOME, YEAR
from earlywarn.features.labels import make_labels
from generalisation.harness import TEST_MONTHS, evaluate_world
from generalisation.runner import train_earlywarn
from generalisation.worlds import simulator_world, wage_panel_world

pytestmark = [
    pytest.mark.slow,
    # drift_reference takes quantiles of all-empty columns on this one-person panel
    pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning"),
]
TRIALS = 2


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    world = simulator_world(n_households=500, n_oracle_draws=10)(7)
    return world, evaluate_world(world, trials=TRIALS, work_dir=tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def panel():
    pytest.importorskip("linearmodels", reason="the wage panel ships with linearmodels (dev)")
    return wage_panel_world()(0)


def check_result(world, result, scores):
    rows = result.rows
    assert set(scores) <= set(rows.columns)
    always = [name for name in scores if name != "oracle"]
    assert not rows[always].isna().any().any()
    if "oracle" in scores:  # drawn on 1 January and 1 July only: known there, nowhere else
        drawn = pd.to_datetime(rows[AS_OF]).dt.month.isin(ORACLE_MONTHS)
        assert rows.loc[drawn, "oracle"].notna().all()
        assert rows.loc[~drawn, "oracle"].isna().all()
    dates = sorted(rows[AS_OF].unique())
    assert [pd.Timestamp(d) for d in dates] == [
        pd.Timestamp(result.test_year, m, 1) for m in TEST_MONTHS
    ]
    for as_of in dates:  # every labelled household of the population, once
        labels = make_labels(world.tables, pd.Timestamp(as_of), population=world.population)
        at = rows[rows[AS_OF] == as_of]
        expected = labels.dropna()
        if world.truth is not None:  # the oracle knows nearly all of them
            assert result.n_without_oracle <= 0.02 * len(expected) * len(dates)
            assert set(at[HOUSEHOLD_ID]) <= set(expected.index)
        else:
            assert sorted(at[HOUSEHOLD_ID]) == sorted(expected.index)
        assert at[HOUSEHOLD_ID].is_unique
        np.testing.assert_array_equal(
            at["label"].to_numpy(), expected.reindex(at[HOUSEHOLD_ID]).to_numpy(dtype=float)
        )
    metrics = result.metrics
    assert set(metrics["score"]) == set(scores)
    measured = metrics[metrics["score"] != "oracle"]
    assert set(measured[AS_OF]) == {"all", *(f"{pd.Timestamp(d):%Y-%m-%d}" for d in dates)}
    if "oracle" in scores:
        oracle_dates = set(metrics.loc[metrics["score"] == "oracle", AS_OF])
        assert oracle_dates == {"all", *(f"{result.test_year}-{m:02d}-01" for m in ORACLE_MONTHS)}
    for column in ("roc_auc", "average_precision", "recall_at_10pct"):
        assert metrics[column].between(0, 1).all(), column
    probabilities = metrics[~metrics["score"].isin(["rule", "rule_income"])]
    assert (probabilities["risk_over_rate"] > 0).all() and np.isfinite(
        probabilities["risk_over_rate"]
    ).all()
    assert (
        metrics.loc[metrics["score"].isin(["rule", "rule_income"]), "risk_over_rate"].isna().all()
    )
    assert (metrics["n_poor"] > 0).all()
    assert max(result.peer_years) < result.test_year
    model = result.earlywarn["baseline"]
    assert model.test_year == result.test_year
    assert max(model.fit_years) < result.test_year and model.calibration_year < result.test_year


ORACLE_MONTHS = (1, 7)


def test_simulated_world_has_every_score_on_the_same_rows(simulated):
    world, result = simulated
    assert result.test_year == 2025
    check_result(
        world,
        result,
        ["earlywarn", "peer_lgbm", "peer_logistic", "rule", "rule_income", "oracle"],
    )
    oracle = result.metrics.set_index(["score", AS_OF]).loc[("oracle", "all")]
    assert oracle["roc_auc"] > 0.75  # the oracle knows the world's state: a sanity check


def test_real_panel_and_earlywarn_never_fits_the_test_year(panel, tmp_path):
    result = evaluate_world(panel, trials=TRIALS, work_dir=tmp_path)
    assert result.test_year == 1987
    check_result(panel, result, ["earlywarn", "peer_lgbm", "peer_logistic", "rule", "rule_income"])

    # the test year's rounds decide its labels: turn every household's 1987 income upside
    # down, train again, and the model must be the same (trees and calibration)
    years = panel.tables.household_years
    in_test = years[YEAR] == result.test_year
    flipped = years.copy()
    flipped.loc[in_test, WAGE_INCOME] = years.loc[in_test, WAGE_INCOME].to_numpy()[::-1]
    tampered = replace(panel.tables, household_years=flipped)
    labels = make_labels(tampered, "1987-01-01", population="all")
    assert not labels.equals(make_labels(panel.tables, "1987-01-01", population="all"))
    again = train_earlywarn(
        tampered, None, population="all", trials=TRIALS, seed=panel.seed, work_dir=tmp_path / "b"
    )
    before, after = result.earlywarn["baseline"].model, again.model
    assert before.booster.model_to_string() == after.booster.model_to_string()
    assert before.calibrator == after.calibrator
