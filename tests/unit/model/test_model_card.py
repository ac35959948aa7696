"""The model card renders in Markdown and HTML, says which model was chosen and by how much,
and HTML escapes what data put in it."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from earlywarn.model.card import (
    ModelCard,
    render_card_summary,
    render_model_card,
    with_registration,
)

CHOICE = pd.DataFrame(
    {
        "candidate": ["rule_score", "logistic", "lightgbm"],
        "average_precision": [0.21, 0.30, 0.35],
        "lead_over_baseline": [0.0, 0.09, 0.14],
        "lead_standard_error": [0.0, 0.03, 0.02],
        "required_lead": [float("nan"), 0.03, 0.02],
        "chosen": [False, False, True],
    }
)
YEARS = pd.DataFrame(
    {
        "year": [2023, 2024],
        "fitted_on": ["2017-2022", "2017-2023"],
        "n": [4000, 2000],
        "n_poor": [400, 180],
        "n_poor_households": [100, 45],
        "average_precision_rule_score": [0.2, 0.22],
        "average_precision_logistic": [0.31, 0.29],
        "average_precision_lightgbm": [0.36, 0.34],
    }
)


def _card(county: str) -> ModelCard:
    comparison = pd.DataFrame(
        {"model": ["model", "rule"], "average_precision": [0.4, 0.1], "n": [100.0, 100.0]}
    )
    subgroups = pd.DataFrame(
        {"group": ["county"], "value": [county], "n": [50.0], "roc_auc": [float("nan")]}
    )
    empty = pd.DataFrame({"group": [], "value": []})
    return ModelCard(
        model_version="v1",
        created="2026-01-01",
        population="exited",
        data_window="2017-2025",
        fit_years="2017-2023",
        calibration_year=2024,
        test_year=2025,
        as_of_months="1, 4, 7, 10",
        n_examples={"fit": 10, "calibration": 5, "test": 5},
        model_kind="lightgbm",
        chosen_candidate="lightgbm",
        choice_summary="lightgbm chosen: validation average precision 0.350",
        choice=CHOICE,
        choice_years=YEARS,
        comparison=comparison,
        subgroups=subgroups,
        gaps=empty,
        by_month=empty,
        reliability=empty,
        calibration_method="platt",
        tuning={
            "n_trials": 3,
            "best_value": 0.3,
            "best_trial": 1,
            "chosen_trial": 2,
            "chosen_value": 0.29,
            "num_boost_round": 40,
            "num_leaves": 8,
            "max_depth": 3,
        },
        explanation_rate=1234.5,
        config_hash="abc",
        catalog_hash="def",
        limitations=("Only one test year.",),
    )


def test_card_has_every_section_and_counts_as_integers():
    markdown, html = render_model_card(_card("530121"))
    for heading in (
        "Intended use",
        "Data window",
        "Model choice",
        "side by side",
        "Subgroups",
        "Calibration",
        "Limitations",
    ):
        assert heading in markdown and heading in html
    assert "| model | 0.400 | 100 |" in markdown
    assert "Only one test year." in markdown


def test_html_is_escaped_markdown_is_not():
    markdown, html = render_model_card(_card("<script>x</script>"))
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "<script>x</script>" in markdown


def test_card_shows_each_candidates_validation_figures_and_the_winner():
    markdown, html = render_model_card(_card("530121"))
    assert "lightgbm chosen: validation average precision 0.350." in markdown
    assert "| candidate | validation AP | lead over baseline |" in markdown
    assert "| rule_score | 0.210 | 0.000 | 0.000 |  |  |" in markdown
    assert "| lightgbm | 0.350 | 0.140 | 0.020 | 0.020 | yes |" in markdown
    assert "| year | fitted on | n | poor examples | poor households | AP rule_score |" in markdown
    assert "| 2024 | 2017-2023 | 2,000 | 180 | 45 | 0.220 | 0.290 | 0.340 |" in markdown
    assert "<td>logistic</td><td>0.300</td>" in html
    assert "on at least 30 poor households" in markdown
    assert "trials finished: 3" in markdown


def test_card_of_a_linear_winner_without_tuning_says_so():
    card = replace(
        _card("530121"),
        model_kind="linear",
        chosen_candidate="logistic",
        choice_summary="logistic chosen",
        choice=CHOICE.iloc[1:2].assign(chosen=True),
        tuning={},
    )
    markdown, html = render_model_card(card)
    for text in (markdown, html):
        assert "No tuning: LightGBM was not a candidate." in text
        assert "trials finished" not in text
    assert "`logistic` (a linear model)" in markdown
    assert "<code>logistic</code> (a linear" in html


WIDE = pd.DataFrame(
    {
        "model": ["model", "logistic", "rule", "oracle"],
        "roc_auc": [0.8917, 0.8535, 0.6812, 0.9093],
        "average_precision": [0.3573, 0.2154, 0.0684, 0.5672],
        "brier": [0.0334, 0.0421, float("nan"), 0.0260],
        "ece": [0.0162, 0.0472, float("nan"), 0.0110],
        "recall_at_capacity": [0.5905, 0.4483, 0.8103, 0.6638],
        "precision_at_capacity": [0.25, 0.1898, 0.0745, 0.2810],
        "n_flagged": [548.0, 548.0, 2524.0, 274.0],
        "n": [5448.0, 5448.0, 5448.0, 2724.0],
        "base_rate": [0.0426] * 4,
    }
)


def test_the_card_names_the_model_as_the_sheets_do():
    registered = with_registration(_card("530121"), "models:/earlywarn/1")
    markdown, html = render_model_card(registered)
    assert "# Model card: earlywarn risk model earlywarn/1" in markdown
    assert "<title>Model card: earlywarn/1</title>" in html
    assert "The sheets and lists name this model <strong>earlywarn/1</strong>" in html
    assert "Training run v1" in markdown  # the run stays named beside it
    markdown, html = render_model_card(_card("530121"))
    assert "# Model card: earlywarn risk model run v1" in markdown
    assert "once registered, the sheets and lists name this model **earlywarn/N**" in markdown
    assert "核实单与名单上显示为<strong>earlywarn/版本号</strong>" in html


def test_the_card_opens_with_a_one_page_chinese_summary():
    card = replace(with_registration(_card("530121"), "models:/earlywarn/7"), comparison=WIDE)
    markdown, html = render_model_card(card)
    summary = render_card_summary(card)
    assert html.index('<section class="summary" lang="zh-CN">') < html.index("<h1>Model card")
    for page in (summary, html):
        assert "防返贫监测预警模型说明（摘要）" in page and "earlywarn/7" in page
        # the test year in plain words: the list's recall and the rule's, flagged counts
        assert "按核实能力预警548户次，可找到当年实际返贫户的59%" in page
        assert "现行规则预警2,524户次（为模型的4.6倍），找到返贫户的81%" in page
        assert "<td>本模型（earlywarn/7）</td>" in page
        assert "不作为认定监测对象或帮扶资格的依据" in page
    assert "## 中文摘要" in markdown and "梯度提升树（LightGBM）" in markdown
    assert "拟合2017-2023年，" in summary
    partly = replace(card, fit_years="2017-2023 and 50% of the households of 2024")
    assert "拟合2017-2023年及2024年50%的农户，" in render_card_summary(partly)


def _overflowing_tables(html: str) -> list[float]:
    """Widths (px) of the tables wider than an A4 page's content box when printed."""
    from weasyprint import HTML
    from weasyprint.formatting_structure.boxes import TableBox

    wide = []
    for page in HTML(string=html).render().pages:
        box = page._page_box
        limit = box.width + 0.5
        for child in box.descendants():
            if isinstance(child, TableBox) and child.margin_width() > limit:
                wide.append(child.margin_width())
    return wide


