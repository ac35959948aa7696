"""The county's working list in a real browser (headless Chromium): sorting by a column
heading, filtering with the controls and exporting the rows shown work as an official uses
them. Skipped, saying why, where Chromium is absent; scripts/setup.sh installs it for CI."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from earlywarn.config import RuleConfig
from earlywarn.data.columns import COUNTY, FLAGGED, HOUSEHOLD_ID, RISK
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.pages import county_summary_path
from earlywarn.explain.report import build_reports
from earlywarn.explain.working_list import RULE_FLAGGED, with_list_facts
from list_world import list_scores

CHROMIUM = next(
    (found for found in (shutil.which(name) for name in ("chromium", "chromium-browser")) if found),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found (Debian: apt-get install chromium; scripts/setup.sh "
    "installs it): the county list's sort, filter and export are NOT tested in a browser",
)

# Drives the page as a person would (clicks on headings, typing, choosing, the export
# button), then writes what it saw into <pre id="result"> for --dump-dom to hand back.
DRIVE = r"""
(async function () {
  const out = {};
  try {
    const model = document.getElementById("list-model");
    const rule = document.getElementById("list-rule");
    const shown = (table, key) => Array.from(table.tBodies[0].rows).filter(r => !r.hidden)
      .map(r => r.querySelector("td.k-" + key).getAttribute("data-value"));
    const heading = (table, key) => {
      const cells = Array.from(table.tBodies[0].rows[0].cells);
      return table.tHead.rows[0].cells[cells.findIndex(td => td.classList.contains("k-" + key))];
    };
    const set = (name, value) => {
      const control = document.querySelector("[data-filter=" + name + "]");
      if (control.type === "checkbox") { control.checked = value; } else { control.value = value; }
      control.dispatchEvent(new Event(control.type === "search" ? "input" : "change",
                                      { bubbles: true }));
    };
    out.risk_before = shown(model, "risk");
    heading(model, "risk").click();
    out.risk_click_1 = shown(model, "risk");
    out.aria_1 = heading(model, "risk").getAttribute("aria-sort");
    heading(model, "risk").click();
    out.risk_click_2 = shown(model, "risk");
    heading(model, "household_id").click();
    out.ids_sorted = shown(model, "household_id");
    set("who", "rule_only");
    out.who_model = shown(model, "who");
    out.who_rule = shown(rule, "who");
    out.label = document.querySelector("[data-shown]").textContent;
    set("who", "");
    set("new", true);
    out.new_only = shown(model, "household_id").concat(shown(rule, "household_id"));
    set("new", false);
    set("text", "__SEARCH__");
    out.search = shown(model, "household_id").concat(shown(rule, "household_id"));
    set("text", "");
    set("village", "__VILLAGE__");
    out.village = shown(model, "village").concat(shown(rule, "village"));
    let blob = null, name = null;
    URL.createObjectURL = b => { blob = b; return "blob:earlywarn-test"; };
    HTMLAnchorElement.prototype.click = function () { name = this.download; };
    document.querySelector("[data-export=csv]").click();
    out.filename = name;
    out.csv = blob ? await blob.text() : null;
    out.csv_head = blob ? Array.from(new Uint8Array(await blob.slice(0, 3).arrayBuffer())) : null;
    out.csv_type = blob ? blob.type : null;
  } catch (err) {
    out.error = String(err && err.stack || err);
  }
  const pre = document.createElement("pre");
  pre.id = "result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def drive(page: str, tmp_path: Path, *, search: str, village: str) -> dict:
    """Open ``page`` in headless Chromium, run :data:`DRIVE` on it and return what it saw."""
    script = DRIVE.replace("__SEARCH__", search).replace("__VILLAGE__", village)
    path = tmp_path / "summary.html"
    path.write_text(page.replace("</body>", f"<script>{script}</script></body>"), "utf-8")
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"Chromium returned no result (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(unescape(found.group(1)))
    assert "error" not in result, result.get("error")
    return result


@pytest.fixture(scope="module")
def county_page(tables):
    """The English summary of the county with the most households, and its scored rows."""
    glossary = load_glossary()
    scores = with_list_facts(list_scores(tables), tables, RuleConfig(), glossary, "en")
    county = scores[COUNTY].value_counts().index[0]
    reports = build_reports(scores, tables, glossary=glossary, lang="en")
    return reports.pages[county_summary_path(county)], scores[scores[COUNTY] == county]


def test_the_county_list_sorts_filters_and_exports_in_chromium(county_page, tmp_path):
    page, scored = county_page
    flagged = scored[scored[FLAGGED]]
    rule_only = scored[~scored[FLAGGED] & scored[RULE_FLAGGED].astype(bool)]
    assert len(flagged) >= 3 and len(rule_only) >= 3  # the world has both sections
    target = str(rule_only[HOUSEHOLD_ID].iloc[-1])
    village = str(scored["village"].value_counts().index[-1])
    seen = drive(page, tmp_path, search=target, village=village)

    # sorting: the first click on a number sorts highest first, the second lowest first
    risks = [float(v) for v in seen["risk_click_1"]]
    assert risks == sorted(risks, reverse=True) and seen["aria_1"] == "descending"
    assert [float(v) for v in seen["risk_click_2"]] == sorted(risks)
    assert seen["ids_sorted"] == sorted(seen["ids_sorted"])
    assert len(seen["ids_sorted"]) == len(flagged)

    # filtering: who flags, the search box, newly flagged, the village
    assert seen["who_model"] == [] and len(seen["who_rule"]) == len(rule_only)
    assert set(seen["who_rule"]) == {"Rule only"}
    assert seen["label"] == f"{len(rule_only)} of {len(flagged) + len(rule_only)} shown"
    assert seen["search"] == [target]
    newly = scored[scored["newly_flagged"].astype(bool)][HOUSEHOLD_ID]
    assert sorted(seen["new_only"]) == sorted(newly.astype(str))
    assert seen["village"] and set(seen["village"]) == {village}

    # export: the rows shown (the village filter is still on) as CSV with a BOM for Excel
    assert seen["filename"].endswith(".csv") and seen["csv_type"].startswith("text/csv")
    assert seen["csv_head"] == [0xEF, 0xBB, 0xBF]  # the BOM: Excel and WPS read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(seen["csv"].lstrip("\ufeff"))))
    in_village = scored[
        (scored["village"] == village) & (scored[FLAGGED] | scored[RULE_FLAGGED].astype(bool))
    ]
    assert sorted(row["Household"] for row in rows) == sorted(in_village[HOUSEHOLD_ID])
    assert {row["Village"] for row in rows} == {village}
    assert {row["County"] for row in rows} == {str(scored[COUNTY].iloc[0])}
    by_id = in_village.set_index(HOUSEHOLD_ID)[RISK]
    for row in rows:
        assert float(row["Risk (%)"]) == pytest.approx(100 * by_id[row["Household"]], abs=0.051)
    assert "Sheet" not in rows[0]  # the link column is not exported
    new_here = set(in_village[in_village["newly_flagged"].astype(bool)][HOUSEHOLD_ID])
    assert {row["Household"] for row in rows if row["Newly flagged"] == "new"} == new_here
