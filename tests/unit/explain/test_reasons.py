"""The reason glossary is complete in both languages; texts quote the household's figures."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from earlywarn.errors import ConfigError
from earlywarn.explain.glossary import (
    DEFAULT_GLOSSARY,
    LANGUAGES,
    Glossary,
    glossary_problems,
    load_glossary,
)
from earlywarn.explain.household_facts import household_facts
from earlywarn.explain.reasons import reasons_for, render_text
from earlywarn.features.catalog import REASON_GROUPS
from explain_world import AS_OF, make_tables


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


@pytest.fixture(scope="module")
def tables():
    return make_tables(n_households=80, seed=2)


def test_both_language_catalogs_are_complete(glossary):
    assert set(glossary.languages) == set(LANGUAGES)
    assert glossary_problems(glossary, REASON_GROUPS) == []


def test_every_reason_group_of_the_catalog_has_text_in_both_languages(glossary):
    for code in REASON_GROUPS:
        for lang in LANGUAGES:
            assert glossary.group_name(code, lang)
            assert glossary.groups[code]["templates"][lang]
            assert glossary.advice(code, lang)


def test_a_missing_translation_is_reported(glossary):
    groups = {
        **glossary.groups,
        "income_low": {**glossary.groups["income_low"], "advice": {"en": "only English"}},
    }
    broken = replace(glossary, groups=groups)
    assert "groups.income_low.advice: no zh-CN text" in glossary_problems(broken)
    assert glossary_problems(glossary, ["history", "nope"]) == [
        "groups.nope: reason group of the feature catalog has no text"
    ]


def test_a_text_split_by_an_unquoted_comma_is_reported(tmp_path):
    source = DEFAULT_GLOSSARY.read_text(encoding="utf-8")
    quoted = 'en: "Insurance (medical, farm)"'
    assert quoted in source
    broken = tmp_path / "glossary.yaml"
    broken.write_text(source.replace(quoted, "en: Insurance (medical, farm)"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"measures.insurance: 'farm\)' is not a language"):
        load_glossary(broken)


def test_a_glossary_that_is_not_there_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_glossary(tmp_path / "missing.yaml")


def test_texts_quote_the_households_figures_with_a_comparison(glossary, tables):
    facts = household_facts(tables, AS_OF).loc["H0010"]
    templates = glossary.groups["income_low"]["templates"]
    english = render_text(templates["en"], facts, "en", glossary)
    chinese = render_text(templates["zh-CN"], facts, "zh-CN", glossary)
    income = f"{facts['income_per_capita']:,.0f}"
    assert income in english and income in chinese
    assert "village median" in english and "本村中位数" in chinese


def test_missing_figures_fall_back_to_a_plain_text(glossary, tables):
    facts = household_facts(tables, AS_OF, ["H0001"]).loc["H0001"]  # null income last round
    assert pd.isna(facts["income_per_capita"])
    ranked = pd.Series({"income_low": 0.2, "illness_medical": 0.1})
    for lang in LANGUAGES:
        reasons = reasons_for(facts, ranked, glossary, lang)
        assert [r.code for r in reasons] == ["income_low", "illness_medical"]
        assert all(r.text and "{" not in r.text for r in reasons)
    assert (
        reasons_for(facts, ranked.iloc[:1], glossary, "en")[0].text
        == (glossary.groups["income_low"]["templates"]["en"][-1])
    )


def test_facts_ignore_what_is_not_yet_known(tables):
    years, events = tables.household_years, tables.events
    later = replace(
        tables,
        household_years=pd.concat(
            [years, years[years["year"] == 2023].assign(year=2024, wage_income=0.0)]
        ),
        events=pd.concat([events, events.assign(date=AS_OF, event_type="illness")]),
    )
    pd.testing.assert_frame_equal(household_facts(later, AS_OF), household_facts(tables, AS_OF))


def test_an_unknown_language_is_refused(glossary, tables):
    facts = household_facts(tables, AS_OF, ["H0010"]).loc["H0010"]
    with pytest.raises(ConfigError, match="fr"):
        reasons_for(facts, pd.Series({"income_low": 0.1}), glossary, "fr")


def test_facts_of_a_few_households_from_their_own_rows_equal_those_from_all(simulation):
    """Scoring computes facts for the flagged households only, from their own rows plus the
    village figures of the whole tables: the same facts as from the whole tables."""
    from earlywarn.explain.village_facts import village_facts
    from earlywarn.scoring.score import partition_tables

    whole = simulation.tables
    ids = pd.Index(whole.households["household_id"].iloc[::9], name="household_id")
    for as_of in (pd.Timestamp("2024-03-01"), pd.Timestamp("2023-10-01")):
        ((own_rows, _),) = partition_tables(whole, [ids])
        expected = household_facts(whole, as_of, ids)
        pd.testing.assert_frame_equal(
            household_facts(own_rows, as_of, ids, villages=village_facts(whole, as_of)), expected
        )
        assert expected["village_median_income_per_capita"].notna().any()
