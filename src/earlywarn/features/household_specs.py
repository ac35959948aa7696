"""Catalog entries of the features from the registry and the survey rounds: household profile,
income level, composition, trend, rigid expenses, exit history, housing/water/insurance."""

from __future__ import annotations

from earlywarn.features.spec import MIN_RATIO_ROUNDS, TREND_ROUNDS
from earlywarn.features.spec import spec as _spec

PROFILE = (
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

LEVEL = (
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

COMPOSITION = (
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

TREND = (
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

RIGID = (
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


EXIT = (
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


FLAGS = (
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
