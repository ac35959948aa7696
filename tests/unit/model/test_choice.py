"""Honest model choice: candidates validated out of time, the rule's score kept unless a fitted
model beats it clearly on enough poor households, average precision as scikit-learn counts
it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from earlywarn.data.columns import TARGET_YEAR
from earlywarn.errors import ModelError
from earlywarn.features.examples import Examples
from earlywarn.model.bootstrap import average_precision
from earlywarn.model.choice import (
    CANDIDATES,
    MIN_POOR_HOUSEHOLDS,
    RULE_FEATURE,
    ValidationYear,
    choose_model,
    fit_candidate,
    fit_candidates,
    ordered,
    validate_candidates,
)
from earlywarn.model.search import TuneResult
from ratio_world import ratio_world


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_is_scikit_learns_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, 300).astype(float)  # many ties
    labels = rng.uniform(size=300) < 0.15
    weights = rng.integers(0, 4, 300).astype(float)
    assert average_precision(labels, scores) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )
    assert average_precision(labels, scores, weights) == pytest.approx(
        average_precision_score(labels, scores, sample_weight=weights), abs=1e-12
    )
    assert np.isnan(average_precision(np.zeros(5), np.arange(5.0)))


def test_candidates_are_ordered_as_preferred_and_checked():
    assert ordered(["lightgbm", "rule_score"]) == ("rule_score", "lightgbm")
    assert (
        ordered(list(CANDIDATES)) == CANDIDATES == ("rule_score", "logistic", "blend", "lightgbm")
    )
    with pytest.raises(
        ModelError, match=r"some of \['rule_score', 'logistic', 'blend', 'lightgbm'\]"
    ):
        ordered(["forest"])


def _year(year: int, n_households: int, poor_share: float, skill: dict[str, float], seed: int):
    """A validation year: each candidate's score is the label plus noise, less noise = more
    skill; two rows (as-of dates) per household share its label."""
    rng = np.random.default_rng(seed)
    poor = rng.uniform(size=n_households) < poor_share
    labels = np.repeat(poor, 2).astype(float)
    households = np.repeat([f"H{year}-{i}" for i in range(n_households)], 2)
    scores = {name: labels * s + rng.normal(size=labels.size) for name, s in skill.items()}
    return ValidationYear(year, (2017, year - 1), labels, households, scores)


SKILL = {"rule_score": 1.0, "logistic": 1.2, "lightgbm": 2.5}


def test_a_fitted_model_that_clearly_beats_the_rule_score_is_chosen():
    years = [_year(y, 1_500, 0.08, SKILL, seed=y) for y in (2022, 2023, 2024)]
    choice = choose_model(years, margin=0.005, seed=0)
    assert choice.winner == "lightgbm"
    table = choice.table.set_index("candidate")
    assert table.loc["lightgbm", "lead_over_baseline"] > table.loc["lightgbm", "required_lead"]
    assert table["chosen"].tolist() == [False, False, True]
    assert list(choice.years["year"]) == [2022, 2023, 2024]
    assert (choice.years["n_poor_households"] >= MIN_POOR_HOUSEHOLDS).all()
    ap = choice.average_precision()
    assert choice.metrics() == {
        "validation_average_precision_rule_score": ap["rule_score"],
        "validation_average_precision_logistic": ap["logistic"],
        "validation_average_precision_lightgbm": ap["lightgbm"],
        "validation_lead_over_rule_score": ap["lightgbm"] - ap["rule_score"],
        "validation_lead_over_logistic": ap["lightgbm"] - ap["logistic"],
    }
    assert choice.summary().startswith("lightgbm chosen: validation average precision")
    assert "leads the baseline rule_score by" in choice.summary()
    assert choice.to_dict()["winner"] == "lightgbm"
    again = choose_model(years, margin=0.005, seed=0)
    pd.testing.assert_frame_equal(again.table, choice.table)


def test_a_lead_within_one_standard_error_keeps_the_rule_score():
    skill = {"rule_score": 1.0, "logistic": 0.9, "lightgbm": 1.03}
    years = [_year(y, 400, 0.1, skill, seed=y) for y in (2023, 2024)]
    choice = choose_model(years, margin=0.005, seed=0)
    lightgbm = choice.table.set_index("candidate").loc["lightgbm"]
    assert 0 < lightgbm["lead_over_baseline"] <= lightgbm["required_lead"]
    assert choice.winner == "rule_score"
    assert "not more than the required" in choice.reason


def test_a_large_margin_keeps_the_rule_score_even_on_a_clear_lead():
    years = [_year(y, 1_500, 0.08, SKILL, seed=y) for y in (2022, 2023, 2024)]
    assert choose_model(years, margin=0.9, seed=0).winner == "rule_score"


def test_with_few_poor_households_the_rule_score_is_kept_however_large_the_lead():
    years = [_year(y, 60, 0.1, SKILL, seed=y) for y in (2023, 2024)]
    choice = choose_model(years, margin=0.005, seed=0)
    assert choice.years["n_poor_households"].sum() < MIN_POOR_HOUSEHOLDS
    assert choice.average_precision()["lightgbm"] > choice.average_precision()["rule_score"]
    assert choice.winner == "rule_score"
    assert "too little evidence" in choice.reason


def test_between_fitted_models_the_earlier_wins_only_within_the_margin():
    close = {"rule_score": 0.2, "logistic": 2.0, "blend": 2.0, "lightgbm": 2.0}
    years = [_year(y, 1_500, 0.08, close, seed=y) for y in (2023, 2024)]
    table = choose_model(years, margin=0.005, seed=0).table.set_index("candidate")
    ap = table["average_precision"]
    best = ap.drop("rule_score").max()
    expected = next(n for n in ("logistic", "blend", "lightgbm") if ap[n] >= best - 0.005)
    assert table.loc[expected, "chosen"]
    assert choose_model(years, margin=1.0, seed=0).winner == "rule_score"


def test_a_year_without_poor_households_is_left_out_and_none_at_all_is_refused():
    good = _year(2024, 1_500, 0.08, SKILL, seed=1)
    empty = _year(2023, 300, 0.0, SKILL, seed=2)
    choice = choose_model([empty, good], margin=0.005, seed=0)
    assert list(choice.years["year"]) == [2024]
    with pytest.raises(ModelError, match="no validation year"):
        choose_model([empty], margin=0.005, seed=0)


def test_one_candidate_is_chosen_as_the_only_one():
    year = _year(2024, 200, 0.1, {"logistic": 1.0}, seed=3)
    choice = choose_model([year], margin=0.005, seed=0)
    assert (choice.winner, choice.reason) == ("logistic", "The only candidate")


# --- a world where income over the line is all there is ---------------------------------


def _in_years(examples: Examples, years) -> Examples:
    return examples.take(np.flatnonzero(examples.keys[TARGET_YEAR].isin(list(years)).to_numpy()))


TUNED = TuneResult(
    params={"objective": "binary", "num_leaves": 15, "learning_rate": 0.1, "verbosity": -1},
    num_boost_round=80,
    chosen_trial=0,
    chosen_value=float("nan"),
    best_trial=0,
    best_value=float("nan"),
    history=pd.DataFrame(),
    study_name="fixed",
    n_trials_run=0,
)


@pytest.mark.parametrize("n_households", [120, 600])
def test_where_income_over_the_line_is_all_there_is_the_choice_does_not_lose_to_it(
    n_households,
):
    """With few poor households (120 a year: about 10 poor) and with many (600: about 50),
    the registered model ranks the test year at least as well as the rule's quantity."""
    examples = ratio_world(n_households, seed=n_households)
    folds = [
        (_in_years(examples, range(2016, v)), _in_years(examples, [v])) for v in (2022, 2023, 2024)
    ]
    years = validate_candidates(CANDIDATES, folds, tuning=TUNED, seed=0, num_threads=1)
    choice = choose_model(years, margin=0.005, seed=0)
    assert choice.winner == "rule_score", choice.summary()

    fit, test = _in_years(examples, range(2016, 2025)), _in_years(examples, [2025])
    model = fit_candidate(
        choice.winner, fit.features, fit.labels, tuning=TUNED, seed=0, num_threads=1
    )
    labels = test.labels.to_numpy(dtype=float)
    rule = -test.features[RULE_FEATURE].fillna(np.inf).to_numpy()
    assert average_precision(labels, model.predict_log_odds(test.features)) >= (
        average_precision(labels, rule) - 1e-12
    )


