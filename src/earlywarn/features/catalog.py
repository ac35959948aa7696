"""The feature catalog: every feature's name, description (English and Chinese), unit and
reason group, in one place. Features, explanations, reports and docs all read it.

Names carry their window and unit; ``catalog_hash()`` changes whenever a name, group or unit
does, so a model trained on another catalog is refused. The entries live by source:
``household_specs`` (registry and survey rounds), ``event_specs`` (events, assistance, place
rates); ``spec`` spells the generated names, ``reason_groups`` names the groups. This module
puts them in order and renders ``docs/features.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pandas as pd

from earlywarn.features.event_specs import assistance_specs, place_specs, shock_specs
from earlywarn.features.household_specs import (
    COMPOSITION,
    EXIT,
    FLAGS,
    LEVEL,
    PROFILE,
    RIGID,
    TREND,
)
from earlywarn.features.monitoring_specs import monitoring_specs
from earlywarn.features.reason_groups import (  # re-exported: the catalog's public names
    EVENT_LABELS,
    MEASURE_LABELS,
    REASON_GROUPS,
    ReasonGroup,
)
from earlywarn.features.spec import (  # re-exported
    MIN_RATIO_ROUNDS,
    SHOCK_WINDOWS_MONTHS,
    TREND_ROUNDS,
    FeatureSpec,
    county_shock_rate_name,
    measure_running_name,
    shock_count_name,
    shock_days_since_name,
    shock_this_year_name,
    village_shock_rate_name,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "EVENT_LABELS",
    "FEATURES",
    "FEATURE_NAMES",
    "MEASURE_LABELS",
    "MIN_RATIO_ROUNDS",
    "REASON_GROUPS",
    "SHOCK_WINDOWS_MONTHS",
    "TREND_ROUNDS",
    "FeatureSpec",
    "ReasonGroup",
    "catalog_frame",
    "catalog_hash",
    "county_shock_rate_name",
    "feature_spec",
    "measure_running_name",
    "render_catalog_markdown",
    "shock_count_name",
    "shock_days_since_name",
    "shock_this_year_name",
    "village_shock_rate_name",
]


FEATURES: tuple[FeatureSpec, ...] = (
    PROFILE
    + LEVEL
    + COMPOSITION
    + TREND
    + RIGID
    + shock_specs()
    + assistance_specs()
    + EXIT
    + monitoring_specs()
    + place_specs()
    + FLAGS
)
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(s.name for s in FEATURES if s.unit == "category")
_BY_NAME = {spec.name: spec for spec in FEATURES}


def feature_spec(name: str) -> FeatureSpec:
    """The catalog entry of one feature (KeyError if there is none)."""
    return _BY_NAME[name]


def catalog_frame() -> pd.DataFrame:
    """The catalog as a table, one row per feature, with the reason group's names."""
    frame = pd.DataFrame([asdict(spec) for spec in FEATURES])
    frame["reason_group_en"] = frame["reason_group"].map(lambda g: REASON_GROUPS[g].name_en)
    frame["reason_group_zh"] = frame["reason_group"].map(lambda g: REASON_GROUPS[g].name_zh)
    return frame


def catalog_hash() -> str:
    """Short hash of every feature's name, unit and reason group, in order."""
    payload = [[spec.name, spec.unit, spec.reason_group] for spec in FEATURES]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def render_catalog_markdown() -> str:
    """``docs/features.md``: the catalog by reason group, English and Chinese."""
    lines = [
        "# Features",
        "",
        "Generated from `earlywarn.features.catalog`"
        " by `earlywarn catalog --out docs/features.md`;",
        "do not edit by hand. Everything is computed as of a date d (target year Y = year of d):",
        "survey rounds of year Y-1 or earlier; events, assistance, monitoring spells, exits and",
        "visits dated before d. Empty",
        "(NaN) means unknown; counts are 0 when nothing happened.",
        "",
        f"{len(FEATURES)} features, catalog hash `{catalog_hash()}`.",
        "",
    ]
    for code, group in REASON_GROUPS.items():
        specs = [spec for spec in FEATURES if spec.reason_group == code]
        if not specs:
            continue
        lines += [
            f"## {group.name_en} · {group.name_zh} (`{code}`)",
            "",
            "| feature | unit | description | 说明 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{s.name}` | {s.unit} | {s.description_en} | {s.description_zh} |" for s in specs
        ]
        lines.append("")
    return "\n".join(lines)
