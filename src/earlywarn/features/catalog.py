"""The feature catalog: every feature's name, description (English and Chinese), unit and
reason group, in one place. Features, explanations, reports and docs all read it.

Names carry their window and unit; ``catalog_hash()`` changes whenever a name, group or unit
does, so a model trained on another catalog is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import pandas as pd

from earlywarn.data.columns import COUNTY, EVENT_TYPES, VILLAGE


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: ``unit`` says what a value measures; ``reason_group`` is the family of
    reasons (a code of ``REASON_GROUPS``) its contribution is reported under."""

    name: str
    description_en: str
    description_zh: str
    unit: str
    reason_group: str


@dataclass(frozen=True)
class ReasonGroup:
    name_en: str
    name_zh: str


REASON_GROUPS: dict[str, ReasonGroup] = {
    "income_low": ReasonGroup("Income close to the line", "收入接近监测线"),
    "income_fell": ReasonGroup("Income fell", "收入下降"),
    "illness_medical": ReasonGroup("Illness and medical costs", "疾病与医疗支出"),
    "lost_work": ReasonGroup("Loss of work", "失业或务工收入减少"),
    "farm_disaster": ReasonGroup("Farm and disaster losses", "农业生产与灾害损失"),
    "few_earners": ReasonGroup("Few earners, many dependants", "劳动力少、赡养抚养负担重"),
    "education_costs": ReasonGroup("Education costs", "教育支出"),
    "assistance_running": ReasonGroup("Relies on assistance", "依靠帮扶救助"),
    "assistance_ended": ReasonGroup("Assistance ended", "帮扶措施已停止"),
    "housing_living": ReasonGroup("Housing, water and insurance", "住房、饮水与保险保障"),
    "other_shocks": ReasonGroup("Other shocks", "其他突发变故"),
    "place": ReasonGroup("Village and county conditions", "所在村、县情况"),
    "history": ReasonGroup("History of poverty", "贫困史"),
    "household_profile": ReasonGroup("Household profile", "家庭基本情况"),
}

EVENT_LABELS: dict[str, tuple[str, str, str]] = {
    # event type: (English, Chinese, reason group)
    "illness": ("illness", "疾病", "illness_medical"),
    "injury": ("injury", "意外伤害", "illness_medical"),
    "disability": ("disability", "致残", "illness_medical"),
    "chronic_diagnosis": ("chronic disease diagnosis", "确诊慢性病", "illness_medical"),
    "death": ("death in the family", "家庭成员死亡", "illness_medical"),
    "job_loss": ("job loss", "失业", "lost_work"),
    "crop_failure": ("crop failure", "农作物歉收", "farm_disaster"),
    "livestock_loss": ("livestock loss", "牲畜损失", "farm_disaster"),
    "disaster": ("natural disaster", "自然灾害", "farm_disaster"),
    "epidemic_lockdown": ("epidemic lockdown", "疫情封控", "lost_work"),
    "other": ("other shock", "其他变故", "other_shocks"),
}
MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "industrial": ("industrial support", "产业帮扶"),
    "employment": ("employment support", "就业帮扶"),
    "medical": ("medical assistance", "医疗救助"),
    "minimum_living_allowance": ("minimum living allowance (dibao)", "最低生活保障（低保）"),
    "education": ("education support", "教育资助"),
    "housing": ("housing support", "住房保障"),
    "insurance": ("insurance support", "保险帮扶"),
    "other": ("other assistance", "其他帮扶"),
}
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


def _spec(name: str, en: str, zh: str, unit: str, group: str) -> FeatureSpec:
    return FeatureSpec(name, en, zh, unit, group)


_PROFILE = (
    _spec(COUNTY, "County of the household.", "所在县。", "category", "place"),
    _spec(VILLAGE, "Village of the household.", "所在村。", "category", "place"),
    _spec(
        "head_age_years",
        "Age of the household head in the target year.",
        "户主在目标年份的年龄。",
        "years",
        "household_profile",
    ),
    _spec(
        "head_education_years",
        "Years of schooling of the household head.",
        "户主受教育年限。",
        "years",
        "household_profile",
    ),
    _spec(
        "is_head_female",
        "1 if the household head is a woman.",
        "户主为女性记为1。",
        "flag",
        "household_profile",
    ),
    _spec(
        "is_ethnic_minority",
        "1 if the household belongs to an ethnic minority.",
        "少数民族家庭记为1。",
        "flag",
        "household_profile",
    ),
)

