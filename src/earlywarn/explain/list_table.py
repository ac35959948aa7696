"""The working list as a table: its columns in a language, its rows as a page shows them
(display text, the value a sort and an export use) and as CSV/XLSX hold them, and the
header lines a list page states above it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from earlywarn.data.columns import COUNTY, HEAD_NAME, HOUSEHOLD_ID, RANK_IN_VILLAGE, RISK, VILLAGE
from earlywarn.explain.list_words import ListWords, list_words
from earlywarn.explain.pages import href
from earlywarn.explain.working_list import (
    MAIN_REASON,
    MASKED_ID,
    MONITORING,
    NEWLY_FLAGGED,
    PREVIOUS_RISK,
    RISK_DOUBLED,
    RULE_ONLY,
    ListFigures,
    ListingContext,
    capacity,
    list_figures,
    policy_text,
    working_list,
)


@dataclass(frozen=True)
class Column:
    """A column of the list: its key in the list frame, its word, ``num`` or ``text``, and
    where it shows (``page``: on screen and in print; ``export``: only in exports)."""

    key: str
    word: str
    kind: str = "text"
    shows: str = "page"


def list_columns(*, level: str, history: bool, monitoring: bool = False) -> list[Column]:
    """The list's columns on a ``level`` ("village" or "county") page; the comparison with
    the previous run only when there was one (``history``); what the monitoring status asks
    of the team when the scores carry it (``monitoring``)."""
    columns = [
        Column(COUNTY, "col_county", shows="export"),
        Column(VILLAGE, "col_village", shows="page" if level == "county" else "export"),
        Column(RANK_IN_VILLAGE, "col_rank", "num"),
        Column(HOUSEHOLD_ID, "col_household"),
        Column(HEAD_NAME, "col_head"),
        Column(MASKED_ID, "col_masked"),
        Column(RISK, "col_risk", "num"),
    ]
    if history:
        columns += [
            Column(PREVIOUS_RISK, "col_previous", "num"),
            Column("risk_change", "col_change", "num"),
            Column(NEWLY_FLAGGED, "col_newly"),
            Column(RISK_DOUBLED, "col_doubled"),
        ]
    columns += [Column("who", "col_who")]
    if monitoring:
        columns += [Column(MONITORING, "col_monitoring")]
    return [*columns, Column("main_reason", "col_main_reason")]


def cell(key: str, value: Any, words: ListWords) -> tuple[str, str]:
    """A value of the list as the page shows it and as a sort or an export takes it (risks
    in percent, one decimal; blanks empty)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—", ""
    if key in (RISK, PREVIOUS_RISK):
        shown = "<1%" if 0 < value < 0.005 else f"{100 * value:.0f}%"
        return shown, f"{100 * value:.1f}"
    if key == "risk_change":
        points = round(100 * value, 1) + 0.0  # no "-0.0"
        return ("0.0" if points == 0 else f"{points:+.1f}"), f"{points:.1f}"
    if key in (NEWLY_FLAGGED, RISK_DOUBLED):
        mark = words("yes_new" if key == NEWLY_FLAGGED else "yes_doubled") if value else ""
        return mark, mark
    if key in ("who", MONITORING):
        prefix = "who" if key == "who" else "mon"
        return words(f"{prefix}_{value}"), words(f"{prefix}_{value}")
    if key == RANK_IN_VILLAGE:
        return str(int(value)), str(int(value))
    return str(value), str(value)


def page_rows(
    frame: pd.DataFrame,
    columns: list[Column],
    words: ListWords,
    link_of: Callable[[dict[str, Any]], str | None],
) -> list[dict[str, Any]]:
    """The rows of ``frame`` (see :func:`~earlywarn.explain.working_list.working_list`) as a
    page renders them: cells (text, value, column), filter keys and the sheet's link."""
    rows = []
    for record in frame.to_dict(orient="records"):
        cells = []
        for column in columns:
            text, value = cell(column.key, record.get(column.key), words)
            cells.append({"text": text, "value": value, "column": column})
        rows.append(
            {
                "cells": cells,
                "who": record["who"],
                "village": str(record[VILLAGE]),
                "new": bool(record.get(NEWLY_FLAGGED)),
                "doubled": bool(record.get(RISK_DOUBLED)),
                "link": link_of(record) if record["who"] != RULE_ONLY else None,
            }
        )
    return rows


