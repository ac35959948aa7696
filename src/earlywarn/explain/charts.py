"""Charts of the report pages as inline SVG (no files, no network), every text escaped: a
household's income against the poverty line with its shocks, and bars of counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
from markupsafe import Markup

from earlywarn.data.columns import DATE, EVENT_TYPE, LINE, YEAR
from earlywarn.explain.formatting import day
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import EVENT_KINDS
from earlywarn.features.labels import NET_INCOME_PER_CAPITA

TICK = 'style="font-size:10px" fill="#444"'
NOTE = 'style="font-size:12px" fill="#888"'
INCOME_COLOUR = "#1f4e99"
LINE_COLOUR = "#c0392b"
EVENT_COLOURS = {"health": "#c0392b", "work": "#d68910", "farm": "#1e8449", "other": "#7f8c8d"}
EVENT_SHAPES = {"health": "circle", "work": "square", "farm": "triangle", "other": "diamond"}
"""Each kind of shock has its own marker shape (and colour), so a grey print still tells
them apart."""
MARK = 9
"""A shock marker's size in pixels; markers closer than this across share no spot: the later
one moves up a row (the strip has three rows, then markers overlap)."""
STRIP_ROWS = 3


def marker(shape: str, x: float, y: float, colour: str, size: float = MARK) -> str:
    """An SVG marker centred on (x, y): circle, square, triangle or diamond."""
    r = size / 2
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>'
    if shape == "square":
        return (
            f'<rect x="{x - r * 0.85:.1f}" y="{y - r * 0.85:.1f}" width="{1.7 * r:.1f}" '
            f'height="{1.7 * r:.1f}" fill="{colour}"/>'
        )
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f},{y - r:.1f} L{x + r:.1f},{y + r * 0.8:.1f} '
            f'L{x - r:.1f},{y + r * 0.8:.1f} Z" fill="{colour}"/>'
        )
    return (
        f'<path d="M{x:.1f},{y - r:.1f} L{x + r:.1f},{y:.1f} L{x:.1f},{y + r:.1f} '
        f'L{x - r:.1f},{y:.1f} Z" fill="{colour}"/>'
    )


@dataclass(frozen=True)
class _Plot:
    """Where the income chart draws: years ``first``..``last`` across, yuan ``low``..``high``
    up, the plot area's margins in pixels and the shock strip below it."""

    first: int
    last: int
    low: float
    high: float
    width: int
    left: int = 62
    right: int = 16
    top: int = 18
    plot_h: int = 130
    strip: int = 34

    def x_of(self, position: float) -> float:
        span = max(self.last + 1 - self.first, 1)
        return self.left + (position - self.first) / span * (self.width - self.left - self.right)

    def y_of(self, value: float) -> float:
        return self.top + (self.high - value) / (self.high - self.low) * self.plot_h

    def x_of_day(self, day: pd.Timestamp) -> float:
        return self.x_of(day.year + (day.day_of_year - 1) / 366)


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
    years = sorted(set(history[YEAR].astype(int))) or [as_of.year - 1]
    first = min([*years, *(pd.to_datetime(events[DATE]).dt.year.tolist() or [])])
    values = pd.concat([history[NET_INCOME_PER_CAPITA], history[LINE]]).dropna()
    plot = _Plot(
        first=min(first, as_of.year - 1),
        last=as_of.year,
        low=float(min(values.min() if len(values) else 0.0, 0.0)),
        high=float(max(values.max() if len(values) else 1.0, 1.0)) * 1.12,
        width=width,
    )
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">',
        f'<rect x="{plot.left}" y="{plot.top}" width="{width - plot.left - plot.right}" '
        f'height="{plot.plot_h}" fill="#fbfbfb" stroke="#ccc"/>',
        *_axes(plot),
        *_income_and_line(plot, history.set_index(YEAR).sort_index(), glossary, lang),
        *_shock_strip(plot, events, as_of, glossary, lang),
        "</svg>",
    ]
    return Markup("".join(parts))


def _axes(plot: _Plot) -> list[str]:
    """Grid lines with yuan on the left, and the years along the bottom."""
    parts = []
    for tick in _ticks(plot.low, plot.high):
        y = plot.y_of(tick)
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.width - plot.right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
        parts.append(
            f'<text x="{plot.left - 4}" y="{y + 4:.1f}" text-anchor="end" {TICK}>'
            f"{round(tick):,}</text>"
        )
    for year in range(plot.first, plot.last + 1):
        parts.append(
            f'<text x="{plot.x_of(year + 0.5):.1f}" y="{plot.top + plot.plot_h + 13}" '
            f'text-anchor="middle" {TICK}>{year}</text>'
        )
    return parts


