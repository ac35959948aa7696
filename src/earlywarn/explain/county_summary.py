"""The county summary for officials: the county's working list (every household the model or
the current rule flags, sortable, filterable, exportable), households scored and flagged per
village, and how many of the flagged have each reason group as their main reason, or among
their reasons."""

from __future__ import annotations

from typing import Any

import pandas as pd

from earlywarn.explain.charts import bar_chart_svg
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.list_table import list_page_context
from earlywarn.explain.pages import (
    INDEX,
    county_summary_path,
    href,
    model_versions,
    place_label,
    scored_dates,
    slug,
)
from earlywarn.explain.village_list import export_paths
from earlywarn.explain.working_list import ListingContext
from earlywarn.resources import templates

VILLAGE_COLOUR = "#1f4e99"
MAIN_REASON_COLOUR = "#c0392b"
ANY_REASON_COLOUR = "#e67e22"


def reason_counts(
    sheets: list[dict[str, Any]], glossary: Glossary, lang: str
) -> list[tuple[str, int]]:
    """How many flagged households have each reason group as their first reason (group
    names, most first; ``—`` for those without a model reason)."""
    counts = pd.Series([sheet["first_group"] for sheet in sheets], dtype="object").value_counts()
    return [
        (glossary.group_name(code, lang) if code else "—", int(n)) for code, n in counts.items()
    ]


def any_reason_counts(
    sheets: list[dict[str, Any]], glossary: Glossary, lang: str
) -> list[tuple[str, int]]:
    """How many flagged households have each reason group among their reasons, most first."""
    counts = pd.Series(
        [code for sheet in sheets for code in sheet["groups"]], dtype="object"
    ).value_counts()
    return [(glossary.group_name(code, lang), int(n)) for code, n in counts.items()]


def county_summary_page(
    county: str,
    in_county: pd.DataFrame,
    sheets: list[dict[str, Any]],
    village_rows: list[dict[str, Any]],
    glossary: Glossary,
    common: dict[str, Any],
    listing: ListingContext | None = None,
) -> str:
    """The summary of ``county`` (``in_county``: every household of it scored, with
    :func:`~earlywarn.explain.working_list.with_list_facts` for the rule's verdict;
    ``sheets``: those flagged, with their ``path`` set by the village pages;
    ``village_rows``: one per village, see
    :class:`~earlywarn.explain.village_list.VillagePages`), rendered."""
    lang = common["lang"]
    path = county_summary_path(county)
    as_of = scored_dates(in_county, lang)
    context = list_page_context(
        in_county,
        common,
        level="county",
        listing=listing,
        sheets=sheets,
        page_path=path,
        exports={ext: href(target, path) for ext, target in export_paths(slug(county)).items()},
        as_of=as_of,
    )
    main = reason_counts(sheets, glossary, lang)
    any_reason = any_reason_counts(sheets, glossary, lang)
    return (
        templates()
        .get_template("county_summary.html.j2")
        .render(
            **common,
            **context,
            county=place_label(common, county),
            villages=village_rows,
            reasons=main,
            n_scored=len(in_county),
            n_flagged=len(sheets),
            village_chart=bar_chart_svg(
                [(row["village"], row["n_flagged"]) for row in village_rows], colour=VILLAGE_COLOUR
            ),
            reason_chart=bar_chart_svg(main, colour=MAIN_REASON_COLOUR),
            any_reason_chart=bar_chart_svg(any_reason, colour=ANY_REASON_COLOUR)
            if any_reason
            else "",
            as_of=as_of,
            model_version=model_versions(in_county),
            index=href(INDEX, path),
            export_name=slug(county),
        )
    )