def test_the_blend_is_the_even_average_of_the_booster_and_the_logistic_regression_fitted():
    """The blend candidate reuses the two fitted parts: its log-odds are their mean, so the
    validation years score it on exactly what would be registered."""
    examples = ratio_world(150, seed=7)
    fit, test = _in_years(examples, range(2016, 2025)), _in_years(examples, [2025])
    models = fit_candidates(
        ["lightgbm", "logistic", "blend"],
        fit.features,
        fit.labels,
        tuning=TUNED,
        seed=0,
        num_threads=1,
    )
    expected = 0.5 * (
        models["lightgbm"].predict_log_odds(test.features)
        + models["logistic"].predict_log_odds(test.features)
    )
    np.testing.assert_allclose(
        models["blend"].predict_log_odds(test.features), expected, atol=1e-12
    )
    alone = fit_candidate("blend", fit.features, fit.labels, tuning=TUNED, seed=0, num_threads=1)
    assert alone.scorer_text() == models["blend"].scorer_text()
    with pytest.raises(ModelError, match="need a tuning result"):
        fit_candidate("blend", fit.features, fit.labels, tuning=None, seed=0, num_threads=1)


def test_the_rule_score_ranks_as_the_rule_beyond_the_range_it_was_fitted_on():
    """The logistic regression holds its inputs within their fitted range, the rule's score
    does not: a household further below the line than any fitted still ranks above the rest."""
    examples = ratio_world(150, seed=11)
    fit = _in_years(examples, range(2016, 2025))
    rule_score, logistic = (
        fit_candidate(name, fit.features, fit.labels, tuning=None, seed=0, num_threads=1)
        for name in ("rule_score", "logistic")
    )
    rows = fit.features.iloc[:3].copy()
    lowest = fit.features[RULE_FEATURE].min()
    rows[RULE_FEATURE] = [lowest, lowest - 1.0, lowest - 2.0]
    assert np.all(np.diff(rule_score.predict_log_odds(rows)) > 0)
    held = logistic.predict_log_odds(
        rows.assign(**{c: rows[c].iloc[0] for c in rows if c != RULE_FEATURE})
    )
    np.testing.assert_allclose(held, held[0], rtol=0, atol=1e-12)
