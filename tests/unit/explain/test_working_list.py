"""The county's working list: nobody the rule flags is lost, who flags whom, the header's
figures (capacity, expected number falling below the line), the pages and the exports."""

from __future__ import annotations

import json
import re
import zipfile
from html import unescape

import pandas as pd
import pytest

from earlywarn.config import Config, PolicyConfig, RuleConfig
from earlywarn.data.columns import COUNTY, FLAGGED, HOUSEHOLD_ID, RISK, VILLAGE
from earlywarn.data.directory import write_tables
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.list_words import WORDS
from earlywarn.explain.pages import county_summary_path, page_context, slug, village_dir
from earlywarn.explain.report import build_reports
from earlywarn.explain.village_list import export_paths, list_exports, village_pages
from earlywarn.explain.working_list import (
    BOTH,
    MODEL_ONLY,
    RULE_ONLY,
    ListingContext,
    capacity,
    list_figures,
    policy_text,
    who_flags,
    with_list_facts,
    working_list,
)
from earlywarn.model.rule import rule_flags
from list_world import AS_OF, list_scores


@pytest.fixture(scope="module")
def scored(tables):
    return with_list_facts(list_scores(tables), tables, RuleConfig(), load_glossary(), "en")


def test_every_household_the_model_or_the_rule_flags_is_on_the_list_once(scored, tables):
    rule = rule_flags(tables, AS_OF, scored[HOUSEHOLD_ID], cfg=RuleConfig())["rule_flagged"]
    listed = working_list(scored)
    expected = set(scored.loc[scored[FLAGGED], HOUSEHOLD_ID]) | set(rule[rule].index)
    assert set(listed[HOUSEHOLD_ID]) == expected and listed[HOUSEHOLD_ID].is_unique
    assert (listed["who"] == RULE_ONLY).sum() > 0  # the world has households only the rule flags
    # those the model flags come first, each part by risk, highest first
    model_part = listed[listed["who"] != RULE_ONLY]
    assert list(listed["who"] != RULE_ONLY) == [True] * len(model_part) + [False] * (
        len(listed) - len(model_part)
    )
    for _, part in listed.groupby(listed["who"] == RULE_ONLY):
        assert part[RISK].is_monotonic_decreasing


def test_who_flags_says_model_and_rule_model_only_rule_only():
    frame = pd.DataFrame(
        {FLAGGED: [True, True, False, False], "rule_flagged": [True, False, True, None]}
    )
    assert who_flags(frame).tolist() == [BOTH, MODEL_ONLY, RULE_ONLY, ""]
    assert who_flags(frame.drop(columns="rule_flagged")).tolist() == [MODEL_ONLY] * 2 + [""] * 2


def test_the_rule_only_rows_say_which_trigger_fired_with_its_figures(scored):
    listed = working_list(scored)
    for row in listed[listed["who"] == RULE_ONLY].itertuples():
        assert re.search(
            r"last income [\d,]+ < rule limit [\d,]+ yuan|serious shock: ", row.main_reason
        )
    model_rows = listed[listed["who"] != RULE_ONLY]
    names = {
        load_glossary().group_name(code, "en")
        for code in ("income_low", "illness_medical", "lost_work", "farm_disaster")
    }
    assert set(model_rows["main_reason"]) <= names


def test_header_figures_add_up(scored):
    figures = list_figures(scored)
    flagged = scored[scored[FLAGGED]]
    assert figures.n_flagged == len(flagged) == figures.n_both + figures.n_model_only
    assert figures.expected_flagged == pytest.approx(flagged[RISK].sum())
    assert figures.expected_all == pytest.approx(scored[RISK].sum())
    assert figures.n_newly == int(scored["newly_flagged"].sum())
    assert figures.n_doubled == int(scored["risk_doubled"].sum())
    assert figures.previous_as_of == "2023-07-01"


