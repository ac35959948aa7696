"""The village list: a village's flagged households, highest risk first, each linking to its
household sheet; printed as one booklet with those sheets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from earlywarn.explain.formatting import percent
from earlywarn.explain.pages import (
    county_summary_path,
    href,
    model_versions,
    scored_dates,
    slug,
    village_dir,
)
from earlywarn.resources import templates


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
) -> VillagePages:
    """The list of ``village`` (``in_village``: every household of it scored; ``sheets``: the
    sheets of those flagged, highest risk first) and those sheets, rendered."""
    env = templates()
    folder = village_dir(county, village)
    index_path = f"{folder}/index.html"
    summary = county_summary_path(county)
    lang = common["lang"]
    for sheet in sheets:
        sheet["path"] = f"{folder}/{slug(sheet['id'])}.html"
    pages = {
        index_path: env.get_template("village_index.html.j2").render(
            **common,
            county=county,
            village=village,
            rows=[{**sheet, "link": href(sheet["path"], index_path)} for sheet in sheets],
            n_scored=len(in_village),
            summary=href(summary, index_path),
            as_of=scored_dates(in_village, lang),
            model_version=model_versions(in_village),
        )
    }
    for sheet in sheets:
        pages[sheet["path"]] = env.get_template("household.html.j2").render(
            **common, h=sheet, back=href(index_path, sheet["path"])
        )
    row = {
        "village": village,
        "n_scored": len(in_village),
        "n_flagged": len(sheets),
        "share": percent(len(sheets) / max(len(in_village), 1)),
        "link": href(index_path, summary),
        "path": index_path,
    }
    return VillagePages(pages=pages, booklet=f"{folder}/village.pdf", summary_row=row)
