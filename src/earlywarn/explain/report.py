"""Reports for people: a one-page sheet per flagged household for its caseworker, a list per
village and a summary per county for officials, as self-contained HTML (styles and charts
inline, no network) rendered from Jinja templates with autoescaping.

Pure: :func:`build_reports` takes the scores frame of the data contract and the tables
(``Tables.personal`` for the head's name and ID, masked) and returns the pages as strings
keyed by relative path; ``jobs.report.run_reports`` writes them (and PDFs). Reason texts are
re-rendered from their codes in the report's language with the household's figures as of the
scores' date; the current rule's triggers come from :func:`earlywarn.model.rule.rule_flags`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from markupsafe import Markup

from earlywarn.data.columns import (
    AMOUNT,
    AS_OF,
    COST,
    COUNTY,
    DATE,
    END_DATE,
    EVENT_TYPE,
    FLAGGED,
    HEAD_NAME,
    HOUSEHOLD_ID,
    ID_NUMBER,
    LINE,
    MEASURE,
    MODEL_VERSION,
    REASONS,
    RISK,
    START_DATE,
    VILLAGE,
    YEAR,
)
from earlywarn.data.schema import Problem
from earlywarn.data.tables import Tables
from earlywarn.errors import ConfigError, SchemaError
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import EVENT_KINDS, household_facts
from earlywarn.explain.reasons import RULE_PREFIX, Reason, render_text, rule_reasons
from earlywarn.features.labels import NET_INCOME_PER_CAPITA, poverty_by_year
from earlywarn.model.rule import rule_flags
from earlywarn.resources import templates

log = logging.getLogger(__name__)

RANK_IN_VILLAGE = "rank_in_village"
REQUIRED_SCORE_COLUMNS = (HOUSEHOLD_ID, AS_OF, RISK, FLAGGED, REASONS, MODEL_VERSION)
CJK_FONTS = (
    '"WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
)
TICK = 'style="font-size:10px" fill="#444"'
NOTE = 'style="font-size:12px" fill="#888"'
EVENT_COLOURS = {"health": "#c0392b", "work": "#d68910", "farm": "#1e8449", "other": "#7f8c8d"}


@dataclass(frozen=True)
class ReportSet:
    """Rendered pages keyed by relative path (POSIX): ``index.html``, per county
    ``<county>/summary.html``, per village ``<county>/<village>/index.html`` and one page per
    flagged household ``<county>/<village>/<household>.html``. ``booklets`` groups pages that
    belong in one PDF (a village's list and its households' sheets; a county's summary)."""

    pages: dict[str, str]
    booklets: dict[str, list[str]] = field(default_factory=dict)
    n_households: int = 0


# --- small pieces -------------------------------------------------------------------------


def mask_id(id_number: Any) -> str:
    """First 4 and last 4 characters of an ID, the rest as ``*``; too short: all ``*``."""
    if id_number is None or (not isinstance(id_number, str) and pd.isna(id_number)):
        return ""
    text = str(id_number).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def slug(name: Any) -> str:
    """A file-name-safe, unique form of a name: word characters kept, a short hash added."""
    text = str(name)
    stem = re.sub(r"[^\w-]+", "-", text, flags=re.UNICODE).strip("-_")[:40] or "x"
    return f"{stem}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def href(target: str, start: str) -> str:
    """Relative, percent-encoded link from page ``start`` to page ``target``."""
    target_parts = PurePosixPath(target).parts
    start_dir = PurePosixPath(start).parent.parts
    common = 0
    while (
        common < len(start_dir)
        and common < len(target_parts) - 1
        and start_dir[common] == target_parts[common]
    ):
        common += 1
    parts = [".."] * (len(start_dir) - common) + list(target_parts[common:])
    return "/".join(quote(part) for part in parts)


def _label(glossary: Glossary, key: str, lang: str, **values: Any) -> str:
    text = glossary.label(key, lang)
    return text.format(**values) if values else text


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _date(value: Any, lang: str) -> str:
    if value is None or pd.isna(value):
        return ""
    day = pd.Timestamp(value)
    return (
        f"{day.year}年{day.month}月{day.day}日"
        if lang.startswith("zh")
        else (day.strftime("%Y-%m-%d"))
    )


def _money(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):,.0f}"


