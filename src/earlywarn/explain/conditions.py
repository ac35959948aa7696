"""Conditions on a household's figures that choose what a reason is called and which official
risk type it proposes: a reason's name must be true to the figures it quotes (a household at
230% of the line is not "close to the line").

Each condition takes the household's facts (:func:`~earlywarn.explain.household_facts.
household_facts`, one row as a mapping) and says yes or no; an unknown figure says no. The
glossary's ``variants`` of a reason group name them under ``when``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

NEAR_LINE_MARGIN = 0.5
"""Income counts as close to the line below (1 + this) times the line: 150% of it, the
current rule's default margin (``RuleConfig.income_margin``). Above it a reason never says
"close to the line"."""

Facts = Mapping[str, Any]


def _number(facts: Facts, name: str) -> float | None:
    value = facts.get(name)
    if value is None or isinstance(value, str) or pd.isna(value):
        return None
    return float(value)


def below_line(facts: Facts) -> bool:
    """Last round's net income per person below that year's line."""
    share = _number(facts, "income_to_line_pct")
    return share is not None and share < 100


def near_line(facts: Facts) -> bool:
    """At or above the line but below (1 + :data:`NEAR_LINE_MARGIN`) times it."""
    share = _number(facts, "income_to_line_pct")
    return share is not None and 100 <= share < 100 * (1 + NEAR_LINE_MARGIN)


def below_village_median(facts: Facts) -> bool:
    """Net income per person below the village's median (and not close to the line)."""
    income = _number(facts, "income_per_capita")
    median = _number(facts, "village_median_income_per_capita")
    return income is not None and median is not None and income < median


def _health_type(facts: Facts) -> str:
    for name in ("big_health_event_type", "last_health_event_type"):
        value = facts.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def health_injury(facts: Facts) -> bool:
    """The health shock that matters (the costliest recent one, else the latest) is an injury."""
    return _health_type(facts) == "injury"


def health_disability(facts: Facts) -> bool:
    """The health shock that matters is a disability, or there is no recent illness and a
    member is disabled."""
    if _health_type(facts) == "disability":
        return True
    disabled = _number(facts, "n_disabled") or 0
    return not _health_type(facts) and disabled > 0 and not (_number(facts, "n_chronic_ill") or 0)


def farm_disaster(facts: Facts) -> bool:
    """The farm loss that matters (costliest recent one, else the latest) is a natural disaster."""
    for name in ("big_farm_event_type", "last_farm_event_type"):
        value = facts.get(name)
        if isinstance(value, str) and value:
            return value == "disaster"
    return False


def business_fell(facts: Facts) -> bool:
    """Farm and business income fell (by at least the least fall worth mentioning)."""
    return _number(facts, "business_fall_pct") is not None


CONDITIONS: dict[str, Callable[[Facts], bool]] = {
    "below_line": below_line,
    "near_line": near_line,
    "below_village_median": below_village_median,
    "health_injury": health_injury,
    "health_disability": health_disability,
    "farm_disaster": farm_disaster,
    "business_fell": business_fell,
}
"""Every condition a glossary variant may name."""


def holds(condition: str, facts: Facts) -> bool:
    """Whether the named condition holds for these facts."""
    return CONDITIONS[condition](facts)
