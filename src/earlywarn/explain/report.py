"""Reports for people: a one-page sheet per flagged household for its caseworker, a list per
village and a summary per county for officials, and an index, as self-contained HTML (styles
and charts inline, no network) rendered from the package's Jinja templates with autoescaping.

Pure: :func:`build_reports` takes a scores frame of the data contract, already checked
(``jobs.report`` reads the scores file with ``scoring.scores_file.read_scores``, which checks
it), and the tables (``Tables.personal`` for the head's name and ID, masked), and returns the
pages as strings keyed by relative path; ``jobs.report.run_reports`` writes them (and PDFs).
Reason texts are written again from their codes in the report's language with the household's
figures as of the scores' date, the same way scoring writes them
(:mod:`earlywarn.explain.reasons`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    RANK_IN_VILLAGE,
    RISK,
    VILLAGE,
)
from earlywarn.data.tables import Tables
from earlywarn.explain.county_summary import county_summary_page
from earlywarn.explain.glossary import Glossary, check_lang
from earlywarn.explain.household_sheet import N_IN_VILLAGE, household_sheets

# Moved to the household sheet; re-exported here until tests/integration/test_personal_data.py
# imports it from there (drop at the merge of issue 10).
from earlywarn.explain.pages import (
    INDEX,
    county_summary_path,
    href,
    model_versions,
    page_context,
    scored_dates,
    slug,
)
from earlywarn.explain.sheet_figures import place_names
from earlywarn.explain.village_list import village_pages
from earlywarn.explain.working_list import ListingContext
from earlywarn.resources import templates

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportSet:
    """Rendered pages keyed by relative path (POSIX): ``index.html``, per county
    ``<county>/summary.html``, per village ``<county>/<village>/index.html`` and one page per
    flagged household ``<county>/<village>/<household>.html``. ``booklets`` groups pages that
    belong in one PDF (a village's list and its households' sheets; a county's summary)."""

    pages: dict[str, str]
    booklets: dict[str, list[str]] = field(default_factory=dict)
    n_households: int = 0


def build_reports(
    scores: pd.DataFrame,
    tables: Tables,
    *,
    glossary: Glossary,
    lang: str = "zh-CN",
    generated: str = "",
    rule_cfg: RuleConfig | None = None,
    listing: ListingContext | None = None,
) -> ReportSet:
    """Every page for the flagged households of ``scores`` (see :class:`ReportSet`).

    ``rule_cfg``: the current rule whose triggers the sheets list (the one scoring used);
    ``listing``: what the list pages state about the run (policy and capacity, when it was
    scored, drift alerts), when known.
    """
    check_lang(glossary, lang)
    scored = _with_places(scores, tables)
    flagged = scored[scored[FLAGGED]].sort_values(
        [COUNTY, VILLAGE, RISK], ascending=[True, True, False], kind="stable"
    )
    common = page_context(glossary, lang, generated)
    common["place_names"] = place_names(tables.places)  # codes -> names, where known
    sheets: list[dict[str, Any]] = []
    for as_of, on_date in flagged.groupby(AS_OF, sort=True):
        sheets += household_sheets(
            on_date,
            tables,
            pd.Timestamp(as_of),
            glossary,
            lang,
            rule_cfg=rule_cfg,
            cutoff=float(on_date[RISK].min()),
        )
    _number_sheets(sheets, glossary, lang)
    pages: dict[str, str] = {}
    booklets: dict[str, list[str]] = {}
    county_rows = []
    for county, in_county in scored.groupby(COUNTY, sort=True):
        in_county_sheets = [sheet for sheet in sheets if sheet["county"] == county]
        village_rows = []
        for village, in_village in in_county.groupby(VILLAGE, sort=True):
            mine = [sheet for sheet in in_county_sheets if sheet["village"] == village]
            listed = village_pages(
                str(county), str(village), in_village, mine, common, listing=listing
            )
            pages.update(listed.pages)
            booklets[listed.booklet] = list(listed.pages)
            village_rows.append(listed.summary_row)
        summary_path = county_summary_path(str(county))
        pages[summary_path] = county_summary_page(
            str(county),
            in_county,
            in_county_sheets,
            village_rows,
            glossary,
            common,
            listing=listing,
        )
        booklets[f"{slug(county)}/summary.pdf"] = [summary_path]
        county_rows.append(_index_row(str(county), in_county, in_county_sheets, village_rows))
    pages[INDEX] = (
        templates()
        .get_template("index.html.j2")
        .render(
            **common,
            counties=county_rows,
            as_of=scored_dates(scored, lang),
            model_version=model_versions(scored),
        )
    )
    log.info("rendered %d pages for %d flagged households", len(pages), len(sheets))
    return ReportSet(pages=pages, booklets=booklets, n_households=len(sheets))


def _number_sheets(sheets: list[dict[str, Any]], glossary: Glossary, lang: str) -> None:
    """Each sheet's place in its village's booklet (``Sheet 3 of 12 in the village``)."""
    by_village: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for sheet in sheets:
        by_village.setdefault((sheet["county"], sheet["village"]), []).append(sheet)
    for in_village in by_village.values():
        for k, sheet in enumerate(in_village, start=1):
            sheet["position"] = glossary.label("sheet_position", lang, k=k, n=len(in_village))


def _index_row(
    county: str,
    in_county: pd.DataFrame,
    sheets: list[dict[str, Any]],
    village_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """A county's row on the index: counts and links to its summary and village lists."""
    return {
        "county": county,
        "n_scored": len(in_county),
        "n_flagged": len(sheets),
        "link": href(county_summary_path(county), INDEX),
        "villages": [
            {
                "village": row["village"],
                "n_flagged": row["n_flagged"],
                "link": href(row["path"], INDEX),
            }
            for row in village_rows
        ],
    }


def _with_places(scores: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    """Scores with county, village (from the households table when absent) and the rank of
    each household's risk within its village among those scored (1 = highest)."""
    out = scores.copy()
    places = tables.households.set_index(HOUSEHOLD_ID)[[COUNTY, VILLAGE]]
    for name in (COUNTY, VILLAGE):
        if name not in out.columns:
            out[name] = out[HOUSEHOLD_ID].map(places[name])
        out[name] = out[name].astype("string").fillna("?")
    out[AS_OF] = pd.to_datetime(out[AS_OF])
    in_village = out.groupby([AS_OF, COUNTY, VILLAGE])[RISK]
    if RANK_IN_VILLAGE not in out.columns:
        out[RANK_IN_VILLAGE] = in_village.rank(method="min", ascending=False).astype("int64")
    out[N_IN_VILLAGE] = in_village.transform("size")
    out[FLAGGED] = out[FLAGGED].astype("boolean").fillna(False).astype(bool)
    return out
