"""The model card renders in Markdown and HTML, and HTML escapes what data put in it."""

from __future__ import annotations

import pandas as pd

from earlywarn.model.card import ModelCard, render_model_card


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
