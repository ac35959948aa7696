"""Re-deriving one household's score, flag and reasons, and saying what differs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml

from earlywarn.config import PolicyConfig, RuleConfig
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID
from earlywarn.errors import EarlywarnError
from earlywarn.explain.glossary import DEFAULT_GLOSSARY, load_glossary
from earlywarn.features.build import build_features
from earlywarn.scoring.rederive import (
    HouseholdScore,
    changed_inputs,
    compare_scores,
    recorded_score,
    rederive_household,
)
from earlywarn.scoring.score import population_ids, score_households
from earlywarn.scoring.scores_file import write_scores_parquet

AS_OF = pd.Timestamp("2024-03-01")
GLOSSARY = load_glossary()


def custom_glossary(folder: Path) -> Path:
    """The shipped glossary with every English model-reason text starting 'Custom: '."""
    raw = yaml.safe_load(DEFAULT_GLOSSARY.read_text(encoding="utf-8"))
    for entry in raw["groups"].values():
        entry["templates"]["en"] = ["Custom: " + text for text in entry["templates"]["en"]]
    path = folder / "glossary.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scores(tables, tiny_model) -> pd.DataFrame:
    """The population scored as a run does, reasons for the flagged (the 'recorded' file)."""
    features = build_features(
        tables, as_of=AS_OF, households=population_ids(tables, AS_OF, "exited")
    )
    return score_households(
        tiny_model,
        features,
        as_of=AS_OF,
        policy_cfg=PolicyConfig(),
        households_frame=tables.households,
        glossary=GLOSSARY,
        tables=tables,
        rule_cfg=RuleConfig(),
    )


def rederive(tables, model, household_id: str, **options) -> HouseholdScore:
    settings = {
        "as_of": AS_OF,
        "population": "exited",
        "policy_cfg": PolicyConfig(),
        "explained": True,
        "glossary": GLOSSARY,
        "n_reasons": 3,
        "lang": "en",
        "rule_cfg": RuleConfig(),
    }
    return rederive_household(tables, model, household_id, **{**settings, **options})


def test_a_flagged_household_is_re_derived_exactly(tables, tiny_model, scores):
    household = str(scores.loc[scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    recorded = recorded_score(scores, household)
    assert recorded.flagged and recorded.reasons
    again = rederive(tables, tiny_model, household)
    assert (again.risk, again.flagged) == (recorded.risk, recorded.flagged)
    texts = [(r["code"], r["text"]) for r in again.reasons]
    assert texts == [(r["code"], r["text"]) for r in recorded.reasons]
    assert compare_scores(recorded, again).matches  # contributions to 1e-6: one row vs many


def test_a_household_not_explained_gets_no_reasons(tables, tiny_model, scores):
    household = str(scores.loc[~scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    again = rederive(tables, tiny_model, household, explained=False)
    assert not again.flagged and again.reasons == ()
    assert compare_scores(recorded_score(scores, household), again).matches


def test_the_texts_come_from_the_glossary_given(tables, tiny_model, scores, tmp_path):
    household = str(scores.loc[scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    custom = load_glossary(custom_glossary(tmp_path))
    again = rederive(tables, tiny_model, household, glossary=custom)
    recorded = recorded_score(scores, household)
    model_reasons = [r for r in again.reasons if r["contribution"] is not None]
    assert model_reasons and all(r["text"].startswith("Custom: ") for r in model_reasons)
    assert [r["code"] for r in again.reasons] == [r["code"] for r in recorded.reasons]
    assert compare_scores(recorded, again).matches  # codes and contributions, not texts


def test_a_household_outside_the_population_is_refused(tables, tiny_model, scores):
    outside = set(tables.households[HOUSEHOLD_ID]) - set(scores[HOUSEHOLD_ID])
    with pytest.raises(EarlywarnError, match="not in the exited population as of 2024-03-01"):
        rederive(tables, tiny_model, sorted(outside)[0])


def test_the_recorded_row_is_read_from_a_written_file(scores, tmp_path):
    path = tmp_path / "scores.parquet"
    write_scores_parquet(scores, path, metadata={})
    household = str(scores.loc[scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    from_file = recorded_score(pd.read_parquet(path), household)  # reasons as arrays
    assert from_file == recorded_score(scores, household)
    with pytest.raises(EarlywarnError, match="household NOBODY is not in the scores file"):
        recorded_score(scores, "NOBODY")


def test_every_difference_is_said_in_words():
    reasons = (
        {"code": "income_low", "text": "a", "contribution": 0.2},
        {"code": "rule:serious_shock", "text": "b", "contribution": None},
    )
    recorded = HouseholdScore("H1", 0.3, True, reasons)
    assert compare_scores(recorded, replace(recorded, risk=0.3 + 1e-12)).matches
    risk = compare_scores(recorded, replace(recorded, risk=0.31, flagged=False))
    assert risk.differences == (
        "risk 0.300000 recorded, 0.310000 now",
        "flagged True recorded, False now",
    )
    shifted = ({**reasons[0], "contribution": 0.2 + 1e-5}, reasons[1])
    contribution = compare_scores(recorded, replace(recorded, reasons=shifted))
    assert contribution.differences == (
        "reason income_low: contribution 0.200000 recorded, 0.200010 now",
    )
    codes = compare_scores(recorded, replace(recorded, reasons=reasons[:1]))
    assert codes.differences == (
        "reasons ['income_low', 'rule:serious_shock'] recorded, ['income_low'] now",
    )
    assert not codes.matches


def test_changed_inputs_name_each_file():
    recorded = {"events.csv": "a" * 64, "households.csv": "b" * 64, "lines.csv": "c" * 64}
    current = {"events.csv": "a" * 64, "households.csv": "d" * 64, "assistance.csv": "e" * 64}
    assert changed_inputs(recorded, current) == [
        "assistance.csv was not there when the scores were made",
        f"households.csv has changed (sha256 {'b' * 12}... recorded, {'d' * 12}... now)",
        "lines.csv is missing",
    ]
    assert changed_inputs(recorded, dict(recorded)) == []