def export_frame(frame: pd.DataFrame, columns: list[Column], words: ListWords) -> pd.DataFrame:
    """The list as CSV and XLSX hold it: every column (page and export) under its word, risks
    in percent (one decimal), yes/no marks as the page writes them."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column.key] if column.key in frame else pd.Series(None, index=frame.index)
        if column.key in (RISK, PREVIOUS_RISK, "risk_change"):
            out[export_label(column, words)] = (100 * values.astype("float64")).round(1)
        elif column.key == RANK_IN_VILLAGE:
            out[export_label(column, words)] = values.astype("Int64")
        else:
            out[export_label(column, words)] = [
                cell(column.key, value, words)[0] for value in values
            ]
    return out.reset_index(drop=True)


def export_label(column: Column, words: ListWords) -> str:
    """A column's heading in an export (risks say they are in percent)."""
    word = words.plain(column.word)
    if column.key in (RISK, PREVIOUS_RISK):
        return f"{word}（%）" if words.lang.startswith("zh") else f"{word} (%)"
    return word


def header_lines(
    figures: ListFigures,
    words: ListWords,
    *,
    level: str,
    n_villages: int,
    listing: ListingContext | None,
    as_of: str,
    generated: str,
) -> list[str]:
    """What a list page states above its list: flagged against capacity, the expected number
    falling below the line, the rule's overlap, changes since the previous run, the policy,
    and the data's date against the page's."""
    lines = [words("h_flagged", n_scored=figures.n_scored, n_flagged=figures.n_flagged)]
    policy = listing.policy if listing else None
    places = (
        capacity(policy, level, n_villages, listing.n_scored_run) if policy and listing else None
    )
    if places is not None:
        lines[0] += words("h_capacity", capacity=places)
    share = figures.expected_flagged / figures.expected_all if figures.expected_all else math.nan
    lines.append(
        words(
            "h_expected",
            flagged=words.number(figures.expected_flagged),
            all=words.number(figures.expected_all),
            share="—" if math.isnan(share) else f"{100 * share:.0f}%",
        )
    )
    if figures.rule_known:
        lines.append(
            words(
                "h_rule",
                n_rule=figures.n_both + figures.n_rule_only,
                both=figures.n_both,
                rule_only=figures.n_rule_only,
                expected=words.number(figures.expected_rule_only),
            )
        )
    if figures.previous_as_of:
        lines.append(
            words(
                "h_changes",
                previous=figures.previous_as_of,
                n_newly=figures.n_newly,
                n_doubled=figures.n_doubled,
            )
        )
    else:
        lines.append(words("h_first_run"))
    if policy and listing:
        text = words("h_policy", text=policy_text(policy, listing.n_scored_run, words.lang))
        lines.append(text + (words("h_policy_differs") if listing.config_differs else ""))
    dates = words("h_dates", as_of=as_of)
    if figures.last_round_year:
        dates += words("h_last_round", year=figures.last_round_year)
    parts = [dates]
    if listing and listing.scored_at:
        parts.append(words("h_scored_at", scored_at=listing.scored_at))
    if generated:
        parts.append(words("h_generated", generated=generated))
    lines.append(" · ".join(parts))
    return lines


def list_page_context(
    scored: pd.DataFrame,
    common: dict[str, Any],
    *,
    level: str,
    listing: ListingContext | None,
    sheets: list[dict[str, Any]],
    page_path: str,
    exports: dict[str, str],
    as_of: str,
) -> dict[str, Any]:
    """What a list template at ``page_path`` needs for the households ``scored`` of a village
    or county: the words ``W``, the header lines, drift alerts, the columns and the rows
    flagged by the model and by the rule alone (each linked to its sheet among ``sheets``,
    those with a ``path``), and links to the whole list's files (``exports``: ext -> link).
    The sheets' first reasons stand in for the main reasons when ``scored`` lacks them."""
    lang = common["lang"]
    words = list_words(lang)
    figures = list_figures(scored)
    frame = working_list(scored)
    links = {sheet["id"]: href(sheet["path"], page_path) for sheet in sheets if "path" in sheet}
    first_reasons = {sheet["id"]: sheet.get("first_reason", "") for sheet in sheets}
    if first_reasons and MAIN_REASON not in scored:
        frame[MAIN_REASON] = frame[HOUSEHOLD_ID].map(first_reasons).fillna("")
    columns = list_columns(
        level=level, history=bool(figures.previous_as_of), monitoring=MONITORING in frame
    )
    rows = page_rows(frame, columns, words, lambda record: links.get(str(record[HOUSEHOLD_ID])))
    villages = sorted({row["village"] for row in rows})
    return {
        "W": words,
        "figures": figures,
        "header": header_lines(
            figures,
            words,
            level=level,
            n_villages=scored[VILLAGE].nunique(),
            listing=listing,
            as_of=as_of,
            generated=common.get("generated", ""),
        ),
        "drift": list(listing.drift_warnings) if listing else [],
        "columns": [
            {
                "lines": words.lines(c.word),
                "label": export_label(c, words),
                "kind": c.kind,
                "shows": c.shows,
            }
            for c in columns
        ],
        "model_rows": [row for row in rows if row["who"] != RULE_ONLY],
        "rule_rows": [row for row in rows if row["who"] == RULE_ONLY],
        "village_names": villages if level == "county" else [],
        "exports": exports,
    }
