"""Catalog entries of the features from dated tables, one per event type, measure and window:
shocks, assistance, and the place's rates."""

from __future__ import annotations

from earlywarn.data.columns import EVENT_TYPES
from earlywarn.features.reason_groups import EVENT_LABELS, MEASURE_LABELS
from earlywarn.features.spec import (
    SHOCK_WINDOWS_MONTHS,
    FeatureSpec,
    county_shock_rate_name,
    county_shock_rate_this_year_name,
    measure_running_name,
    shock_count_name,
    shock_days_since_name,
    shock_this_year_name,
    village_shock_rate_name,
    village_shock_rate_this_year_name,
)
from earlywarn.features.spec import spec as _spec


def shock_specs() -> tuple[FeatureSpec, ...]:
    specs: list[FeatureSpec] = []
    for event_type in EVENT_TYPES:
        en, zh, group = EVENT_LABELS[event_type]
        for months in SHOCK_WINDOWS_MONTHS:
            specs.append(
                _spec(
                    shock_count_name(event_type, months),
                    f"Events of {en} in the last {months} months.",
                    f"近{months}个月内发生{zh}的次数。",
                    "count",
                    group,
                )
            )
        specs.append(
            _spec(
                shock_days_since_name(event_type),
                f"Days since the last {en} (empty if none recorded).",
                f"距最近一次{zh}的天数（无记录为空）。",
                "days",
                group,
            )
        )
        specs.append(
            _spec(
                shock_this_year_name(event_type),
                f"Events of {en} so far in the target year.",
                f"目标年份内截至当日发生{zh}的次数。",
                "count",
                group,
            )
        )
    specs += [
        _spec(
            "n_events_this_year",
            "Shocks of any type so far in the target year.",
            "目标年份内截至当日发生各类变故的总次数。",
            "count",
            "other_shocks",
        ),
        _spec(
            "event_cost_12m_yuan",
            "Known costs of shocks in the last 12 months (empty if every shock's cost is unknown).",
            "近12个月各类变故的已知损失或费用合计（费用均未知时为空）。",
            "yuan",
            "illness_medical",
        ),
        _spec(
            "n_events_unknown_cost_12m",
            "Shocks in the last 12 months whose cost is not known.",
            "近12个月费用未知的变故次数。",
            "count",
            "other_shocks",
        ),
    ]
    return tuple(specs)


def assistance_specs() -> tuple[FeatureSpec, ...]:
    specs = [
        _spec(
            measure_running_name(measure),
            f"1 if {en} is running on the as-of date.",
            f"截至当日正在享受{zh}记为1。",
            "flag",
            "assistance_running",
        )
        for measure, (en, zh) in MEASURE_LABELS.items()
    ]
    specs += [
        _spec(
            "assistance_amount_running_yuan",
            "Known yearly amount of the assistance running on the as-of date.",
            "截至当日正在享受的帮扶措施已知年度金额合计。",
            "yuan/year",
            "assistance_running",
        ),
        _spec(
            "months_on_min_living_allowance",
            "Months on the minimum living allowance (dibao) before the as-of date.",
            "截至当日累计享受最低生活保障的月数。",
            "months",
            "assistance_running",
        ),
        _spec(
            "n_assistance_ended_12m",
            "Assistance measures that ended in the last 12 months.",
            "近12个月内停止的帮扶措施数。",
            "count",
            "assistance_ended",
        ),
        _spec(
            "days_since_assistance_ended",
            "Days since an assistance measure last ended (empty if none ended).",
            "距最近一次帮扶措施停止的天数（无则为空）。",
            "days",
            "assistance_ended",
        ),
    ]
    return tuple(specs)


def place_specs() -> tuple[FeatureSpec, ...]:
    specs = [
        _spec(
            "village_poverty_rate_last_year",
            "Share of the village's households below the line in the last closed year.",
            "上一年度本村收入低于监测线的户数比例。",
            "share",
            "place",
        ),
        _spec(
            "county_poverty_rate_last_year",
            "Share of the county's households below the line in the last closed year.",
            "上一年度本县收入低于监测线的户数比例。",
            "share",
            "place",
        ),
    ]
    for event_type in EVENT_TYPES:
        en, zh, _ = EVENT_LABELS[event_type]
        specs.append(
            _spec(
                village_shock_rate_name(event_type),
                f"Share of the village's households with a {en} last year.",
                f"上一年度本村发生{zh}的户数比例。",
                "share",
                "place",
            )
        )
        specs.append(
            _spec(
                county_shock_rate_name(event_type),
                f"Share of the county's households with a {en} last year.",
                f"上一年度本县发生{zh}的户数比例。",
                "share",
                "place",
            )
        )
    for event_type in EVENT_TYPES:
        en, zh, _ = EVENT_LABELS[event_type]
        specs.append(
            _spec(
                village_shock_rate_this_year_name(event_type),
                f"Share of the village's households with a {en} so far in the target year.",
                f"目标年份内截至当日本村发生{zh}的户数比例。",
                "share",
                "place",
            )
        )
        specs.append(
            _spec(
                county_shock_rate_this_year_name(event_type),
                f"Share of the county's households with a {en} so far in the target year.",
                f"目标年份内截至当日本县发生{zh}的户数比例。",
                "share",
                "place",
            )
        )
    return tuple(specs)