# --- charts (inline SVG, every text escaped) ----------------------------------------------


def income_chart_svg(
    history: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    glossary: Glossary,
    lang: str,
    width: int = 660,
    height: int = 212,
) -> Markup:
    """Net income per person (dots and line, gaps where a round is missing or unknown)
    against the monitoring line per year, with the household's shocks on a timeline below
    (the legend is HTML in the template, see :func:`chart_legend`).

    ``history``: year, net_income_per_capita, line; ``events``: date, event_type.
    """
    left, right, top, plot_h, strip = 62, 16, 18, 130, 34
    years = sorted(set(history[YEAR].astype(int))) or [as_of.year - 1]
    first = min([*years, *(pd.to_datetime(events[DATE]).dt.year.tolist() or [])])
    first, last = min(first, as_of.year - 1), as_of.year
    span = max(last + 1 - first, 1)

    def x_of(position: float) -> float:
        return left + (position - first) / span * (width - left - right)

    values = pd.concat([history[NET_INCOME_PER_CAPITA], history[LINE]]).dropna()
    high = float(max(values.max() if len(values) else 1.0, 1.0)) * 1.12
    low = float(min(values.min() if len(values) else 0.0, 0.0))

    def y_of(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{plot_h}" '
        'fill="#fbfbfb" stroke="#ccc"/>',
    ]
    for tick in _ticks(low, high):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {TICK}>{tick:,.0f}</text>'
        )
    for year in range(first, last + 1):
        parts.append(
            f'<text x="{x_of(year + 0.5):.1f}" y="{top + plot_h + 13}" '
            f'text-anchor="middle" {TICK}>{year}</text>'
        )
    by_year = history.set_index(YEAR).sort_index()
    line_points = [
        (x_of(y + 0.1), x_of(y + 0.9), y_of(v)) for y, v in by_year[LINE].items() if pd.notna(v)
    ]
    for x1, x2, y in line_points:
        parts.append(
            f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#c0392b" stroke-width="2" stroke-dasharray="5 3"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for year in range(first, last + 1):
        value = by_year[NET_INCOME_PER_CAPITA].get(year, np.nan)
        if pd.isna(value):
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x_of(year + 0.5):.1f},{y_of(float(value)):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f4e99" stroke-width="2"/>'
        )
        for point in points:
            cx, cy = point.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="#1f4e99"/>')
    if not segments:
        parts.append(
            f'<text x="{(left + width - right) / 2:.0f}" y="{top + plot_h / 2:.0f}" '
            f'text-anchor="middle" {NOTE}>'
            f"{escape(_label(glossary, 'chart_no_income', lang))}</text>"
        )
    strip_y = top + plot_h + 22
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{strip_y + strip / 2}" '
        f'y2="{strip_y + strip / 2}" stroke="#999"/>'
    )
    as_of_x = x_of(as_of.year + (as_of.day_of_year - 1) / 366)
    parts.append(
        f'<line x1="{as_of_x:.1f}" x2="{as_of_x:.1f}" y1="{top}" '
        f'y2="{strip_y + strip}" stroke="#555" stroke-dasharray="2 2"/>'
    )
    parts.append(
        f'<text x="{as_of_x - 3:.1f}" y="{top - 5}" text-anchor="end" {TICK}>'
        f"{escape(_label(glossary, 'as_of', lang))} {as_of.date()}</text>"
    )
    kind_of = {event: kind for kind, types in EVENT_KINDS.items() for event in types}
    for date, event_type in zip(pd.to_datetime(events[DATE]), events[EVENT_TYPE], strict=True):
        kind = kind_of.get(str(event_type), "other")
        at = x_of(date.year + (date.day_of_year - 1) / 366)
        name = (glossary.events.get(str(event_type)) or glossary.events["other"])[lang]
        title = f"{date.date()} {name}"
        parts.append(
            f'<g><title>{escape(title)}</title><path d="M{at:.1f},{strip_y + 6} '
            f'l6,10 l-6,10 l-6,-10 z" fill="{EVENT_COLOURS[kind]}" opacity="0.85"/></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def chart_legend(glossary: Glossary, lang: str) -> list[dict[str, str]]:
    """Legend entries of :func:`income_chart_svg`: label, colour and marker shape."""
    entries = [
        {"label": _label(glossary, "chart_income", lang), "colour": "#1f4e99", "shape": "line"},
        {"label": _label(glossary, "chart_line", lang), "colour": "#c0392b", "shape": "dash"},
    ]
    entries += [
        {"label": _label(glossary, f"events_{kind}", lang), "colour": colour, "shape": "diamond"}
        for kind, colour in EVENT_COLOURS.items()
    ]
    return entries


def _ticks(low: float, high: float) -> list[float]:
    span = max(high - low, 1.0)
    step = 10 ** np.floor(np.log10(span / 4))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= 5:
            step *= factor
            break
    start = np.ceil(low / step) * step
    return [float(v) for v in np.arange(start, high, step)]


def bar_chart_svg(
    counts: Sequence[tuple[str, int]], *, width: int = 560, colour: str = "#1f4e99"
) -> Markup:
    """Horizontal bars, one per (label, count), labels escaped."""
    bar_h, gap, label_w = 18, 6, 200
    height = max(len(counts), 1) * (bar_h + gap) + 8
    most = max([count for _, count in counts] or [1]) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">'
    ]
    for i, (label, count) in enumerate(counts):
        y = 4 + i * (bar_h + gap)
        length = (width - label_w - 50) * count / most
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" {TICK}>'
            f"{escape(str(label)[:28])}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 13}" {TICK}>{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --- the pages ----------------------------------------------------------------------------


def check_scores(
    scores: pd.DataFrame,
    source: str = "the scores file",
    *,
    recorded: Mapping[str, str] | None = None,
) -> None:
    """The scores frame has the data contract's columns and values, else a SchemaError naming
    every problem (column, rows, rule): ids present and unique per date, dates, risks from 0
    to 1, flags, lists of reasons and model versions. ``recorded``: the as_of and model_version
    the file's metadata records, which every row must carry."""
    missing = [name for name in REQUIRED_SCORE_COLUMNS if name not in scores.columns]
    if missing:
        rule = f"missing column(s) {', '.join(missing)}"
        hint = f"a scores file needs {', '.join(REQUIRED_SCORE_COLUMNS)}"
        raise SchemaError(_scores_problems([Problem("scores", rule, hint=hint)], source))
    scores = scores.reset_index(drop=True)
    as_of = pd.to_datetime(scores[AS_OF], errors="coerce", format="mixed")
    if as_of.dt.tz is not None:
        as_of = as_of.dt.tz_localize(None)
    risk = pd.to_numeric(scores[RISK], errors="coerce")
    no_id = _blank(scores[HOUSEHOLD_ID])
    keys = pd.DataFrame({HOUSEHOLD_ID: scores[HOUSEHOLD_ID].astype("string"), AS_OF: as_of})
    # (column, rule, rows breaking it, whether to show the values found)
    checks: list[tuple[str | None, str, pd.Series, bool]] = [
        (HOUSEHOLD_ID, "must not be empty", no_id, False),
        (AS_OF, "must be a date", as_of.isna(), True),
        (
            None,
            f"({HOUSEHOLD_ID}, {AS_OF}) duplicated",
            keys.duplicated(keep=False) & ~no_id,
            False,
        ),
        (RISK, "must be a probability from 0 to 1", ~risk.between(0.0, 1.0), True),
        (FLAGGED, "must be true or false", ~scores[FLAGGED].map(_is_flag).astype(bool), True),
        (
            REASONS,
            "must be a list of reasons (code, text, contribution)",
            ~scores[REASONS].map(_is_list).astype(bool),
            False,
        ),
        (MODEL_VERSION, "must not be empty", _blank(scores[MODEL_VERSION]), False),
    ]
    recorded = recorded or {}
    day = pd.to_datetime(pd.Series([recorded.get(AS_OF)]), errors="coerce").iloc[0]
    if AS_OF in recorded and pd.isna(day):
        rule = f"the file records as_of {recorded[AS_OF]!r}, which is not a date (YYYY-MM-DD)"
        raise SchemaError(_scores_problems([Problem("scores", rule)], source))
    if AS_OF in recorded:
        day = day.normalize()
        checks.append(
            (
                AS_OF,
                f"must be {day.date()}, the date the file records",
                as_of.notna() & (as_of.dt.normalize() != day),
                True,
            )
        )
    if MODEL_VERSION in recorded:
        other = ~_blank(scores[MODEL_VERSION]) & (
            scores[MODEL_VERSION].astype("string") != recorded[MODEL_VERSION]
        )
        checks.append(
            (
                MODEL_VERSION,
                f"must be {recorded[MODEL_VERSION]!r}, the model the file records",
                other.astype(bool),
                True,
            )
        )
    problems = [
        Problem(
            "scores",
            rule,
            column,
            tuple(int(i) + 1 for i in np.flatnonzero(broken.to_numpy(dtype=bool))),
            _shown(scores.loc[broken, column]) if show and column else "",
        )
        for column, rule, broken, show in checks
        if broken.any()
    ]
    if problems:
        raise SchemaError(_scores_problems(problems, source))


def _scores_problems(problems: list[Problem], source: str) -> str:
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{len(problems)} {noun} in {source} (nothing was written)", *map(str, problems)]
    return "\n  ".join(lines)


def _value_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return repr(value) if isinstance(value, str) else str(value)


def _blank(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.isna() | (text == "")


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) or value is None or value is pd.NA


def _is_list(value: Any) -> bool:
    return value is None or isinstance(value, list | tuple | np.ndarray)


def _shown(values: pd.Series) -> str:
    """A few of the values found, as written (a risk, a flag, a date: never personal data)."""
    distinct = list(dict.fromkeys(map(_value_text, values)))
    return ", ".join(distinct[:3]) + (", ..." if len(distinct) > 3 else "")


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
    ranks = out.groupby([AS_OF, COUNTY, VILLAGE])[RISK].rank(method="min", ascending=False)
    if RANK_IN_VILLAGE not in out.columns:
        out[RANK_IN_VILLAGE] = ranks.astype("int64")
    out["n_in_village"] = out.groupby([AS_OF, COUNTY, VILLAGE])[RISK].transform("size")
    out[FLAGGED] = out[FLAGGED].astype("boolean").fillna(False).astype(bool)
    return out


def _model_reasons(
    stored: Any, facts: Mapping[str, Any], glossary: Glossary, lang: str
) -> list[Reason]:
    """The model's reasons of the scores file, texts re-rendered in ``lang``."""
    reasons = []
    for item in _as_list(stored):
        code = str(item.get("code", ""))
        if not code or code.startswith(RULE_PREFIX):
            continue
        entry = glossary.groups.get(code)
        text = (
            render_text(entry["templates"][lang], facts, lang, glossary)
            if entry
            else str(item.get("text", code))
        )
        contribution = item.get("contribution")
        reasons.append(
            Reason(
                code,
                text,
                None if contribution is None or pd.isna(contribution) else float(contribution),
            )
        )
    return reasons


def _as_list(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and pd.isna(value):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def build_reports(
    scores: pd.DataFrame,
    tables: Tables,
    *,
    glossary: Glossary,
    lang: str = "zh-CN",
    generated: str = "",
) -> ReportSet:
    """Every page for the flagged households of ``scores`` (see :class:`ReportSet`)."""
    check_scores(scores)
    if lang not in glossary.languages:
        raise ConfigError(
            f"language {lang!r} is not in the reason glossary ({', '.join(glossary.languages)})"
        )
    scored = _with_places(scores, tables)
    flagged = scored[scored[FLAGGED]].sort_values(
        [COUNTY, VILLAGE, RISK], ascending=[True, True, False], kind="stable"
    )
    env = templates()
    common = {
        "lang": lang,
        "fonts": Markup(CJK_FONTS),
        "generated": generated,
        "L": lambda key, **values: _label(glossary, key, lang, **values),
    }
    pages: dict[str, str] = {}
    booklets: dict[str, list[str]] = {}
    households: list[dict[str, Any]] = []
    for as_of, group in flagged.groupby(AS_OF, sort=True):
        households += _household_pages(group, tables, pd.Timestamp(as_of), glossary, lang)
    county_rows = []
    for county, in_county in scored.groupby(COUNTY, sort=True):
        county_dir = slug(county)
        summary_path = f"{county_dir}/summary.html"
        village_rows = []
        for village, in_village in in_county.groupby(VILLAGE, sort=True):
            index_path = f"{county_dir}/{slug(village)}/index.html"
            mine = [h for h in households if h["county"] == county and h["village"] == village]
            for household in mine:
                household["path"] = f"{county_dir}/{slug(village)}/{slug(household['id'])}.html"
            rows = [{**h, "link": href(h["path"], index_path)} for h in mine]
            pages[index_path] = env.get_template("village_index.html.j2").render(
                **common,
                county=county,
                village=village,
                rows=rows,
                n_scored=len(in_village),
                summary=href(summary_path, index_path),
                as_of=_dates(in_village, lang),
                model_version=_versions(in_village),
            )
            for household in mine:
                pages[household["path"]] = env.get_template("household.html.j2").render(
                    **common, h=household, back=href(index_path, household["path"])
                )
            booklets[f"{county_dir}/{slug(village)}/village.pdf"] = [
                index_path,
                *(h["path"] for h in mine),
            ]
            village_rows.append(
                {
                    "village": village,
                    "n_scored": len(in_village),
                    "n_flagged": len(mine),
                    "share": _pct(len(mine) / max(len(in_village), 1)),
                    "link": href(index_path, summary_path),
                    "path": index_path,
                }
            )
        in_county_flagged = [h for h in households if h["county"] == county]
        by_reason = pd.Series(
            [h["first_group"] for h in in_county_flagged], dtype="object"
        ).value_counts()
        reason_counts = [
            (glossary.group_name(code, lang) if code else "—", int(n))
            for code, n in by_reason.items()
        ]
        by_any_reason = pd.Series(
            [code for h in in_county_flagged for code in h["groups"]], dtype="object"
        ).value_counts()
        any_reason_counts = [
            (glossary.group_name(code, lang), int(n)) for code, n in by_any_reason.items()
        ]
        pages[summary_path] = env.get_template("county_summary.html.j2").render(
            **common,
            county=county,
            villages=village_rows,
            reasons=reason_counts,
            n_scored=len(in_county),
            n_flagged=len(in_county_flagged),
            village_chart=bar_chart_svg([(r["village"], r["n_flagged"]) for r in village_rows]),
            reason_chart=bar_chart_svg(reason_counts, colour="#c0392b"),
            any_reason_chart=(
                bar_chart_svg(any_reason_counts, colour="#e67e22") if any_reason_counts else ""
            ),
            as_of=_dates(in_county, lang),
            model_version=_versions(in_county),
            index=href("index.html", summary_path),
        )
        booklets[f"{county_dir}/summary.pdf"] = [summary_path]
        county_rows.append(
            {
                "county": county,
                "n_scored": len(in_county),
                "n_flagged": len(in_county_flagged),
                "link": href(summary_path, "index.html"),
                "villages": [
                    {
                        "village": r["village"],
                        "n_flagged": r["n_flagged"],
                        "link": href(r["path"], "index.html"),
                    }
                    for r in village_rows
                ],
            }
        )
    pages["index.html"] = env.get_template("index.html.j2").render(
        **common, counties=county_rows, as_of=_dates(scored, lang), model_version=_versions(scored)
    )
    log.info("rendered %d pages for %d flagged households", len(pages), len(households))
    return ReportSet(pages=pages, booklets=booklets, n_households=len(households))


def _dates(scores: pd.DataFrame, lang: str) -> str:
    return ", ".join(_date(d, lang) for d in sorted(scores[AS_OF].dropna().unique()))


def _versions(scores: pd.DataFrame) -> str:
    return ", ".join(sorted(map(str, scores[MODEL_VERSION].dropna().unique())))


def _household_pages(
    flagged: pd.DataFrame, tables: Tables, as_of: pd.Timestamp, glossary: Glossary, lang: str
) -> list[dict[str, Any]]:
    """The context of each flagged household's sheet (scores of one as-of date)."""
    ids = pd.Index(flagged[HOUSEHOLD_ID].astype(str), name=HOUSEHOLD_ID)
    known = ids[ids.isin(tables.households[HOUSEHOLD_ID].astype(str))]
    if len(known) < len(ids):
        log.warning(
            "%d flagged households are not in the households table; their sheets show no figures",
            len(ids) - len(known),
        )
    facts = household_facts(tables, as_of, known).reindex(ids)
    triggers = rule_flags(tables, as_of, known).reindex(ids)
    poverty = poverty_by_year(_closed(tables, as_of))
    poverty = poverty[poverty[HOUSEHOLD_ID].isin(ids)]
    history_of = dict(tuple(poverty.groupby(HOUSEHOLD_ID)))
    events = tables.events[(tables.events[DATE] < as_of) & tables.events[HOUSEHOLD_ID].isin(ids)]
    events_of = dict(tuple(events.groupby(HOUSEHOLD_ID)))
    assistance = tables.assistance
    running = assistance[
        (assistance[START_DATE] < as_of)
        & (assistance[END_DATE].isna() | (assistance[END_DATE] >= as_of))
        & assistance[HOUSEHOLD_ID].isin(ids)
    ]
    running_of = dict(tuple(running.groupby(HOUSEHOLD_ID)))
    personal = (
        tables.personal
        if len(tables.personal.columns)
        else pd.DataFrame(index=pd.Index([], name=HOUSEHOLD_ID))
    )
    empty_history = pd.DataFrame(
        {
            YEAR: pd.Series(dtype="int64"),
            NET_INCOME_PER_CAPITA: pd.Series(dtype="float64"),
            LINE: pd.Series(dtype="float64"),
        }
    )
    empty_events = pd.DataFrame(
        {
            DATE: pd.Series(dtype="datetime64[ns]"),
            EVENT_TYPE: pd.Series(dtype="str"),
            COST: pd.Series(dtype="float64"),
        }
    )
    records = facts.to_dict("index")
    pages = []
    for row in flagged.itertuples(index=False):
        household_id = str(getattr(row, HOUSEHOLD_ID))
        fact = records.get(household_id, {})
        model = _model_reasons(getattr(row, REASONS), fact, glossary, lang)
        trigger = triggers.loc[household_id]
        rules = (
            rule_reasons(trigger.to_dict(), glossary, lang, target_year=as_of.year)
            if pd.notna(trigger.get("rule_flagged"))
            else []
        )
        running_now = running_of.get(household_id, assistance.iloc[:0])
        running_codes = set(running_now[MEASURE].astype(str))
        suggested = _suggested(model, running_codes, glossary, lang)
        name = personal[HEAD_NAME].get(household_id) if HEAD_NAME in personal else None
        id_number = personal[ID_NUMBER].get(household_id) if ID_NUMBER in personal else None
        risk = float(getattr(row, RISK))
        pages.append(
            {
                "id": household_id,
                "county": str(getattr(row, COUNTY)),
                "village": str(getattr(row, VILLAGE)),
                "name": "" if name is None or pd.isna(name) else str(name),
                "masked_id": mask_id(id_number),
                "risk": _pct(risk),
                "risk_pct": f"{100 * risk:.0f}",
                "rank": _label(
                    glossary,
                    "rank_in_village",
                    lang,
                    rank=int(getattr(row, RANK_IN_VILLAGE)),
                    n=int(row.n_in_village),
                ),
                "reasons": [
                    {
                        "name": glossary.group_name(r.code, lang),
                        "text": r.text,
                        "points": (
                            ""
                            if r.contribution is None
                            else _label(
                                glossary, "points", lang, points=f"{100 * r.contribution:.1f}"
                            )
                        ),
                    }
                    for r in model
                ],
                "rules": [r.text for r in rules],
                "first_group": model[0].code if model else "",
                "groups": list(dict.fromkeys(r.code for r in model)),
                "first_reason": (
                    f"{glossary.group_name(model[0].code, lang)}: {model[0].text}" if model else ""
                ),
                "rule_flagged": bool(trigger.get("rule_flagged"))
                if pd.notna(trigger.get("rule_flagged"))
                else False,
                "legend": chart_legend(glossary, lang),
                "chart": income_chart_svg(
                    history_of.get(household_id, empty_history),
                    events_of.get(household_id, empty_events),
                    as_of=as_of,
                    glossary=glossary,
                    lang=lang,
                ),
                "assistance": [
                    {
                        "measure": glossary.measures.get(m, glossary.measures["other"])[lang],
                        "since": _date(s, lang),
                        "amount": _money(a),
                    }
                    for m, s, a in zip(
                        running_now[MEASURE].astype(str),
                        running_now[START_DATE],
                        running_now[AMOUNT],
                        strict=True,
                    )
                ],
                "suggested": suggested,
                "events": _event_list(events_of.get(household_id, empty_events), glossary, lang),
                "as_of": _date(as_of, lang),
                "target_year": as_of.year,
                "model_version": str(getattr(row, MODEL_VERSION)),
            }
        )
    return pages


def _event_list(events: pd.DataFrame, glossary: Glossary, lang: str, limit: int = 8) -> list[str]:
    """The household's latest shocks, newest first: date, type and known cost."""
    latest = events.sort_values(DATE, ascending=False, kind="stable").head(limit)
    items = []
    for date, event_type, cost in zip(
        latest[DATE],
        latest[EVENT_TYPE],
        latest[COST] if COST in latest else [np.nan] * len(latest),
        strict=True,
    ):
        name = glossary.events.get(str(event_type), glossary.events["other"])[lang]
        money = f" ({_money(cost)} {_label(glossary, 'yuan', lang)})" if pd.notna(cost) else ""
        items.append(f"{_date(date, lang)} {name}{money}")
    return items


def _closed(tables: Tables, as_of: pd.Timestamp) -> Tables:
    years = tables.household_years
    return replace(tables, household_years=years[years[YEAR] < as_of.year])


def _suggested(
    reasons: list[Reason], running: set[str], glossary: Glossary, lang: str
) -> list[dict[str, Any]]:
    """Each measure the mechanism offers for the household's reasons, once, with the reasons
    it answers, whether the household already receives it and the caseworker's advice."""
    by_measure: dict[str, dict[str, Any]] = {}
    seen_advice: set[str] = set()
    for reason in reasons:
        for measure in glossary.measures_for(reason.code):
            entry = by_measure.setdefault(
                measure,
                {
                    "name": glossary.measures.get(measure, glossary.measures["other"])[lang],
                    "running": measure in running,
                    "reasons": [],
                    "advice": [],
                },
            )
            entry["reasons"].append(glossary.group_name(reason.code, lang))
            advice = glossary.advice(reason.code, lang)
            if advice not in seen_advice:
                seen_advice.add(advice)
                entry["advice"].append(advice)
    return list(by_measure.values())
