"""The household sheet as the visit's form (issue 12): the shown points add up to the risk, only
material reasons are listed, names are true to the figures, every reason has an official risk
type, measures fit the household, and the sheet carries what the visit fills in."""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pandas as pd
import pytest

from earlywarn.explain.charts import EVENT_SHAPES, income_chart_svg
from earlywarn.explain.conditions import NEAR_LINE_MARGIN
from earlywarn.explain.contributions import MATERIAL_POINTS, explain_with_glossary
from earlywarn.explain.glossary import RISK_TYPES, glossary_problems, load_glossary
from earlywarn.explain.household_facts import household_facts
from earlywarn.explain.household_sheet import breakdown
from earlywarn.explain.measures import suggested_measures
from earlywarn.explain.monitoring import proposed_category
from earlywarn.explain.pages import local_time
from earlywarn.explain.reasons import Reason
from earlywarn.explain.report import build_reports
from earlywarn.features.catalog import REASON_GROUPS
from explain_world import AS_OF, make_features, make_model, make_tables

GLOSSARY = load_glossary()


@pytest.fixture(scope="module")
def sheets():
    """Every sheet of a demo-like world (the top fifth by risk flagged), both languages, with
    the facts and risks behind them."""
    tables = make_tables(n_households=150, seed=5)
    features = make_features(tables)
    model = make_model(features, seed=5)
    risk = model.predict_risk(features)
    scores = pd.DataFrame(
        {
            "household_id": features.index.astype(str),
            "as_of": AS_OF,
            "risk": risk,
            "model_version": model.version,
            "flagged": risk >= np.quantile(risk, 0.8),
        }
    )
    flagged = scores["flagged"].to_numpy()
    reasons = explain_with_glossary(model, features[flagged], tables=tables, as_of=AS_OF, k=4)
    scores["reasons"] = [[] for _ in range(len(scores))]
    scores.loc[flagged, "reasons"] = pd.Series(list(reasons), index=scores.index[flagged])
    pages = {
        lang: {
            re.search(r"/(H\d{4})-", path).group(1): html
            for path, html in build_reports(
                scores, tables, glossary=GLOSSARY, lang=lang
            ).pages.items()
            if re.search(r"/H\d{4}-[0-9a-f]{6}\.html$", path)
        }
        for lang in ("zh-CN", "en")
    }
    facts = household_facts(tables, AS_OF)
    return pages, scores.set_index("household_id"), facts


def _numbers(cells: list[str]) -> list[float]:
    return [float(unescape(c).replace("−", "-").strip("=%+ ")) for c in cells]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_shown_points_add_up_to_the_risk(sheets, lang):
    pages, scores, _ = sheets
    assert len(pages[lang]) == int(scores["flagged"].sum()) > 10
    for household_id, html in pages[lang].items():
        table = re.search(r'<table class="breakdown">(.*?)</table>', html, re.S).group(1)
        cells = re.findall(r'<td class="num[^"]*">(.*?)</td>', table, re.S)
        *parts, total = _numbers(cells)
        assert sum(parts) == pytest.approx(total, abs=0.051), household_id  # one decimal each
        assert total == pytest.approx(100 * scores.loc[household_id, "risk"], abs=0.051)
        assert len(parts) >= 3  # average, at least the net of other factors, and the reasons


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_no_listed_reason_is_below_the_threshold(sheets, lang):
    pages, _, _ = sheets
    listed = 0
    for html in pages[lang].values():
        reasons = re.search(r'<ol class="reasons">(.*?)</ol>', html, re.S)
        found = re.findall(r'class="points">\+?([\d.]+)', reasons.group(1) if reasons else "")
        assert 1 <= len(found) <= 4
        assert all(float(p) >= 100 * MATERIAL_POINTS for p in found)
        listed += len(found)
    assert listed > len(pages[lang])  # some sheets list more than one reason


