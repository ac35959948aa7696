"""Reasons written as columns (a chunk at a time) say exactly what the per-household engine
says: same groups, same texts, same contributions and sums, bit for bit.

The reference below is the per-household loop ``explain_with_glossary`` ran before reasons
became columns (issue 15); it calls the per-household functions that household sheets still
use, so both paths are held to one another.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import EVENT_TYPE, EVENT_TYPES, HOUSEHOLD_ID, INCOME_SOURCES
from earlywarn.explain.contributions import explain, explain_with_glossary
from earlywarn.explain.formatting import format_fact, format_facts
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.household_facts import event_counts, facts_from_features, household_facts
from earlywarn.explain.reasons import reasons_for, rule_reasons, rule_triggers, sum_reasons
from earlywarn.explain.village_facts import village_facts
from explain_world import AS_OF, make_features, make_model, make_tables


@pytest.fixture(scope="module")
def world():
    tables = make_tables(n_households=160, seed=3)
    features = make_features(tables)
    return tables, features, make_model(features, seed=3)


def per_household_reasons(model, features, glossary, lang, k, tables=None, with_rule=True):
    """The reasons lists as the per-household engine writes them (the reference)."""
    explained = explain(model, features)
    if tables is not None:
        facts = household_facts(tables, AS_OF, features.index)
        triggers = rule_triggers(tables, AS_OF, features.index) if with_rule else None
        if triggers is not None:
            triggers.index = explained.points.index
    else:
        facts, triggers = facts_from_features(features), None
    facts.index = explained.points.index
    records = facts.to_dict("index")
    lists = []
    for household_id in explained.points.index:
        listed = explained.material(household_id, k=k)
        found = reasons_for(records[household_id], listed, glossary, lang)
        if triggers is not None:
            row = triggers.loc[household_id].to_dict()
            found += rule_reasons(row, glossary, lang, target_year=AS_OF.year)
        if tables is not None:
            other = explained.other_factors(household_id, listed)
            found += sum_reasons(explained.base_risk, other, glossary, lang)
        lists.append([reason.as_dict() for reason in found])
    return lists


def same_lists(found: list, expected: list) -> None:
    """Equal lists, and every float the same bits (repr tells 0.1 from 0.1 + 1 ulp)."""
    assert len(found) == len(expected)
    for got, want in zip(found, expected, strict=True):
        assert got == want
        assert repr(got) == repr(want)


@pytest.mark.parametrize(("lang", "k"), [("en", 3), ("zh-CN", 1), ("en", 6)])
def test_columns_write_the_per_household_reasons(world, lang, k):
    tables, features, model = world
    glossary = load_glossary()
    found = explain_with_glossary(
        model, features, glossary=glossary, lang=lang, k=k, tables=tables, as_of=AS_OF
    )
    expected = per_household_reasons(model, features, glossary, lang, k, tables)
    same_lists(list(found), expected)
    codes = {item["code"] for items in expected for item in items}
    assert any(code.startswith("rule:income") for code in codes)  # the rule's texts are held
    assert "rule:serious_shock" in codes
    assert sum(len(items) for items in expected) > 3 * len(expected)


def test_columns_match_without_the_rule_and_without_tables(world):
    tables, features, model = world
    glossary = load_glossary()
    rows = features.iloc[::3]
    no_rule = explain_with_glossary(
        model, rows, glossary=glossary, lang="en", tables=tables, as_of=AS_OF, rule_triggers=False
    )
    same_lists(
        list(no_rule),
        per_household_reasons(model, rows, glossary, "en", 3, tables, with_rule=False),
    )
    plain = explain_with_glossary(model, rows, glossary=glossary, lang="zh-CN", k=2)
    same_lists(list(plain), per_household_reasons(model, rows, glossary, "zh-CN", 2))


def test_columns_match_where_figures_are_missing(world):
    """Null incomes and no events push texts down to their later templates and the plain
    last one; the columns choose the same template for each household."""
    tables, features, model = world
    glossary = load_glossary()
    years = tables.household_years
    holes = years.assign(
        **{
            name: years[name].mask(np.arange(len(years)) % (3 + n) == 0)
            for n, name in enumerate(INCOME_SOURCES)
        }
    )
    sparse = replace(tables, household_years=holes, events=tables.events.iloc[::4])
    found = explain_with_glossary(
        model, features, glossary=glossary, lang="en", tables=sparse, as_of=AS_OF
    )
    expected = per_household_reasons(model, features, glossary, "en", 3, sparse)
    same_lists(list(found), expected)
    texts = {item["text"] for items in expected for item in items}
    assert any("{" not in text and not any(ch.isdigit() for ch in text) for text in texts)


def test_tied_contributions_keep_the_group_order(world):
    """Two groups raising the risk by the same points are listed in code order, as the
    per-household sort lists them."""
    _, features, model = world
    explained = explain(model, features.iloc[:20])
    tied = explained.points.copy()
    tied.iloc[:, 0] = 0.05
    tied.iloc[:, 1] = 0.05
    tied.iloc[:5, 2] = np.nan
    explained = replace(explained, points=tied)
    material = explained.material_all(3)
    for row, household_id in enumerate(tied.index):
        listed = explained.material(household_id, k=3)
        count = material.counts[row]
        assert list(material.codes[row, :count]) == list(listed.index)
        assert list(material.points[row, :count]) == list(listed.to_numpy())
        assert material.other[row] == explained.other_factors(household_id, listed)


def test_facts_format_the_same_as_columns_and_one_by_one(world):
    tables, _, _ = world
    glossary = load_glossary()
    facts = household_facts(tables, AS_OF)
    records = facts.to_dict("index")
    for lang in ("en", "zh-CN"):
        for name in facts.columns:
            one_by_one = [format_fact(name, records[h][name], lang, glossary) for h in facts.index]
            assert format_facts(name, facts[name], lang, glossary) == one_by_one, name


def test_events_are_counted_by_type_in_the_contracts_order():
    events = pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(["H2", "H1", "H2", "H1", "H1", "H2", "H3"], dtype="str"),
            EVENT_TYPE: pd.array(
                ["injury", "zz_new", "illness", "illness", "injury", "injury", "aa_new"],
                dtype="str",
            ),
        }
    )
    counts = event_counts(events)
    assert counts.to_dict() == {
        "H1": "illness:1,injury:1,zz_new:1",
        "H2": "illness:1,injury:2",
        "H3": "aa_new:1",
    }
    assert EVENT_TYPES.index("illness") < EVENT_TYPES.index("injury")
    assert counts.index.name == HOUSEHOLD_ID and counts.dtype == "string"


@pytest.mark.parametrize("as_of", [AS_OF, pd.Timestamp("2023-10-01")])
def test_village_figures_on_positions_equal_those_of_the_households_facts(world, as_of):
    """village_facts (by household position, for scoring) gives the village figures that the
    households' facts compute from the whole tables, exactly."""
    tables, _, _ = world
    whole = household_facts(tables, as_of)
    pd.testing.assert_frame_equal(
        household_facts(tables, as_of, villages=village_facts(tables, as_of)),
        whole,
        check_exact=True,
    )
    assert whole["village_poverty_rate_pct"].notna().any()


