"""The model card of a training run, in Markdown and HTML, from Jinja templates.

The card states the intended use, the data window and population, the metrics of the model
side by side with the rule, logistic regression and (on simulated data) the oracle, the
subgroup table, the calibration and the limitations. HTML is autoescaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from earlywarn.resources import templates


@dataclass(frozen=True)
class ModelCard:
    """What the card says; frames are shown as tables (rows as given)."""

    model_version: str
    created: str
    population: str
    data_window: str
    fit_years: str
    calibration_year: int
    test_year: int
    as_of_months: str
    n_examples: dict[str, int]
    comparison: pd.DataFrame
    subgroups: pd.DataFrame
    gaps: pd.DataFrame
    by_month: pd.DataFrame
    reliability: pd.DataFrame
    calibration_method: str
    tuning: dict[str, Any]
    explanation_rate: float
    config_hash: str
    catalog_hash: str
    limitations: tuple[str, ...] = ()
    plots: dict[str, str] = field(default_factory=dict)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return str(value)


COUNT_COLUMNS = ("n", "n_flagged", "n_groups", "bin")


def _rows(frame: pd.DataFrame) -> dict[str, Any]:
    counts = [str(c) in COUNT_COLUMNS for c in frame.columns]
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [
            [
                f"{int(v):,}" if is_count and pd.notna(v) else _fmt(v)
                for v, is_count in zip(row, counts, strict=True)
            ]
            for row in frame.itertuples(index=False)
        ],
    }


def render_model_card(card: ModelCard) -> tuple[str, str]:
    """The card as (markdown, html)."""
    context = {
        "card": card,
        "comparison": _rows(card.comparison),
        "subgroups": _rows(card.subgroups),
        "gaps": _rows(card.gaps),
        "by_month": _rows(card.by_month),
        "reliability": _rows(card.reliability),
        "fmt": _fmt,
    }
    env = templates()
    markdown = env.get_template("model_card.md.j2").render(**context)
    html = env.get_template("model_card.html.j2").render(**context)
    return markdown, html
