"""One feature's catalog entry, and the spelling of every feature name built from an event
type, a measure or a window (the one home of that spelling)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: ``unit`` says what a value measures; ``reason_group`` is the family of
    reasons (a code of ``REASON_GROUPS``) its contribution is reported under."""

    name: str
    description_en: str
    description_zh: str
    unit: str
    reason_group: str


SHOCK_WINDOWS_MONTHS: tuple[int, ...] = (3, 12, 36)
TREND_ROUNDS = 5
MIN_RATIO_ROUNDS = 3


# --- names built from event types, measures and windows (the one home of their spelling) ---
def shock_count_name(event_type: str, months: int) -> str:
    return f"n_{event_type}_events_{months}m"


def shock_days_since_name(event_type: str) -> str:
    return f"days_since_last_{event_type}"


def shock_this_year_name(event_type: str) -> str:
    return f"n_{event_type}_events_this_year"


def measure_running_name(measure: str) -> str:
    return f"is_{measure}_running"


def village_shock_rate_name(event_type: str) -> str:
    return f"village_{event_type}_rate_last_year"


def county_shock_rate_name(event_type: str) -> str:
    return f"county_{event_type}_rate_last_year"


def village_shock_rate_this_year_name(event_type: str) -> str:
    return f"village_{event_type}_rate_this_year"


def county_shock_rate_this_year_name(event_type: str) -> str:
    return f"county_{event_type}_rate_this_year"


def monitoring_category_name(category: str) -> str:
    return f"is_monitoring_category_{category}"


def visit_outcome_name(outcome: str) -> str:
    return f"is_last_visit_{outcome}"


def spec(name: str, en: str, zh: str, unit: str, group: str) -> FeatureSpec:
    return FeatureSpec(name, en, zh, unit, group)
