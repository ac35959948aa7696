"""Contributions add up, match SHAP, and become reasons lists for the scores file, for a
booster and for logistic regression alike."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from earlywarn.explain.contributions import (
    CONTRIBUTION_SCALE,
    MATERIAL_POINTS,
    contributions,
    explain,
    explain_with_glossary,
    import_shap,
    shap_summary_png,
)
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.reasons import AVERAGE_RISK, OTHER_FACTORS, RULE_PREFIX, SUM_PREFIX
from earlywarn.model.fit import fit_linear_model
from earlywarn.model.model_file import Calibrator, RiskModel
from explain_world import AS_OF, make_features, make_model, make_tables


@pytest.fixture(scope="module")
def booster_world():
    tables = make_tables(n_households=200, seed=1)
    features = make_features(tables)
    return tables, features, make_model(features, seed=1)


def make_linear_model(features: pd.DataFrame, seed: int = 0) -> RiskModel:
    """Logistic regression on ``features`` with the booster's made-up label, calibrated."""
    booster = make_model(features, seed=seed)
    label = pd.Series(booster.predict_log_odds(features) > 0, index=features.index)
    model = fit_linear_model(features, label, seed=seed)
    return replace(model, calibrator=Calibrator(slope=0.8, intercept=-0.4), version="test-lin")


@pytest.fixture(scope="module", params=["lightgbm", "linear"])
def world(request, booster_world):
    tables, features, _ = booster_world
    if request.param == "lightgbm":
        return booster_world
    return tables, features, make_linear_model(features, seed=1)


def test_contributions_plus_base_value_are_the_model_log_odds(world):
    _, features, model = world
    contribs = contributions(model, features)
    assert list(contribs.values.columns) == list(model.feature_names)
    np.testing.assert_allclose(
        contribs.log_odds.to_numpy(), model.predict_log_odds(features), atol=1e-9
    )


def test_contributions_match_shap_tree_explainer(booster_world):
    _, features, model = booster_world
    shap = import_shap()
    rows = features.iloc[:25]
    ours = contributions(model, rows)
    explainer = shap.TreeExplainer(model.booster)
    theirs = explainer(model.prepare(rows))
    np.testing.assert_allclose(ours.values.to_numpy(), np.asarray(theirs.values), atol=1e-9)
    np.testing.assert_allclose(np.asarray(theirs.base_values, dtype=float), ours.base_value)


@pytest.mark.parametrize(
    "calibrator",
    [
        Calibrator(slope=0.8, intercept=-0.4),
        Calibrator(method="isotonic", x=(-3.0, -1.0, -0.5, 0.0, 2.0), y=(0.0, 0.1, 0.1, 0.4, 0.9)),
    ],
)
def test_group_points_plus_base_risk_are_the_calibrated_risk(world, calibrator):
    _, features, model = world
    model = RiskModel(model.scorer, calibrator, model.feature_names, model.categories)
    groups = explain(model, features)
    total = groups.points.sum(axis=1).to_numpy() + groups.base_risk
    np.testing.assert_allclose(total, model.predict_risk(features), atol=1e-9)
    np.testing.assert_allclose(
        groups.log_odds.sum(axis=1).to_numpy() + contributions(model, features).base_value,
        model.predict_log_odds(features),
        atol=1e-9,
    )
    same_sign = np.sign(groups.points.to_numpy()) * np.sign(groups.log_odds.to_numpy()) >= 0
    assert same_sign.all()
    assert groups.scale == CONTRIBUTION_SCALE


def test_linear_contributions_are_shaps_linear_explainer_summed_by_feature(booster_world):
    """SHAP's linear explainer over the regression's inputs (the fitting rows as background)
    gives coef x (z - mean z) per input; summed over each feature's inputs they are ours."""
    _, features, _ = booster_world
    model = make_linear_model(features, seed=1)
    shap = import_shap()
    scorer = model.scorer
    design = scorer.design(model.prepare(features))
    coef = np.array([c.coef for c in scorer.columns])
    background = shap.maskers.Independent(design, max_samples=len(design))  # every row
    explainer = shap.LinearExplainer((coef, scorer.intercept), background)
    per_input = np.asarray(explainer.shap_values(design[:30]))
    by_feature = pd.DataFrame(per_input).T.groupby([c.feature for c in scorer.columns]).sum().T
    ours = contributions(model, features.iloc[:30])
    np.testing.assert_allclose(
        by_feature[list(model.feature_names)].to_numpy(), ours.values.to_numpy(), atol=1e-9
    )
    assert ours.base_value == pytest.approx(float(explainer.expected_value), abs=1e-9)


def test_row_order_changes_no_contribution(world):
    _, features, model = world
    shuffled = features.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(
        contributions(model, shuffled).values.loc[features.index],
        contributions(model, features).values,
    )


def test_no_rows_give_no_contributions(world):
    _, features, model = world
    contribs = contributions(model, features.iloc[:0])
    assert contribs.values.shape == (0, len(model.feature_names))
    assert np.isfinite(contribs.base_value)
    assert explain_with_glossary(model, features.iloc[:0]).empty


def test_reasons_lists_are_ranked_texts_with_rule_triggers(world):
    tables, features, model = world
    reasons = explain_with_glossary(
        model,
        features.iloc[:40],
        glossary=load_glossary(),
        lang="en",
        k=3,
        tables=tables,
        as_of=AS_OF,
    )
    assert list(reasons.index) == list(features.index[:40])
    glossary = load_glossary()
    risk = model.predict_risk(features.iloc[:40])
    for items, household_risk in zip(reasons, risk, strict=True):
        model_items = [r for r in items if not r["code"].startswith((RULE_PREFIX, SUM_PREFIX))]
        assert len(model_items) <= 3
        points = [r["contribution"] for r in model_items]
        assert points == sorted(points, reverse=True) and all(p >= MATERIAL_POINTS for p in points)
        # the two sums close the list: average + listed + all other (net) == risk
        sums = {r["code"]: r["contribution"] for r in items if r["code"].startswith(SUM_PREFIX)}
        assert set(sums) == {AVERAGE_RISK, OTHER_FACTORS}
        assert sums[AVERAGE_RISK] + sum(points) + sums[OTHER_FACTORS] == pytest.approx(
            household_risk, abs=1e-9
        )
        assert all(r["code"] in glossary.groups for r in model_items)
        assert all(r["text"] and "{" not in r["text"] for r in items)
        assert all(r["contribution"] is None for r in items if r["code"].startswith(RULE_PREFIX))
    assert any(r["code"].startswith(RULE_PREFIX) for items in reasons for r in items)
    # the scores file stores them as list<struct<code, text, contribution>>
    column = pa.array(list(reasons))
    assert pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type)


def test_reasons_without_tables_use_plain_texts(world):
    _, features, model = world
    found = list(explain_with_glossary(model, features.iloc[:5], k=2, lang="zh-CN"))
    assert len(found) == 5
    assert all(len(items) <= 2 for items in found)
    assert all(r["text"] for items in found for r in items)


def test_shap_summary_png_is_an_image(world):
    _, features, model = world
    png = shap_summary_png(
        contributions(model, features.iloc[:60]), features.iloc[:60], max_display=8
    )
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