def test_a_column_of_figures_formats_each_value_as_one_by_one():
    """Repeated values are formatted once; -0.0 still reads as it does alone, a missing
    value or a zero count says nothing."""
    glossary = load_glossary()
    cases = {
        "income_per_capita": pd.Series([1234.5, -0.0, 0.0, np.nan, 1234.5, -0.4]),
        "n_health_events_12m": pd.Series([0.0, 2.0, np.nan, 2.0]),
        "last_year": pd.array([2023, None, 2023], dtype="Int64"),
        "last_health_event_type": pd.Series(["injury", None, "illness", "injury"], dtype="str"),
        "big_farm_event_date": pd.Series(pd.to_datetime(["2023-05-01", None, "2023-05-01"])),
    }
    for lang in ("en", "zh-CN"):
        for name, values in cases.items():
            column = pd.Series(values)
            expected = [format_fact(name, value, lang, glossary) for value in column.tolist()]
            assert format_facts(name, column, lang, glossary) == expected, name
    assert format_facts("income_per_capita", cases["income_per_capita"], "en", glossary)[:3] == [
        "1,234",
        "-0",
        "0",
    ]


def test_a_model_with_fewer_groups_than_places_lists_them_all(world):
    _, features, model = world
    explained = explain(model, features.iloc[:10])
    few = replace(explained, points=explained.points.iloc[:, :2].assign(**{"x": 0.02}).iloc[:, 1:])
    material = few.material_all(4)
    assert material.codes.shape == (10, 2)
    for row, household_id in enumerate(few.points.index):
        listed = few.material(household_id, k=4)
        assert list(material.codes[row, : material.counts[row]]) == list(listed.index)
        assert material.other[row] == few.other_factors(household_id, listed)