_LEVEL = (
    _spec(
        "net_income_per_capita_last_round_yuan",
        "Per-capita net income after medical and education costs, last survey round.",
        "最近一轮调查的人均纯收入（扣除医疗、教育刚性支出）。",
        "yuan/person/year",
        "income_low",
    ),
    _spec(
        "income_to_line_ratio_last_round",
        "Last round's per-capita net income divided by that year's poverty line.",
        "最近一轮人均纯收入与当年监测线之比。",
        "ratio",
        "income_low",
    ),
    _spec(
        f"min_income_to_line_ratio_{MIN_RATIO_ROUNDS}_rounds",
        f"Lowest income-to-line ratio over the last {MIN_RATIO_ROUNDS} survey rounds.",
        f"最近{MIN_RATIO_ROUNDS}轮调查中收入与监测线之比的最低值。",
        "ratio",
        "income_low",
    ),
    _spec(
        "n_rounds_since_last_poor",
        "Survey rounds since the household was last below the line (0 = last round; "
        "empty if never below in a recorded round).",
        "距最近一次收入低于监测线的调查轮数（0表示最近一轮；从未低于则为空）。",
        "rounds",
        "history",
    ),
    _spec(
        "years_since_last_round",
        "Years from the last survey round to the target year.",
        "最近一轮调查距目标年份的年数。",
        "years",
        "history",
    ),
    _spec(
        "n_rounds_known",
        "Number of survey rounds recorded before the target year.",
        "目标年份之前的调查轮数。",
        "rounds",
        "history",
    ),
)

_COMPOSITION = (
    _spec(
        "wage_income_share",
        "Wage income as a share of gross income, last round.",
        "最近一轮工资性收入占总收入的比重。",
        "share",
        "lost_work",
    ),
    _spec(
        "migrant_income_share",
        "Estimated share of gross income earned by migrant workers (wage share times "
        "migrant workers per worker), last round.",
        "外出务工收入占总收入的估计比重（工资收入比重×外出务工人数/劳动力人数），最近一轮。",
        "share",
        "lost_work",
    ),
    _spec(
        "business_income_share",
        "Business (farm and family business) income as a share of gross income, last round.",
        "最近一轮经营性收入（含农业）占总收入的比重。",
        "share",
        "farm_disaster",
    ),
    _spec(
        "property_income_share",
        "Property income as a share of gross income, last round.",
        "最近一轮财产性收入占总收入的比重。",
        "share",
        "household_profile",
    ),
    _spec(
        "transfer_income_share",
        "Transfer income (subsidies, pensions, allowances) as a share of gross income, last round.",
        "最近一轮转移性收入（补贴、养老金、救助）占总收入的比重。",
        "share",
        "assistance_running",
    ),
    _spec(
        "dependant_share",
        "Dependency ratio: children and elderly per household member.",
        "抚养比：儿童和老人占家庭人口的比重。",
        "share",
        "few_earners",
    ),
    _spec(
        "workers_per_member",
        "Working members per household member, last round.",
        "最近一轮劳动力人数占家庭人口的比重。",
        "share",
        "few_earners",
    ),
    _spec(
        "household_size",
        "Members at the start of the last survey year.",
        "最近一轮调查年初的家庭人口数。",
        "persons",
        "household_profile",
    ),
    _spec(
        "n_elderly", "Elderly members, last round.", "最近一轮老年人数。", "persons", "few_earners"
    ),
    _spec(
        "n_students",
        "Members in school, last round.",
        "最近一轮在校学生人数。",
        "persons",
        "education_costs",
    ),
    _spec(
        "n_disabled",
        "Members with a disability, last round.",
        "最近一轮残疾人数。",
        "persons",
        "illness_medical",
    ),
    _spec(
        "n_chronic_ill",
        "Members with a chronic illness, last round.",
        "最近一轮慢性病患者人数。",
        "persons",
        "illness_medical",
    ),
)

