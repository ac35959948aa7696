"""Reason groups: the families of reasons a feature's contribution is reported under, and the
plain-language labels of event types and assistance measures (English, Chinese)."""

from __future__ import annotations

from dataclasses import dataclass


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
    "monitoring": ReasonGroup("Monitoring and home visits", "监测与入户走访"),
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
