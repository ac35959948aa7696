"""The test-year comparison's pieces: the oracle lookup, run metric names, the oracle gap
sentence and the study name that lets an interrupted tuning resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import Config
from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, ORACLE_PROBABILITY, TARGET_YEAR
from earlywarn.features.examples import Examples
from earlywarn.model.card import limitations
from earlywarn.model.comparison import ORACLE_GAP_METRIC, YearComparison, oracle_scores
from earlywarn.model.training import study_name

EMPTY = pd.DataFrame()


def _keys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(["H1", "H2", "H3"], dtype="str"),
            AS_OF: pd.to_datetime(["2025-01-01", "2025-01-01", "2025-07-01"]).astype(
                "datetime64[us]"
            ),
            TARGET_YEAR: [2025, 2025, 2025],
        }
    )


def test_oracle_scores_follow_the_example_rows_and_are_nan_where_unknown():
    truth = pd.DataFrame(
        {
            HOUSEHOLD_ID: ["H3", "H1", "H1"],
            AS_OF: ["2025-07-01", "2025-01-01", "2025-01-01"],  # as text, a duplicate row
            ORACLE_PROBABILITY: [0.7, 0.2, 0.9],
        }
    )
    np.testing.assert_array_equal(oracle_scores(_keys(), truth), [0.2, np.nan, 0.7])
    assert oracle_scores(_keys(), None) is None


def _comparison(oracle_gap: float | None, gaps: pd.DataFrame = EMPTY) -> YearComparison:
    comparison = pd.DataFrame(
        {"model": ["model", "rule"], "roc_auc": [0.8, 0.6], "average_precision": [0.4, 0.1]}
    )
    return YearComparison(
        labels=np.array([]),
        scores={},
        flagged={},
        comparison=comparison,
        oracle_gap=oracle_gap,
        subgroups=EMPTY,
        gaps=gaps,
        by_month=EMPTY,
        reliability=EMPTY,
    )


def test_test_metrics_are_named_by_metric_and_score():
    assert _comparison(None).test_metrics() == {
        "test_roc_auc_model": 0.8,
        "test_average_precision_model": 0.4,
        "test_roc_auc_rule": 0.6,
        "test_average_precision_rule": 0.1,
    }
    assert _comparison(-0.25).test_metrics()[ORACLE_GAP_METRIC] == -0.25


def test_subgroup_metrics_name_each_gap():
    gaps = pd.DataFrame(
        {"group": ["county"], "n_groups": [3], "average_precision_gap": [0.125], "ece_gap": [0.5]}
    )
    assert _comparison(None, gaps).subgroup_metrics() == {
        "subgroup_county_average_precision_gap": 0.125,
        "subgroup_county_ece_gap": 0.5,
    }


def test_limitations_say_what_the_run_measured():
    gaps = pd.DataFrame({"group": ["county", "head_sex"], "average_precision_gap": [0.05, 0.125]})
    fixed = limitations(None, EMPTY)
    measured = limitations(-0.2, gaps)
    assert measured[: len(fixed)] == fixed
    assert measured[len(fixed) :] == (
        "On simulated data the model's average precision is -0.200 from the oracle's "
        "(which knows the simulated world's state).",
        "Largest subgroup gap in average precision: 0.125 across head_sex.",
    )


def _examples(labels: list[bool]) -> Examples:
    return Examples(
        features=pd.DataFrame({"x": range(len(labels))}),
        labels=pd.Series(labels, name="label_poor"),
        keys=_keys().iloc[: len(labels)],
    )


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ({"tune": {"n_trials": 99, "num_threads": 2, "timeout_seconds": 60}}, True),
        ({"train": {"explain_rate_rows": 50, "run_name": "again"}}, True),
        ({"tune": {"seed": 1}}, False),
        ({"train": {"max_boost_rounds": 100}}, False),
        ({"train": {"as_of_months": [1, 7]}}, False),
    ],
)
def test_the_study_name_changes_only_with_what_changes_the_trials(other, same):
    examples = _examples([True, False, False])
    name = study_name(Config(), "exited", examples)
    assert name.startswith("earlywarn-")
    assert (study_name(Config.model_validate(other), "exited", examples) == name) is same


def test_the_study_name_changes_with_the_examples_and_population():
    name = study_name(Config(), "exited", _examples([True, False, False]))
    assert study_name(Config(), "all", _examples([True, False, False])) != name
    assert study_name(Config(), "exited", _examples([True, True, False])) != name
