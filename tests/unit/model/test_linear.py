"""The linear scorer: logistic regression as plain numbers, with exact contributions, the same
predictions as the scikit-learn pipeline it replaces, and a JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from earlywarn.errors import ModelError
from earlywarn.model.fit import fit_linear_model
from earlywarn.model.linear import LinearScorer


def _world(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "village": pd.Categorical(
                rng.choice(["V1", "V2", "V3"], n), categories=["V1", "V2", "V3"]
            ),
            "income_to_line_ratio_last_round": rng.lognormal(0.5, 0.4, n),
            "n_illness_events_12m": rng.poisson(0.6, n).astype(float),
            "never_known": np.full(n, np.nan),
        }
    )
    features.loc[features.index[::9], "income_to_line_ratio_last_round"] = np.nan
    features.loc[features.index[::7], "village"] = np.nan
    ratio = features["income_to_line_ratio_last_round"].fillna(1.0)
    logit = 1.0 - 2.5 * ratio + 0.5 * features["n_illness_events_12m"]
    poor = pd.Series(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)))
    return features, poor


@pytest.fixture(scope="module")
def world():
    features, poor = _world(800, seed=0)
    return features, poor, fit_linear_model(features, poor, seed=0)


def test_contributions_plus_base_value_are_the_log_odds(world):
    features, _, model = world
    later, _ = _world(300, seed=1)
    later["village"] = later["village"].cat.add_categories("V9")
    later.loc[later.index[:5], "village"] = "V9"  # unseen: none of the village columns set
    for rows in (features, later):
        contributions = model.log_odds_contributions(rows)
        assert contributions.shape == (len(rows), len(model.feature_names) + 1)
        np.testing.assert_allclose(
            contributions.sum(axis=1), model.predict_log_odds(rows), rtol=0, atol=1e-10
        )


def test_each_contribution_averages_zero_on_the_fitting_rows(world):
    """The base value is the raw prediction at the mean input: the mean log-odds of the
    fitting rows, from which each feature moves a household."""
    features, _, model = world
    contributions = model.log_odds_contributions(features)
    np.testing.assert_allclose(contributions[:, :-1].mean(axis=0), 0.0, atol=1e-10)
    assert contributions[0, -1] == pytest.approx(model.predict_log_odds(features).mean())
    ratio = list(model.feature_names).index("income_to_line_ratio_last_round")
    assert (
        np.corrcoef(contributions[:, ratio], features[model.feature_names[ratio]].fillna(1.0))[0, 1]
        < -0.9
    )  # a higher income over the line lowers the risk


def test_same_predictions_as_the_scikit_learn_pipeline(world):
    """Median imputation with missing flags and scaling for numbers, one-hot with a
    'missing' level for categories, L2 logistic regression (what baselines used to fit)."""
    features, poor, model = world
    numeric = ["income_to_line_ratio_last_round", "n_illness_events_12m", "never_known"]
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                (
                    "numeric",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        StandardScaler(),
                    ),
                    numeric,
                ),
                (
                    "categorical",
                    make_pipeline(
                        FunctionTransformer(
                            lambda f: f.astype("string").fillna("missing").to_numpy(dtype=object)
                        ),
                        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    ),
                    ["village"],
                ),
            ]
        ),
        LogisticRegression(max_iter=2_000, random_state=0),
    )
    pipeline.fit(features, poor.astype(int))
    np.testing.assert_allclose(
        model.predict_log_odds(features), pipeline.decision_function(features), atol=1e-8
    )


def test_the_scorer_round_trips_through_json_exactly(world):
    features, _, model = world
    assert isinstance(model.scorer, LinearScorer)
    again = LinearScorer.from_json(model.scorer.to_json())
    assert again == model.scorer
    np.testing.assert_array_equal(
        again.predict_log_odds(model.prepare(features)), model.predict_log_odds(features)
    )
    with pytest.raises(ModelError, match="not a linear scorer"):
        LinearScorer.from_json('{"intercept": 0.0, "columns": [{"feature": "x"}]}')


def test_columns_say_which_feature_they_come_from(world):
    _, _, model = world
    kinds = {(c.feature, c.kind, c.level) for c in model.scorer.columns}
    assert ("income_to_line_ratio_last_round", "missing", "") in kinds
    assert ("n_illness_events_12m", "missing", "") not in kinds  # never missing when fitted
    assert {("village", "level", level) for level in ("V1", "V2", "V3", "missing")} <= kinds
    never = [c for c in model.scorer.columns if c.feature == "never_known"]
    assert [(c.kind, c.fill) for c in never] == [("value", 0.0), ("missing", 0.0)]


def test_one_class_is_refused():
    features, poor = _world(50, seed=2)
    with pytest.raises(ModelError, match="needs both poor and non-poor"):
        fit_linear_model(features, poor & False, seed=0)


def test_values_beyond_the_fitted_range_are_held_at_its_ends():
    """A year harsher than any fitted must not be extrapolated along a straight line: a value
    past the fitting rows' range scores as the range's end, in every scorer that reads it."""
    from earlywarn.model.risk_scorer import linear_log_odds

    features, poor = _world(600, seed=3)
    model = fit_linear_model(features, poor, seed=0)
    scorer = model.scorer
    assert isinstance(scorer, LinearScorer)
    shocks = next(c for c in scorer.columns if c.feature == "n_illness_events_12m")
    assert (shocks.low, shocks.high) == (
        features["n_illness_events_12m"].min(),
        features["n_illness_events_12m"].max(),
    )
    assert all(c.low is None and c.high is None for c in scorer.columns if c.kind != "value")
    at_end, beyond = features.iloc[:2].copy(), features.iloc[:2].copy()
    at_end["n_illness_events_12m"] = [shocks.low, shocks.high]
    beyond["n_illness_events_12m"] = [shocks.low - 50.0, shocks.high * 10]
    np.testing.assert_array_equal(model.predict_log_odds(beyond), model.predict_log_odds(at_end))
    contributions = model.log_odds_contributions(beyond)
    np.testing.assert_allclose(
        contributions.sum(axis=1), model.predict_log_odds(beyond), rtol=0, atol=1e-10
    )
    again = LinearScorer.from_json(scorer.to_json())
    assert again == scorer
    standalone = linear_log_odds(model.prepare(beyond), json.loads(scorer.to_json()))
    np.testing.assert_allclose(standalone, model.predict_log_odds(beyond), rtol=0, atol=1e-12)


def test_a_scorer_saved_without_a_range_reads_as_unbounded(world):
    """Scorers saved before the range existed have no low/high: they score as they did."""
    features, _, model = world
    payload = json.loads(model.scorer.to_json())
    for column in payload["columns"]:
        column.pop("low"), column.pop("high")
    old = LinearScorer.from_json(json.dumps(payload))
    assert all(c.low is None and c.high is None for c in old.columns)
    np.testing.assert_array_equal(
        old.predict_log_odds(model.prepare(features)), model.predict_log_odds(features)
    )
