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
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import EVENT_KINDS
from earlywarn.features.labels import NET_INCOME_PER_CAPITA

TICK = 'style="font-size:10px" fill="#444"'
NOTE = 'style="font-size:12px" fill="#888"'
INCOME_COLOUR = "#1f4e99"
LINE_COLOUR = "#c0392b"
EVENT_COLOURS = {"health": "#c0392b", "work": "#d68910", "farm": "#1e8449", "other": "#7f8c8d"}


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
            f'<text x="{plot.left - 4}" y="{y + 4:.1f}" text-anchor="end" {TICK}>{tick:,.0f}</text>'
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
    """The timeline below the plot: a diamond per shock, coloured by kind, and ``as_of``."""
    strip_y = plot.top + plot.plot_h + 22
    middle = strip_y + plot.strip / 2
    as_of_x = plot.x_of_day(as_of)
    parts = [
        f'<line x1="{plot.left}" x2="{plot.width - plot.right}" y1="{middle}" '
        f'y2="{middle}" stroke="#999"/>',
        f'<line x1="{as_of_x:.1f}" x2="{as_of_x:.1f}" y1="{plot.top}" '
        f'y2="{strip_y + plot.strip}" stroke="#555" stroke-dasharray="2 2"/>',
        f'<text x="{as_of_x - 3:.1f}" y="{plot.top - 5}" text-anchor="end" {TICK}>'
        f"{escape(glossary.label('as_of', lang))} {as_of.date()}</text>",
    ]
    kind_of = {event: kind for kind, types in EVENT_KINDS.items() for event in types}
    for date, event_type in zip(pd.to_datetime(events[DATE]), events[EVENT_TYPE], strict=True):
        colour = EVENT_COLOURS[kind_of.get(str(event_type), "other")]
        at = plot.x_of_day(date)
        title = f"{date.date()} {glossary.event_name(str(event_type), lang)}"
        parts.append(
            f'<g><title>{escape(title)}</title><path d="M{at:.1f},{strip_y + 6} '
            f'l6,10 l-6,10 l-6,-10 z" fill="{colour}" opacity="0.85"/></g>'
        )
    return parts


def chart_legend(glossary: Glossary, lang: str) -> list[dict[str, str]]:
    """Legend entries of :func:`income_chart_svg`: label, colour and marker shape."""
    entries = [
        {"label": glossary.label("chart_income", lang), "colour": INCOME_COLOUR, "shape": "line"},
        {"label": glossary.label("chart_line", lang), "colour": LINE_COLOUR, "shape": "dash"},
    ]
    entries += [
        {"label": glossary.label(f"events_{kind}", lang), "colour": colour, "shape": "diamond"}
        for kind, colour in EVENT_COLOURS.items()
    ]
    return entries


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