@pytest.mark.parametrize(
    ("policy", "village", "county", "words"),
    [
        (
            PolicyConfig(kind="top_n_per_group", n_per_group=5),
            5,
            15,
            "the 5 highest risks in each village",
        ),
        (
            PolicyConfig(kind="top_n_per_group", n_per_group=8, group="county"),
            None,
            8,
            "in each county",
        ),
        (
            PolicyConfig(kind="top_share", share=0.1),
            None,
            None,
            "top 10% by risk of all 1,463 households scored (147 places)",
        ),
        (PolicyConfig(kind="threshold", threshold=0.4), None, None, "risk of 40% or more"),
    ],
)
def test_capacity_follows_the_policy(policy, village, county, words):
    assert capacity(policy, "village", 3, 1463) == village
    assert capacity(policy, "county", 3, 1463) == county
    assert words in policy_text(policy, 1463, "en")
    assert policy_text(policy, 1463, "zh-CN")


def _text(html: str) -> str:
    return unescape(
        re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S))
    )


def test_the_village_page_lists_both_sections_and_states_the_header(scored):
    village = scored[VILLAGE].value_counts().index[0]
    in_village = scored[scored[VILLAGE] == village]
    county = str(in_village[COUNTY].iloc[0])
    listing = ListingContext(
        policy=PolicyConfig(kind="top_n_per_group", n_per_group=4),
        n_scored_run=len(scored),
        scored_at="2024-07-02 08:00 UTC",
        drift_warnings=("days_since_last_disaster: PSI 1.221 (alert)",),
    )
    common = page_context(load_glossary(), "en", "2024-07-03 09:00 UTC")
    pages = village_pages(county, str(village), in_village, [], common, listing)
    html = pages.pages[f"{village_dir(county, str(village))}/index.html"]
    text = " ".join(_text(html).split())
    figures = list_figures(in_village)
    assert f"{figures.n_flagged} flagged by the model (capacity under the policy: 4)" in text
    assert f"about {figures.expected_flagged:,.1f} of the flagged" in text
    assert "Flagging policy: the 4 highest risks in each village" in text
    assert "Data as of" in text and "scored 2024-07-02 08:00 UTC" in text
    assert "page generated 2024-07-03 09:00 UTC" in text
    assert "days_since_last_disaster: PSI 1.221 (alert)" in text
    assert "Since the previous run (2023-07-01)" in text
    assert "Also flagged by the current rule" not in text  # the three-way column says it
    rule_only = in_village[(~in_village[FLAGGED]) & in_village["rule_flagged"].astype(bool)]
    section = html.split('id="list-rule"')[1] if len(rule_only) else ""
    for household in rule_only[HOUSEHOLD_ID]:
        assert f">{household}<" in section
    # in print the names and IDs keep to one line each (no one character per line)
    assert "table.worklist td { white-space: nowrap; }" in html
    assert pages.summary_row["n_rule_only"] == len(rule_only)


def test_pages_without_the_rules_verdict_say_so(tables):
    scores = list_scores(tables, history=False)
    reports = build_reports(scores, tables, glossary=load_glossary(), lang="zh-CN")
    county = scores[COUNTY].iloc[0]
    text = _text(reports.pages[county_summary_path(county)])
    assert WORDS["rule_unknown"]["zh-CN"] in text
    assert WORDS["h_first_run"]["zh-CN"] in text
    assert WORDS["col_newly"]["zh-CN"] not in text  # no previous run: no comparison columns


def test_exports_hold_each_county_and_village_list(scored):
    exports = list_exports(scored, "zh-CN")
    counties = scored[COUNTY].unique()
    assert {slug(c) for c in counties} <= set(exports)
    listed = working_list(scored)
    for county in counties:
        frame = exports[slug(county)]
        assert len(frame) == (listed[COUNTY] == county).sum()
        assert list(frame.columns[:4]) == ["县", "村", "村内排序", "户编号"]
        assert frame["返贫风险（%）"].max() <= 100
    villages = scored[[COUNTY, VILLAGE]].drop_duplicates()
    for county, village in villages.itertuples(index=False):
        assert village_dir(county, village) in exports  # every village page's links resolve