_TREND = (
    _spec(
        f"income_per_capita_slope_{TREND_ROUNDS}_rounds",
        f"Trend of per-capita net income over the last {TREND_ROUNDS} rounds "
        "(least-squares slope; needs 2 rounds).",
        f"最近{TREND_ROUNDS}轮人均纯收入的变化趋势（最小二乘斜率，至少2轮）。",
        "yuan/person/year per year",
        "income_fell",
    ),
    _spec(
        f"income_per_capita_cv_{TREND_ROUNDS}_rounds",
        f"Coefficient of variation of per-capita net income over the last {TREND_ROUNDS} "
        "rounds (empty if the mean is not positive).",
        f"最近{TREND_ROUNDS}轮人均纯收入的变异系数（均值非正时为空）。",
        "ratio",
        "income_fell",
    ),
    _spec(
        "net_income_per_capita_change_yuan",
        "Change of per-capita net income from the round before to the last round.",
        "人均纯收入较上一轮调查的变化。",
        "yuan/person/year",
        "income_fell",
    ),
    _spec(
        "wage_income_change_yuan",
        "Change of household wage income since the round before.",
        "家庭工资性收入较上一轮的变化。",
        "yuan/year",
        "lost_work",
    ),
    _spec(
        "business_income_change_yuan",
        "Change of household business income since the round before.",
        "家庭经营性收入较上一轮的变化。",
        "yuan/year",
        "farm_disaster",
    ),
    _spec(
        "property_income_change_yuan",
        "Change of household property income since the round before.",
        "家庭财产性收入较上一轮的变化。",
        "yuan/year",
        "income_fell",
    ),
    _spec(
        "transfer_income_change_yuan",
        "Change of household transfer income since the round before.",
        "家庭转移性收入较上一轮的变化。",
        "yuan/year",
        "assistance_ended",
    ),
)

_RIGID = (
    _spec(
        "medical_expense_share_of_income",
        "Out-of-pocket medical spending as a share of gross income, last round.",
        "最近一轮自付医疗支出占总收入的比重。",
        "share",
        "illness_medical",
    ),
    _spec(
        "education_expense_share_of_income",
        "Education spending as a share of gross income, last round.",
        "最近一轮教育支出占总收入的比重。",
        "share",
        "education_costs",
    ),
    _spec(
        "medical_expense_change_yuan",
        "Change of medical spending since the round before.",
        "医疗支出较上一轮的变化。",
        "yuan/year",
        "illness_medical",
    ),
    _spec(
        "education_expense_change_yuan",
        "Change of education spending since the round before.",
        "教育支出较上一轮的变化。",
        "yuan/year",
        "education_costs",
    ),
)


def _shock_specs() -> tuple[FeatureSpec, ...]:
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


def _assistance_specs() -> tuple[FeatureSpec, ...]:
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


_EXIT = (
    _spec(
        "years_since_exit",
        "Years from being registered as lifted out of poverty to the target year "
        "(empty if never registered poor).",
        "脱贫年份距目标年份的年数（从未登记为贫困户则为空）。",
        "years",
        "history",
    ),
    _spec(
        "n_times_poor_again_since_exit",
        "Survey rounds after the exit year with income below the line.",
        "脱贫之后收入低于监测线的调查轮数。",
        "rounds",
        "history",
    ),
)


def _place_specs() -> tuple[FeatureSpec, ...]:
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
    return tuple(specs)


_FLAGS = (
    _spec(
        "is_housing_safe",
        "1 if the house was rated safe, last round.",
        "最近一轮住房安全记为1。",
        "flag",
        "housing_living",
    ),
    _spec(
        "is_water_safe",
        "1 if drinking water was rated safe, last round.",
        "最近一轮饮水安全记为1。",
        "flag",
        "housing_living",
    ),
    _spec(
        "has_medical_insurance",
        "1 if the household had medical insurance, last round.",
        "最近一轮参加医疗保险记为1。",
        "flag",
        "illness_medical",
    ),
)

FEATURES: tuple[FeatureSpec, ...] = (
    _PROFILE
    + _LEVEL
    + _COMPOSITION
    + _TREND
    + _RIGID
    + _shock_specs()
    + _assistance_specs()
    + _EXIT
    + _place_specs()
    + _FLAGS
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
        "survey rounds of year Y-1 or earlier, events and assistance dated before d. Empty",
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
