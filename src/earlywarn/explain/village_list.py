"""The village list: a village's working list (the households the model flags, highest risk
first, each linking to its sheet, then those only the current rule flags), sortable and
filterable in the browser; printed as one booklet with the flagged households' sheets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from earlywarn.data.columns import COUNTY, VILLAGE
from earlywarn.explain.formatting import percent
from earlywarn.explain.list_table import export_frame, list_columns, list_page_context
from earlywarn.explain.list_words import list_words
from earlywarn.explain.pages import (
    county_summary_path,
    href,
    model_versions,
    place_label,
    scored_dates,
    slug,
    village_dir,
)
from earlywarn.explain.working_list import (
    MONITORING,
    PREVIOUS_AS_OF,
    ListingContext,
    working_list,
)
from earlywarn.resources import templates

EXPORT_STEM = "working-list"
EXPORT_FORMATS = ("xlsx", "csv")


def export_paths(folder: str) -> dict[str, str]:
    """Where ``jobs.report`` writes the whole working list of a village or county folder
    (format -> path); the list pages link to them."""
    return {ext: f"{folder}/{EXPORT_STEM}.{ext}" for ext in EXPORT_FORMATS}


def list_exports(scored: pd.DataFrame, lang: str) -> dict[str, pd.DataFrame]:
    """The whole working list of each county and each village of ``scored`` (with
    :func:`~earlywarn.explain.working_list.with_list_facts`) as CSV and XLSX hold it, keyed
    by the folder its files go in (see :func:`export_paths`)."""
    words = list_words(lang)
    exports = {}
    for county, in_county in scored.groupby(COUNTY, sort=True):
        history = PREVIOUS_AS_OF in in_county and bool(in_county[PREVIOUS_AS_OF].notna().any())
        listed = working_list(in_county)
        columns = list_columns(level="county", history=history, monitoring=MONITORING in listed)
        exports[slug(county)] = export_frame(listed, columns, words)
        for village in sorted(in_county[VILLAGE].astype(str).unique()):
            exports[village_dir(str(county), village)] = export_frame(
                listed[listed[VILLAGE].astype(str) == village], columns, words
            )
    return exports


@dataclass(frozen=True)
class VillagePages:
    """A village's list and its households' sheets, keyed by path in booklet order (the list
    first), and the village's row on its county's summary."""

    pages: dict[str, str]
    booklet: str
    summary_row: dict[str, Any]


def village_pages(
    county: str,
    village: str,
    in_village: pd.DataFrame,
    sheets: list[dict[str, Any]],
    common: dict[str, Any],
    listing: ListingContext | None = None,
) -> VillagePages:
    """The list of ``village`` (``in_village``: every household of it scored, with
    :func:`~earlywarn.explain.working_list.with_list_facts` for the rule's verdict; ``sheets``:
    the sheets of those flagged, highest risk first) and those sheets, rendered."""
    env = templates()
    folder = village_dir(county, village)
    index_path = f"{folder}/index.html"
    summary = county_summary_path(county)
    lang = common["lang"]
    for sheet in sheets:
        sheet["path"] = f"{folder}/{slug(sheet['id'])}.html"
    as_of = scored_dates(in_village, lang)
    context = list_page_context(
        in_village,
        common,
        level="village",
        listing=listing,
        sheets=sheets,
        page_path=index_path,
        exports={ext: href(path, index_path) for ext, path in export_paths(folder).items()},
        as_of=as_of,
    )
    pages = {
        index_path: env.get_template("village_index.html.j2").render(
            **common,
            **context,
            county=place_label(common, county),
            village=place_label(common, county, village),
            summary=href(summary, index_path),
            as_of=as_of,
            model_version=model_versions(in_village),
            export_name=f"{slug(county)}-{slug(village)}",
        )
    }
    for sheet in sheets:
        pages[sheet["path"]] = env.get_template("household.html.j2").render(
            **common, h=sheet, back=href(index_path, sheet["path"])
        )
    figures = context["figures"]
    row = {
        VILLAGE: village,
        "n_scored": len(in_village),
        "n_flagged": len(sheets),
        "share": percent(len(sheets) / max(len(in_village), 1)),
        "n_rule_only": figures.n_rule_only if figures.rule_known else None,
        "expected": context["W"].number(figures.expected_flagged),
        "link": href(index_path, summary),
        "path": index_path,
    }
    return VillagePages(pages=pages, booklet=f"{folder}/village.pdf", summary_row=row)