def test_the_report_job_writes_csv_and_xlsx_beside_the_pages(tables, tmp_path):
    from earlywarn.jobs.report import listing_context, run_reports

    scores = list_scores(tables)
    scores.to_parquet(tmp_path / "scores.parquet")
    (tmp_path / "scores.parquet.meta.json").write_text(
        json.dumps(
            {"created_at": "2024-07-02T08:00:00+00:00", "drift_warnings": ["x: PSI 0.3 (alert)"]}
        )
    )
    write_tables(tables, tmp_path / "data")
    result = run_reports(
        tmp_path / "scores.parquet", tmp_path / "data", tmp_path / "out", lang="en", pdf=False
    )
    county = scores[COUNTY].value_counts().index[0]
    paths = export_paths(slug(county))
    table = pd.read_csv(tmp_path / "out" / paths["csv"], encoding="utf-8-sig", dtype=str)
    assert (tmp_path / "out" / paths["csv"]).read_bytes().startswith(b"\xef\xbb\xbf")
    assert set(table["County"]) == {county}
    with zipfile.ZipFile(tmp_path / "out" / paths["xlsx"]) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        names = book.namelist()
    assert "xl/worksheets/sheet2.xml" in names  # the list, and how it was made
    assert all(household in strings for household in table["Household"])
    assert "x: PSI 0.3 (alert)" in strings
    assert result.n_exports == 2 * len(
        list_exports(with_list_facts(scores, tables, RuleConfig(), load_glossary(), "en"), "en")
    )
    listing = listing_context(tmp_path / "scores.parquet", Config(), n_scored_run=len(scores))
    assert listing.scored_at == "2024-07-02 08:00 UTC" and listing.drift_warnings == (
        "x: PSI 0.3 (alert)",
    )
    assert not listing.config_differs  # the file records no config hash
    summary = (tmp_path / "out" / county_summary_path(county)).read_text(encoding="utf-8")
    assert 'href="working-list.xlsx"' in summary
    # titled by the places table's names, the code beside them
    county_name = tables.places.set_index("county").loc[county, "county_name"].iloc[0]
    assert f"· {county_name} ({county})</h1>" in unescape(summary)
    # the pages state the run as the exports do: policy, when scored, the drift alert
    for text in ("Flagging policy:", "2024-07-02 08:00 UTC", "x: PSI 0.3 (alert)"):
        assert text in unescape(summary), text
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    for link in re.findall(r'href="([^"]+working-list\.(?:xlsx|csv))"', index):
        assert (tmp_path / "out" / link).is_file(), link
    assert f'href="{paths["xlsx"]}"' in index


def test_the_monitoring_status_says_what_each_listed_household_asks_of_the_team(scored):
    """With the monitoring status in the scores, each listed household is one of: visit (not
    monitored), verified (a recent visit found no risk, nothing since), check the measures
    (monitored, risk still high), exited and at risk again; the list pages show it."""
    from earlywarn.explain.list_table import list_columns
    from earlywarn.explain.working_list import MONITORING

    statuses = ["not_monitored", "monitored", "exited", "not_monitored"]
    with_status = scored.assign(
        monitoring_status=[statuses[i % 4] for i in range(len(scored))],
        verified_not_at_risk_on=[
            pd.Timestamp("2024-01-10") if i % 8 == 3 else pd.NaT for i in range(len(scored))
        ],
    )
    listed = working_list(with_status).set_index(HOUSEHOLD_ID)
    source = with_status.set_index(HOUSEHOLD_ID).loc[listed.index]
    expected = source["monitoring_status"].map(
        {"not_monitored": "visit", "monitored": "check_measures", "exited": "exited"}
    )
    expected[source["verified_not_at_risk_on"].notna()] = "verified"
    assert listed[MONITORING].tolist() == expected.tolist()
    assert set(listed[MONITORING]) == {"visit", "verified", "check_measures", "exited"}
    keys = [c.key for c in list_columns(level="county", history=False, monitoring=True)]
    assert MONITORING in keys
    assert MONITORING not in working_list(scored)  # no status in the scores: no column
    for step in ("visit", "verified", "check_measures", "exited"):
        assert {"zh-CN", "en"} <= set(WORDS[f"mon_{step}"])