def test_no_close_to_the_line_label_above_the_margin(sheets):
    pages, _, facts = sheets
    limit = 100 * (1 + NEAR_LINE_MARGIN)
    checked = 0
    for household_id, row in facts.iterrows():
        share = row["income_to_line_pct"]
        for lang, close in (("zh-CN", "接近"), ("en", "close to the line")):
            name = GLOSSARY.group_name("income_low", lang, row.to_dict())
            if pd.notna(share) and share >= limit:
                assert close not in name, (household_id, share, name)
                checked += 1
            if pd.notna(share) and share < 100:
                assert name in ("收入低于监测线", "Income below the line")
    assert checked > 20
    for lang, close in (("zh-CN", "收入接近监测线"), ("en", "Income close to the line")):
        for household_id, html in pages[lang].items():
            if close in html:
                assert facts.loc[household_id, "income_to_line_pct"] < limit


def test_no_employment_measure_for_a_household_without_labour():
    facts = {"n_labor": 0.0, "n_children": 0.0, "household_size": 2.0}
    reasons = [
        Reason("few_earners", "", 0.2),
        Reason("income_low", "", 0.1),
        Reason("lost_work", "", 0.05),
    ]
    codes = [m["code"] for m in suggested_measures(reasons, set(), facts, GLOSSARY, "zh-CN")]
    assert "employment" not in codes
    assert {"minimum_living_allowance", "extreme_poverty_support"} <= set(codes)
    with_labour = {**facts, "n_labor": 1.0}
    codes = [m["code"] for m in suggested_measures(reasons, set(), with_labour, GLOSSARY, "en")]
    assert "employment" in codes and "extreme_poverty_support" not in codes
    # assistance only where the household's income could qualify for it
    for pct, expected in (
        (80.0, {"minimum_living_allowance", "extreme_poverty_support"}),
        (120.0, {"minimum_living_allowance"}),
        (260.0, set()),
    ):
        found = suggested_measures(
            reasons, set(), {**facts, "income_to_line_pct": pct}, GLOSSARY, "en"
        )
        offered = {m["code"] for m in found} & {
            "minimum_living_allowance",
            "extreme_poverty_support",
        }
        assert offered == expected, pct


def test_no_employment_measure_on_the_sheets_of_households_without_labour(sheets):
    pages, _, facts = sheets
    no_labour = [h for h in pages["zh-CN"] if facts.loc[h, "n_labor"] == 0]
    for household_id in no_labour:
        assert "就业帮扶" not in pages["zh-CN"][household_id].split("建议新增帮扶措施", 1)[1]


def test_every_reason_group_has_an_official_risk_type():
    for code in {*REASON_GROUPS, *GLOSSARY.groups}:
        assert GLOSSARY.risk_type(code) in RISK_TYPES
        for variant in GLOSSARY.groups.get(code, {}).get("variants", ()):
            assert variant.get("risk_type", GLOSSARY.risk_type(code)) in RISK_TYPES
    assert {GLOSSARY.risk_type_name(t, "zh-CN") for t in RISK_TYPES} == {
        "因病", "因残", "因学", "因灾", "因意外事故", "产业项目失败", "务工就业不稳", "缺劳动力",
        "住房安全", "其他",
    }  # fmt: skip
    groups = {**GLOSSARY.groups, "few_earners": {**GLOSSARY.groups["few_earners"]}}
    del groups["few_earners"]["risk_type"]
    from dataclasses import replace

    problems = glossary_problems(replace(GLOSSARY, groups=groups))
    assert problems == [
        "groups.few_earners.risk_type: every reason group needs an official risk type"
    ]


def test_risk_types_follow_the_figures():
    injury = {"big_health_event_type": "injury"}
    disaster = {"last_farm_event_type": "disaster"}
    assert GLOSSARY.risk_type("illness_medical", {}) == "illness"
    assert GLOSSARY.risk_type("illness_medical", injury) == "accident"
    assert GLOSSARY.risk_type("farm_disaster", disaster) == "disaster"
    assert GLOSSARY.risk_type("farm_disaster", {"last_farm_event_type": "crop_failure"}) == (
        "industry_failure"
    )


