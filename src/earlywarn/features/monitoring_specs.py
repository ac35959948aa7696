"""Catalog entries of the features from the monitoring cycle: spells as a monitoring subject
and the last home visit (``monitoring_cycle`` computes them)."""

from __future__ import annotations

from earlywarn.data.monitoring import CATEGORIES, OUTCOMES
from earlywarn.features.spec import FeatureSpec, monitoring_category_name, visit_outcome_name
from earlywarn.features.spec import spec as _spec

_CATEGORY_LABELS = {
    "unstable": ("unstable since leaving poverty", "脱贫不稳定户"),
    "edge": ("on the edge of poverty", "边缘易致贫户"),
    "sudden_hardship": ("in sudden severe hardship", "突发严重困难户"),
}
_OUTCOME_LABELS = {
    "confirmed": ("confirmed the risk", "核实存在风险"),
    "not_at_risk": ("found the household not at risk", "核实无风险"),
    "unreachable": ("could not reach the household", "未能联系到农户"),
}


def monitoring_specs() -> tuple[FeatureSpec, ...]:
    specs = [
        _spec(
            "is_monitored",
            "1 if the household is a monitoring subject on the date.",
            "当日为监测对象记为1。",
            "flag",
            "monitoring",
        ),
        _spec(
            "days_in_current_monitoring_spell",
            "Days since the household entered monitoring (empty if not monitored).",
            "本次纳入监测以来的天数（未在监测中为空）。",
            "days",
            "monitoring",
        ),
        _spec(
            "n_monitoring_spells_entered",
            "Times the household has entered monitoring.",
            "累计纳入监测的次数。",
            "count",
            "monitoring",
        ),
        _spec(
            "days_since_monitoring_exit",
            "Days since the household last left monitoring (empty if it never has).",
            "距最近一次退出监测的天数（从未退出为空）。",
            "days",
            "monitoring",
        ),
    ]
    for category in CATEGORIES:
        en, zh = _CATEGORY_LABELS[category]
        specs.append(
            _spec(
                monitoring_category_name(category),
                f"1 if the running or last monitoring spell is in the category {en}.",
                f"当前或最近一次监测类别为{zh}记为1。",
                "flag",
                "monitoring",
            )
        )
    for outcome in OUTCOMES:
        en, zh = _OUTCOME_LABELS[outcome]
        specs.append(
            _spec(
                visit_outcome_name(outcome),
                f"1 if the last home visit {en}.",
                f"最近一次入户走访结果为{zh}记为1。",
                "flag",
                "monitoring",
            )
        )
    specs.append(
        _spec(
            "days_since_last_visit",
            "Days since the last home visit (empty if none recorded).",
            "距最近一次入户走访的天数（无记录为空）。",
            "days",
            "monitoring",
        )
    )
    return tuple(specs)