def _income_and_line(
    plot: _Plot, by_year: pd.DataFrame, glossary: Glossary, lang: str
) -> list[str]:
    """The line per year (dashed) and the income (dots joined within unbroken runs of years);
    a note instead when no income is known."""
    parts = []
    for year, value in by_year[LINE].items():
        if pd.notna(value):
            x1, x2, y = plot.x_of(year + 0.1), plot.x_of(year + 0.9), plot.y_of(value)
            parts.append(
                f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{LINE_COLOUR}" stroke-width="2" stroke-dasharray="5 3"/>'
            )
    segments: list[list[str]] = [[]]
    for year in range(plot.first, plot.last + 1):
        value = by_year[NET_INCOME_PER_CAPITA].get(year, np.nan)
        if pd.isna(value):
            segments.append([])
        else:
            segments[-1].append(f"{plot.x_of(year + 0.5):.1f},{plot.y_of(float(value)):.1f}")
    segments = [points for points in segments if points]
    for points in segments:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{INCOME_COLOUR}" '
            'stroke-width="2"/>'
        )
        for point in points:
            cx, cy = point.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="{INCOME_COLOUR}"/>')
    if not segments:
        parts.append(
            f'<text x="{(plot.left + plot.width - plot.right) / 2:.0f}" '
            f'y="{plot.top + plot.plot_h / 2:.0f}" text-anchor="middle" {NOTE}>'
            f"{escape(glossary.label('chart_no_income', lang))}</text>"
        )
    return parts


def _shock_strip(
    plot: _Plot, events: pd.DataFrame, as_of: pd.Timestamp, glossary: Glossary, lang: str
) -> list[str]:
    """The timeline below the plot: a marker per shock, its shape and colour by kind, moved
    up a row where it would cover another, and ``as_of``."""
    strip_y = plot.top + plot.plot_h + 22
    middle = strip_y + plot.strip / 2
    as_of_x = plot.x_of_day(as_of)
    parts = [
        f'<line x1="{plot.left}" x2="{plot.width - plot.right}" y1="{middle}" '
        f'y2="{middle}" stroke="#999"/>',
        f'<line x1="{as_of_x:.1f}" x2="{as_of_x:.1f}" y1="{plot.top}" '
        f'y2="{strip_y + plot.strip}" stroke="#555" stroke-dasharray="2 2"/>',
        f'<text x="{as_of_x - 3:.1f}" y="{plot.top - 5}" text-anchor="end" {TICK}>'
        f"{escape(glossary.label('as_of', lang))} {escape(day(as_of, lang))}</text>",
    ]
    kind_of = {event: kind for kind, types in EVENT_KINDS.items() for event in types}
    taken: list[list[float]] = [[] for _ in range(STRIP_ROWS)]
    dated = sorted(
        zip(pd.to_datetime(events[DATE]), events[EVENT_TYPE].astype(str), strict=True),
        key=lambda item: item[0],
    )
    row_h = plot.strip / STRIP_ROWS
    for date, event_type in dated:
        kind = kind_of.get(event_type, "other")
        at = plot.x_of_day(date)
        row = next(
            (n for n, xs in enumerate(taken) if all(abs(at - x) >= MARK + 1 for x in xs)),
            STRIP_ROWS - 1,
        )
        taken[row].append(at)
        y = strip_y + plot.strip - row_h * (row + 0.5)
        title = f"{date.date()} {glossary.event_name(event_type, lang)}"
        parts.append(
            f"<g><title>{escape(title)}</title>"
            f"{marker(EVENT_SHAPES[kind], at, y, EVENT_COLOURS[kind])}</g>"
        )
    return parts


def chart_legend(glossary: Glossary, lang: str) -> list[dict[str, str]]:
    """Legend entries of :func:`income_chart_svg`: label, colour, shape and ``icon`` (a small
    inline SVG drawing the same mark)."""
    entries = [
        {
            "label": glossary.label("chart_income", lang),
            "colour": INCOME_COLOUR,
            "shape": "line",
            "icon": _icon(
                f'<line x1="0" x2="18" y1="6" y2="6" stroke="{INCOME_COLOUR}" stroke-width="2"/>'
                f'<circle cx="9" cy="6" r="3" fill="{INCOME_COLOUR}"/>'
            ),
        },
        {
            "label": glossary.label("chart_line", lang),
            "colour": LINE_COLOUR,
            "shape": "dash",
            "icon": _icon(
                f'<line x1="0" x2="18" y1="6" y2="6" stroke="{LINE_COLOUR}" stroke-width="2" '
                'stroke-dasharray="5 3"/>'
            ),
        },
    ]
    entries += [
        {
            "label": glossary.label(f"events_{kind}", lang),
            "colour": colour,
            "shape": EVENT_SHAPES[kind],
            "icon": _icon(marker(EVENT_SHAPES[kind], 9, 6, colour)),
        }
        for kind, colour in EVENT_COLOURS.items()
    ]
    return entries


def _icon(body: str) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" width="18" height="12" viewBox="0 0 18 12" '
        f'class="icon">{body}</svg>'
    )


def _ticks(low: float, high: float) -> list[float]:
    """Round values for the grid lines from ``low`` up to ``high``, at most about five."""
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