def test_advice_belongs_to_its_measure_and_running_measures_are_apart():
    reasons = [Reason("history", "", 0.1), Reason("illness_medical", "", 0.05)]
    facts = {"n_labor": 2.0, "has_medical_insurance": 1.0}
    found = suggested_measures(reasons, {"industrial"}, facts, GLOSSARY, "zh-CN")
    by_code = {m["code"]: m for m in found}
    for code, measure in by_code.items():
        assert measure["advice"] == GLOSSARY.advice_for_measure(code, "zh-CN")
    assert by_code["industrial"]["running"] and by_code["medical_insurance"]["running"]
    assert not by_code["medical"]["running"] and "farm_insurance" not in by_code
    assert [m["running"] for m in found] == sorted(m["running"] for m in found)  # new first


def test_a_large_shock_leads_the_reason_and_proposes_temporary_assistance():
    facts = {
        "big_health_event_date": pd.Timestamp("2025-01-10"),
        "big_health_event_type": "illness",
        "big_health_event_cost": 104299.0,
        "health_event_counts": "illness:3",
        "last_year": 2024,
        "medical_expense": 2320.0,
        "medical_share_pct": 4.0,
        "n_labor": 1.0,
    }
    from earlywarn.explain.reasons import group_reason

    text = group_reason("illness_medical", 0.1, facts, GLOSSARY, "zh-CN").text
    assert text.startswith("2025年1月疾病，花费104,299元；近12个月疾病3次")
    english = group_reason("illness_medical", 0.1, facts, GLOSSARY, "en").text
    assert english.startswith("Illness in January 2025, costing 104,299 yuan")
    codes = {m["code"] for m in suggested_measures([], set(), facts, GLOSSARY, "en")}
    assert {"temporary_assistance", "medical"} <= codes
    category = proposed_category({**facts, "poverty_exit_year": np.nan}, GLOSSARY, "zh-CN")
    assert category.name == "突发严重困难户" and "104,299" in category.basis
    exited = proposed_category({**facts, "poverty_exit_year": 2019.0}, GLOSSARY, "zh-CN")
    assert exited.name == "脱贫不稳定户" and "2019" in exited.basis
    assert proposed_category({"poverty_exit_year": None}, GLOSSARY, "en").code == "edge"


def test_the_rule_and_the_reasons_count_events_the_same_way(sheets):
    pages, _, _ = sheets
    seen = 0
    for html in pages["zh-CN"].values():
        rule = re.search(r"近12个月内发生严重变故：([^<]*)</li>", html)
        if rule:
            for kind, n in re.findall(r"(疾病|意外伤害|致残|家庭成员去世)(\d+)次", rule.group(1)):
                reason = re.search(rf"近12个月[^<]*?{kind}(\d+)次", html.split("现行规则")[0])
                if reason:
                    assert reason.group(1) == n
                    seen += 1
    assert seen > 0


def test_the_breakdown_takes_up_rounding_in_the_net_of_other_factors():
    reasons = [Reason("income_low", "", 0.12345), Reason("history", "", 0.02349)]
    rows = breakdown(0.19996, reasons, (0.04449, 0.01853), {}, GLOSSARY, "en")
    values = _numbers([row["points"] for row in rows])
    assert values[-1] == 20.0 and sum(values[:-1]) == pytest.approx(20.0)
    without_sums = breakdown(0.2, reasons, None, {}, GLOSSARY, "en")
    assert without_sums[-2]["label"] == "Average risk and all other factors (net)"


