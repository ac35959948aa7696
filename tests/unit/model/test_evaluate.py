"""Metrics: calibration error, capacity, subgroups, single-class groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, TARGET_YEAR
from earlywarn.model.evaluate import (
    by_month,
    compare,
    expected_calibration_error,
    reliability_table,
    score_metrics,
    subgroup_attributes,
    subgroup_gaps,
    subgroup_table,
)


def test_calibrated_scores_have_small_ece_and_shifted_ones_large():
    rng = np.random.default_rng(0)
    risk = rng.uniform(0, 1, 20_000)
    y = rng.uniform(0, 1, 20_000) < risk
    assert expected_calibration_error(y, risk) < 0.02
    assert expected_calibration_error(y, np.clip(risk + 0.2, 0, 1)) > 0.15


def test_reliability_table_counts_every_row():
    table = reliability_table(np.array([0, 1, 1, 0]), np.array([0.05, 0.95, 0.9, 1.0]))
    assert table["n"].sum() == 4
    assert table["upper"].max() == 1.0


def test_recall_and_precision_at_capacity():
    metrics = score_metrics(
        np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.8, 0.1]), np.array([True, False, True, False])
    )
    assert metrics["recall_at_capacity"] == 0.5
    assert metrics["precision_at_capacity"] == 0.5
    assert metrics["n_flagged"] == 2


def test_a_group_with_one_class_has_no_ranking_metrics():
    metrics = score_metrics(np.zeros(3), np.array([0.1, 0.2, 0.3]))
    assert np.isnan(metrics["roc_auc"]) and np.isnan(metrics["average_precision"])


def test_rule_flags_get_no_brier_or_ece():
    table = compare(
        np.array([1, 0, 1, 0]),
        {"rule": np.array([1.0, 0.0, 0.0, 1.0]), "model": np.array([0.8, 0.2, 0.6, 0.4])},
        {},
        probabilistic=["model"],
    )
    rows = table.set_index("model")
    assert np.isnan(rows.loc["rule", "brier"]) and rows.loc["model", "roc_auc"] == 1.0


def test_subgroup_table_and_gaps():
    frame = pd.DataFrame(
        {
            "label": [1, 0, 1, 0] * 20,
            "risk": [0.9, 0.1, 0.2, 0.8] * 20,
            "county": ["A", "A", "B", "B"] * 20,
            AS_OF: pd.to_datetime(["2024-01-01", "2024-04-01"] * 40),
        }
    )
    table = subgroup_table(frame, label="label", risk="risk", groups=("county",))
    assert table.set_index("value").loc["A", "roc_auc"] == 1.0
    assert table.set_index("value").loc["B", "roc_auc"] == 0.0
    gaps = subgroup_gaps(table, min_n=10, min_positive=1)
    assert gaps.loc[0, "roc_auc_gap"] == pytest.approx(1.0)
    assert by_month(frame, label="label", risk="risk")["value"].tolist() == ["01", "04"]


def test_subgroup_attributes_use_the_last_round_before_the_target_year(tables):
    ids = tables.households[HOUSEHOLD_ID].iloc[:20].astype(str).to_numpy()
    keys = pd.DataFrame({HOUSEHOLD_ID: ids, AS_OF: pd.Timestamp("2024-04-01"), TARGET_YEAR: 2024})
    attrs = subgroup_attributes(tables, keys)
    assert len(attrs) == 20
    assert set(attrs.columns) >= {"county", "head_sex", "ethnic_minority", "has_disabled_member"}
    years = tables.household_years
    first = years[(years[HOUSEHOLD_ID] == ids[0]) & (years["year"] <= 2023)]
    if len(first):
        last = first.sort_values("year").iloc[-1]["n_disabled"]
        if pd.notna(last):
            assert bool(attrs["has_disabled_member"].iloc[0]) == (last > 0)
