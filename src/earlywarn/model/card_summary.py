"""The model card's one-page summary in Chinese, for the county officials who act on the
lists: what the model is for, which model it is, how it did on the test year against the
current rule, how far its risks can be taken at face value, and its limits."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from earlywarn.model.card import ModelCard

ROW_NAMES = {
    "model": "本模型",
    "logistic": "逻辑回归（全部特征）",
    "rule": "现行规则",
    "oracle": "理想基准（仅模拟数据）",
}
CANDIDATES = {
    "rule_score": "规则收入比的逻辑回归",
    "logistic": "逻辑回归",
    "lightgbm": "梯度提升树（LightGBM）",
    "blend": "混合模型（梯度提升树与逻辑回归各半）",
}
KINDS = {
    "lightgbm": "梯度提升树（LightGBM）",
    "linear": "逻辑回归",
    "blend": "混合模型（梯度提升树与逻辑回归各半）",
}
POPULATIONS = {
    "exited": "已脱贫户（上一年不贫困、目标年前已登记脱贫）",
    "all": "全部上一年不贫困的农户",
}
GROUPS = {
    "county": "县",
    "village": "村",
    "head_sex": "户主性别",
    "head_age_band": "户主年龄段",
    "household_size_band": "家庭人口规模",
    "as_of_month": "预警月份",
}
LIMITATIONS = (
    "模型依据过去年份训练：监测线调整、帮扶政策变化或前所未有的冲击（如疫情）"
    "可能比模型学习得更快地改变谁会返贫。",
    "收入来自每年一轮的调查：两轮之间的变化只能通过上报的变故得知，年初的风险主要依据上一年。",
    "地区只通过当时已知的情况进入模型（上一年的贫困发生率、本年户内的变故），"
    "户数少的村其比率波动较大。",
    "分组差距只在一个测试年上测得，小组的结果受偶然因素影响大。",
)


@dataclass(frozen=True)
class CardSummary:
    """The summary's sentences and its one table (rows: model, logistic, rule, oracle)."""

    population: str
    fit_years: str
    chosen: str
    findings: tuple[str, ...]
    metrics: tuple[dict[str, str], ...]
    calibration: str
    limitations: tuple[str, ...]


def card_summary(card: ModelCard) -> CardSummary:
    """The Chinese summary of ``card``."""
    comparison = card.comparison.set_index(card.comparison.columns[0])
    return CardSummary(
        population=POPULATIONS.get(card.population, card.population),
        fit_years=_fit_years(card.fit_years),
        chosen=_chosen(card),
        findings=tuple(_findings(comparison, card.test_year)),
        metrics=tuple(_metric_rows(comparison, card.model_name)),
        calibration=_calibration(comparison, card.calibration_method, card.calibration_year),
        limitations=(*LIMITATIONS, *_measured_limits(card)),
    )


def _fit_years(text: str) -> str:
    """``2017-2023 and 50% of the households of 2024`` in Chinese."""
    part = re.fullmatch(r"(.+) and (\d+%) of the households of (\d{4})", text)
    return f"{part[1]}年及{part[3]}年{part[2]}的农户" if part else f"{text}年"


def _get(frame: pd.DataFrame, row: str, column: str) -> float:
    if row not in frame.index or column not in frame.columns:
        return math.nan
    value = frame.loc[row, column]
    return math.nan if pd.isna(value) else float(value)


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.0f}%"


def _num(value: float, pattern: str = ".3f") -> str:
    return "—" if math.isnan(value) else format(value, pattern)


def _chosen(card: ModelCard) -> str:
    scores = card.choice.set_index("candidate")["average_precision"]
    winner = card.chosen_candidate
    name = CANDIDATES.get(winner) or KINDS.get(card.model_kind, card.model_kind)
    text = f"{name}，在验证年份上的平均精确率为{_num(float(scores.get(winner, math.nan)))}"
    others = [
        f"{CANDIDATES.get(str(name), str(name))}{_num(float(value))}"
        for name, value in scores.items()
        if name != winner and pd.notna(value)
    ]
    return text + (f"（其他候选：{'，'.join(others)}）" if others else "")


def _findings(comparison: pd.DataFrame, test_year: int) -> list[str]:
    """Plain sentences: how many of the poor the list finds, against the rule, per visit."""
    out = []
    recall, flagged = (
        _get(comparison, "model", "recall_at_capacity"),
        _get(comparison, "model", "n_flagged"),
    )
    precision = _get(comparison, "model", "precision_at_capacity")
    if not math.isnan(recall):
        out.append(
            f"在测试年（{test_year}年），按核实能力预警{_num(flagged, ',.0f')}户次，"
            f"可找到当年实际返贫户的{_pct(recall)}；预警户中约{_pct(precision)}当年确实返贫。"
        )
    rule_recall, rule_flagged = (
        _get(comparison, "rule", "recall_at_capacity"),
        _get(comparison, "rule", "n_flagged"),
    )
    rule_precision = _get(comparison, "rule", "precision_at_capacity")
    if not math.isnan(rule_recall):
        times = rule_flagged / flagged if flagged else math.nan
        out.append(
            f"现行规则预警{_num(rule_flagged, ',.0f')}户次（为模型的{_num(times, '.1f')}倍），"
            f"找到返贫户的{_pct(rule_recall)}，预警户中约{_pct(rule_precision)}确实返贫。"
        )
    base = _get(comparison, "model", "base_rate")
    if not math.isnan(base):
        out.append(f"测试年参评户中返贫的比例为{_pct(base)}（随机走访时预警户的返贫比例）。")
    return out


def _metric_rows(comparison: pd.DataFrame, model_name: str) -> list[dict[str, str]]:
    rows = []
    for name in comparison.index:
        label = ROW_NAMES.get(str(name), str(name))
        if name == "model":
            label = f"{label}（{model_name}）"
        rows.append(
            {
                "name": label,
                "average_precision": _num(_get(comparison, name, "average_precision")),
                "roc_auc": _num(_get(comparison, name, "roc_auc")),
                "recall": _pct(_get(comparison, name, "recall_at_capacity")),
                "precision": _pct(_get(comparison, name, "precision_at_capacity")),
                "n_flagged": _num(_get(comparison, name, "n_flagged"), ",.0f"),
            }
        )
    return rows


def _calibration(comparison: pd.DataFrame, method: str, year: int) -> str:
    ece = _get(comparison, "model", "ece")
    return (
        f"风险经过校准（{method}，用{year}年留出的农户拟合），可按概率理解："
        f"测试年预测风险与实际返贫率的平均偏差（ECE）为{_num(ece)}。"
        "“风险20%”即100户这样的家庭中约20户当年人均纯收入低于监测线。"
    )


def _measured_limits(card: ModelCard) -> list[str]:
    items = []
    if card.oracle_gap is not None and not math.isnan(card.oracle_gap):
        lower = "低" if card.oracle_gap < 0 else "高"
        items.append(
            f"在模拟数据上，模型的平均精确率比理想基准（知道模拟世界真实状态）{lower}"
            f"{abs(card.oracle_gap):.3f}。"
        )
    gaps: Any = card.gaps
    if not gaps.empty and "average_precision_gap" in gaps.columns:
        worst = gaps.sort_values("average_precision_gap", ascending=False).iloc[0]
        if pd.notna(worst["average_precision_gap"]):
            group = GROUPS.get(str(worst["group"]), str(worst["group"]))
            items.append(
                f"分组差距最大的是各{group}之间：平均精确率相差{worst['average_precision_gap']:.3f}。"
            )
    return items