def test_chart_markers_differ_by_shape_and_do_not_merge():
    assert len(set(EVENT_SHAPES.values())) == len(EVENT_SHAPES)
    events = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-05-01", "2023-05-02", "2023-05-03", "2023-09-01"]),
            "event_type": ["illness", "job_loss", "disaster", "other"],
            "cost": [1.0, 2.0, 3.0, 4.0],
        }
    )
    history = pd.DataFrame(
        {"year": [2022, 2023], "net_income_per_capita": [8000.0, 7000.0], "line": [6500.0, 6900.0]}
    )
    svg = str(income_chart_svg(history, events, as_of=AS_OF, glossary=GLOSSARY, lang="en"))
    marks = re.findall(r"</title>(<\w+[^>]*>)</g>", svg)
    assert [m.split()[0] for m in marks] == ["<circle", "<rect", "<path", "<path"]
    centres = [tuple(map(float, re.findall(r"[\d.]+", m)[:2])) for m in marks[:3]]
    assert len({round(c[1]) for c in centres}) == 3  # same days, three rows apart


def test_generated_time_is_beijing_time_in_chinese():
    assert (
        local_time("2026-12-02 00:30 UTC", GLOSSARY, "zh-CN") == "2026年12月2日 08:30（北京时间）"
    )
    assert local_time("2026-12-02 00:30 UTC", GLOSSARY, "en") == "2026-12-02 00:30 UTC"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_sheet_is_the_visits_form(sheets, lang):
    pages, _, _ = sheets
    html = next(iter(pages[lang].values()))
    words = ["核实结论", "帮扶责任人", "核实日期", "户主签字", "监测类别", "风险消除", "监测对象"]
    if lang == "en":
        words = [
            "Finding",
            "Person responsible for support",
            "Date of visit",
            "Head of household signs",
        ]
    assert all(word in html for word in words)
    assert html.count("☐") == 4 + len(RISK_TYPES) + 3
    assert re.search(r"(预警线：风险≥|Cut-off: risk ≥ )\d+%", html)


def test_one_pdf_bookmark_per_household(sheets):
    import weasyprint

    pages, _, _ = sheets
    chosen = list(pages["zh-CN"].items())[:2]
    documents = [weasyprint.HTML(string=html).render() for _, html in chosen]
    merged = documents[0].copy([page for d in documents for page in d.pages])
    labels = [entry[0] for entry in merged.make_bookmark_tree()]  # (label, target, children, ...)
    assert len(labels) == 2 and labels[0] != labels[1]
    assert all(
        household_id in label for (household_id, _), label in zip(chosen, labels, strict=True)
    )


def test_village_and_county_names_come_from_the_places_table():
    from dataclasses import replace

    tables = make_tables(n_households=30, seed=7)
    villages = tables.households[["county", "village"]].drop_duplicates().reset_index(drop=True)
    places = villages.assign(
        county_name=[f"县名{n}" for n in range(len(villages))],
        village_name=[f"村名{n}" for n in range(len(villages))],
    )
    scores = pd.DataFrame(
        {
            "household_id": tables.households["household_id"].astype(str),
            "as_of": AS_OF,
            "risk": 0.3,
            "model_version": "test-1",
            "flagged": True,
            "reasons": [[] for _ in range(len(tables.households))],
        }
    )
    named = build_reports(scores, replace(tables, places=places), glossary=GLOSSARY, lang="zh-CN")
    coded = build_reports(scores, tables, glossary=GLOSSARY, lang="zh-CN")
    path = next(p for p in named.pages if re.search(r"/H\d{4}-[0-9a-f]{6}\.html$", p))
    household = re.search(r"/(H\d{4})-", path).group(1)
    row = tables.households.set_index("household_id").loc[household]
    n = int(
        villages.index[
            (villages["county"] == row["county"]) & (villages["village"] == row["village"])
        ][0]
    )
    assert f"县名{n} · 村名{n}" in named.pages[path]
    assert f"县名{n}" not in coded.pages[path]  # without the table: the codes
