"""The backtest report: how good a year's warnings were, in Chinese and English.

Takes the backtest's figures as plain frames (``runs``: one row per run; ``by_county``: one
row per run, county and scorer; column names of :mod:`earlywarn.scoring.backtest`) and gives
an HTML page (template ``backtest.html.j2``, a chart of recall by as-of month for the model
and the rule) or the few lines a command prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from earlywarn.explain.formatting import day
from earlywarn.explain.pages import CJK_FONTS
from earlywarn.resources import templates

LANGUAGES = ("zh-CN", "en")

WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "How good were the warnings of {year}?", "zh-CN": "{year}年预警效果回测"},
    "intro": {
        "en": "Each stored scoring run of {year} against the survey round of {year}: who fell "
        "below the line, and whether the run had flagged them. The current rule is applied on "
        "the same date to the same households and sends as many households as the run did "
        "(triggered ones first, lowest income relative to the line first).",
        "zh-CN": "{year}年每次存档的评分与{year}年度调查结果对照：哪些户落到监测线以下，"
        "评分时是否已被预警。现行规则在同一日期、对同样的农户运行，并按同样的名额选户"
        "（先选触发规则的户，收入距线越近越先）。",
    },
    "chart": {"en": "Recall at capacity by as-of date", "zh-CN": "各评分日期的查全率（同等名额）"},
    "runs": {"en": "Runs", "zh-CN": "各次评分"},
    "counties": {"en": "By county", "zh-CN": "分县"},
    "as_of": {"en": "As of", "zh-CN": "评分日期"},
    "model_version": {"en": "Model", "zh-CN": "模型版本"},
    "county": {"en": "County", "zh-CN": "县"},
    "scorer": {"en": "Who", "zh-CN": "方法"},
    "model": {"en": "model", "zh-CN": "模型"},
    "rule": {"en": "rule", "zh-CN": "现行规则"},
    "n_known": {"en": "Known", "zh-CN": "已知户"},
    "n_poor": {"en": "Poor", "zh-CN": "落线户"},
    "capacity": {"en": "Flagged", "zh-CN": "预警户"},
    "recall": {"en": "Recall", "zh-CN": "查全率"},
    "precision": {"en": "Precision", "zh-CN": "查准率"},
    "roc_auc": {"en": "ROC-AUC", "zh-CN": "ROC-AUC"},
    "average_precision": {"en": "AP", "zh-CN": "平均精度"},
    "mean_risk": {"en": "Mean risk", "zh-CN": "平均风险"},
    "realised_rate": {"en": "Realised share", "zh-CN": "实际比例"},
    "expected": {"en": "Poor among flagged: expected", "zh-CN": "预警户中落线：预计"},
    "realised": {"en": "realised", "zh-CN": "实际"},
    "columns_note": {
        "en": "Known: households whose poverty in {year} is known; Poor: of them, below the line "
        "in {year}; Flagged: the run's capacity. Expected poor among the flagged is the sum of "
        "their risks, the run's own estimate.",
        "zh-CN": "已知户：{year}年是否落线已知的户；落线户：其中{year}年低于监测线的户；"
        "预警户：该次评分的名额。预警户中预计落线户数为其风险之和，即评分时的自我估计。",
    },
    "prevention": {
        "en": "Of those not monitored at the as-of date who then fell below the line, share "
        "flagged",
        "zh-CN": "评分时未纳入监测、随后落到线下的户中，被预警的比例",
    },
    "rule_triggers": {
        "en": "The rule's own triggers (any number)",
        "zh-CN": "规则本身触发的户（不限名额）",
    },
    "unknown_note": {
        "en": "Households without a round in {year} (or with a null income component) are left "
        "out of every figure.",
        "zh-CN": "{year}年无调查记录（或收入项缺失）的户不计入任何指标。",
    },
}


def word(key: str, lang: str, **values: Any) -> str:
    """The report's word for ``key`` in ``lang`` (``zh-CN`` or ``en``)."""
    return WORDS[key]["zh-CN" if lang.startswith("zh") else "en"].format(**values)


def percent(value: Any) -> str:
    """``0.4231`` as ``42.3%``; a dash when not known."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * float(value):.1f}%"


def number(value: Any, digits: int = 3) -> str:
    """A figure with ``digits`` decimals; a dash when not known."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}f}"