def test_the_cards_tables_fit_an_a4_page():
    subgroups = WIDE.rename(columns={"model": "value"}).assign(group="county")
    card = replace(
        _card("530121"),
        comparison=WIDE,
        subgroups=subgroups[["group", *WIDE.columns.str.replace("model", "value")]],
        by_month=subgroups.assign(group="as_of_month"),
    )
    _, html = render_model_card(card)
    assert "precision at capacity" in html and "precision_at_capacity" not in html
    assert _overflowing_tables(html) == []
    assert _overflowing_tables(render_card_summary(card)) == []


def test_a_model_refitted_after_calibration_says_so_in_every_language():
    """The calibration households were held out from the model the calibrator was fitted
    for, not from the model registered after the refit: the card must not claim otherwise."""
    card = _card("C01")
    plain_md, plain_html = render_model_card(card)
    assert "never used to fit the model it calibrated)." in plain_md
    assert "fitted again" not in plain_md + plain_html + render_card_summary(card)
    refitted = replace(card, refit_years="2017-2024")
    markdown, html = render_model_card(refitted)
    for page in (markdown, html):
        assert "the model was fitted again on every household of 2017-2024" in page
        assert "never used to fit the model it calibrated; the model was then fitted again" in page
    assert "校准后以2017-2024年全部农户重新拟合，沿用校准结果" in render_card_summary(refitted)


def test_the_chinese_summary_names_the_chosen_candidate_not_only_its_kind():
    """The rule's score is a linear model too: the summary must not call it plain logistic
    regression while listing the full logistic regression among the others."""
    choice = CHOICE.assign(chosen=[True, False, False])
    card = replace(_card("C01"), chosen_candidate="rule_score", model_kind="linear", choice=choice)
    summary = render_card_summary(card)
    assert "选用模型：规则收入比的逻辑回归，在验证年份上的平均精确率为0.210" in summary
    assert "其他候选：逻辑回归0.300，梯度提升树（LightGBM）0.350" in summary