def render_backtest(
    runs: pd.DataFrame, by_county: pd.DataFrame, *, target_year: int, lang: str
) -> str:
    """The backtest page in ``lang``: runs, the recall chart, counties."""
    points = [
        (
            pd.Timestamp(row["as_of"]),
            row["model_recall_at_capacity"],
            row["rule_recall_at_capacity"],
        )
        for _, row in runs.iterrows()
    ]
    return (
        templates()
        .get_template("backtest.html.j2")
        .render(
            lang=lang,
            fonts=Markup(CJK_FONTS),
            year=target_year,
            W=lambda key, **values: word(key, lang, year=target_year, **values),
            runs=runs.to_dict("records"),
            counties=by_county.to_dict("records"),
            chart=recall_chart_svg(points, lang),
            day=lambda value: day(value, lang),
            pct=percent,
            num=number,
        )
    )


def recall_chart_svg(
    points: Sequence[tuple[pd.Timestamp, float, float]], lang: str, *, width: int = 560
) -> Markup:
    """Recall at capacity (0-100%) by as-of date: the model's line solid, the rule's dashed."""
    height, left, right, top, bottom = 220, 44, 110, 12, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    ordered = sorted(points)
    n = len(ordered)

    def x(i: int) -> float:
        return left + (inner_w * (i + 0.5) / n if n else 0)

    def y(value: float) -> float:
        return top + inner_h * (1 - (0 if math.isnan(value) else value))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart">'
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" x2="{left + inner_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end" font-size="10" '
            f'fill="#444">{int(tick * 100)}%</text>'
        )
    for k, (colour, dash, label) in enumerate(
        (
            ("#1f4e99", "", word("model", lang)),
            ("#c0392b", ' stroke-dasharray="5,4"', word("rule", lang)),
        )
    ):
        values = [point[k + 1] for point in ordered]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values) if not math.isnan(v))
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for i, v in enumerate(values):
            if not math.isnan(v):
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        legend_y = top + 14 + 16 * k
        parts.append(
            f'<line x1="{width - right + 10}" x2="{width - right + 34}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{width - right + 38}" y="{legend_y}" font-size="10" fill="#222">'
            f"{escape(label)}</text>"
        )
    for i, (as_of, _, _) in enumerate(ordered):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10" fill="#444">{escape(day(as_of, lang))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def backtest_summary(runs: pd.DataFrame, *, target_year: int) -> list[str]:
    """The lines a command prints: per run, recall and precision of model and rule at the
    same capacity, ROC-AUC and AP, the run's estimate against the realised number, and the
    prevention figure."""
    lines = [f"backtest of {target_year}: {len(runs)} run(s) against the round of {target_year}"]
    for _, run in runs.iterrows():
        lines += [
            f"  as of {pd.Timestamp(run['as_of']).date()}, model {run['model_version']}: "
            f"{run['n_known']:,} households known, {run['n_poor']:,} fell below the line, "
            f"{run['capacity']:,} flagged",
            f"    recall / precision at capacity: model {percent(run['model_recall_at_capacity'])}"
            f" / {percent(run['model_precision_at_capacity'])}, rule "
            f"{percent(run['rule_recall_at_capacity'])} / "
            f"{percent(run['rule_precision_at_capacity'])}",
            f"    ROC-AUC {number(run['model_roc_auc'])}, "
            f"AP {number(run['model_average_precision'])}"
            f" (rule's triggers: AP {number(run['rule_average_precision'])}); mean risk "
            f"{percent(run['mean_risk'])} vs realised {percent(run['realised_rate'])}",
            f"    expected poor among the flagged {run['expected_poor_flagged']:.1f}, realised "
            f"{run['realised_poor_flagged']}",
            f"    prevention: of {run['n_poor_not_monitored']} who fell below the line while not "
            f"monitored, flagged: model {percent(run['model_prevention_share'])}, rule "
            f"{percent(run['rule_prevention_share'])} (same capacity); flagged already "
            f"monitored: model {run['model_flagged_monitored']}, "
            f"rule {run['rule_flagged_monitored']}",
        ]
    return lines
