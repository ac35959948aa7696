"""The model card of a training run, in Markdown and HTML, from Jinja templates.

The card states the intended use, the data window and population, which kind of model was
chosen on the validation year and by how much, the metrics of the model side by side with the
rule, logistic regression and (on simulated data) the oracle, the
subgroup table, the calibration and the limitations: fixed caveats plus what the run measured.
The HTML card opens with a one-page summary in Chinese for county officials
(:func:`render_card_summary` gives it as a page of its own) and prints on A4. It names the
model as the sheets do (``earlywarn/1``) once it is registered (:func:`with_registration`).
HTML is autoescaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from earlywarn.config import Config, Population, config_hash
from earlywarn.features.examples import Split
from earlywarn.model.card_summary import card_summary
from earlywarn.model.choice import MIN_POOR_HOUSEHOLDS
from earlywarn.model.comparison import YearComparison
from earlywarn.model.training import TrainedModel
from earlywarn.resources import templates


@dataclass(frozen=True)
class ModelCard:
    """What the card says; frames are shown as tables (rows as given)."""

    model_version: str
    created: str
    population: str
    data_window: str
    fit_years: str
    calibration_year: int
    test_year: int
    as_of_months: str
    n_examples: dict[str, int]
    model_kind: str
    chosen_candidate: str
    choice_summary: str
    choice: pd.DataFrame
    choice_years: pd.DataFrame
    comparison: pd.DataFrame
    subgroups: pd.DataFrame
    gaps: pd.DataFrame
    by_month: pd.DataFrame
    reliability: pd.DataFrame
    calibration_method: str
    tuning: dict[str, Any]
    explanation_rate: float
    config_hash: str
    catalog_hash: str
    limitations: tuple[str, ...] = ()
    plots: dict[str, str] = field(default_factory=dict)
    registered_as: str = ""
    """The name scores and sheets give the model (``earlywarn/1``); empty until registered."""
    registry_name: str = "earlywarn"
    """The registered model it is registered under (its versions read ``earlywarn/N``)."""
    oracle_gap: float | None = None
    refit_years: str = ""
    """The years the model was fitted on again after calibration, the calibrator kept
    (``train.refit_on_calibration_year``: every year before the test year); empty if not."""

    @property
    def model_name(self) -> str:
        """The model's name as the sheets print it, else (not yet registered) its run's."""
        return self.registered_as or f"run {self.model_version}"


def with_registration(card: ModelCard, registered_uri: str) -> ModelCard:
    """The card naming its model as scores and sheets do: ``models:/earlywarn/1`` ->
    ``earlywarn/1`` (the run stays named beside it)."""
    name = registered_uri.removeprefix("models:/")
    return replace(card, registered_as=name)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    return str(value)


COUNT_COLUMNS = ("n", "n_flagged", "n_groups", "bin", "poor examples", "poor households")
HEADINGS = {
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "brier": "Brier score",
    "ece": "calibration error",
    "recall_at_capacity": "recall at capacity",
    "precision_at_capacity": "precision at capacity",
    "n_flagged": "flagged",
    "base_rate": "share poor",
    "n_groups": "groups",
    "average_precision_gap": "AP gap",
    "roc_auc_gap": "ROC AUC gap",
    "recall_at_capacity_gap": "recall gap",
    "ece_gap": "calibration error gap",
    "mean_risk": "mean risk",
    "observed_rate": "share poor",
}
"""Readable column headings (they wrap, so the tables fit an A4 page)."""
CHOICE_COLUMNS = {
    "candidate": "candidate",
    "average_precision": "validation AP",
    "lead_over_baseline": "lead over baseline",
    "lead_standard_error": "its standard error",
    "required_lead": "lead required",
    "chosen": "chosen",
}


def _rows(frame: pd.DataFrame) -> dict[str, Any]:
    counts = [str(c) in COUNT_COLUMNS for c in frame.columns]
    return {
        "columns": [HEADINGS.get(str(c), str(c)) for c in frame.columns],
        "rows": [
            [
                f"{int(v):,}" if is_count and pd.notna(v) else _fmt(v)
                for v, is_count in zip(row, counts, strict=True)
            ]
            for row in frame.itertuples(index=False)
        ],
    }


def _choice_table(choice: pd.DataFrame) -> pd.DataFrame:
    """The choice table with readable headers and ``yes`` for the winner."""
    shown = choice.assign(chosen=choice["chosen"].map({True: "yes", False: ""}))
    return shown.rename(columns=CHOICE_COLUMNS)


def _choice_years_table(years: pd.DataFrame) -> pd.DataFrame:
    """The validation years with readable headers (``AP <candidate>`` per candidate)."""
    names = {
        "fitted_on": "fitted on",
        "n_poor": "poor examples",
        "n_poor_households": "poor households",
    }
    for column in years.columns:
        if column.startswith("average_precision_"):
            names[column] = f"AP {column.removeprefix('average_precision_')}"
    return years.rename(columns=names)


def render_model_card(card: ModelCard) -> tuple[str, str]:
    """The card as (markdown, html)."""
    context = {
        "card": card,
        "comparison": _rows(card.comparison),
        "choice": _rows(_choice_table(card.choice)),
        "choice_years": _rows(_choice_years_table(card.choice_years)),
        "subgroups": _rows(card.subgroups),
        "gaps": _rows(card.gaps),
        "by_month": _rows(card.by_month),
        "reliability": _rows(card.reliability),
        "fmt": _fmt,
        "min_poor_households": MIN_POOR_HOUSEHOLDS,
    }
    env = templates()
    summary = card_summary(card)
    markdown = env.get_template("model_card.md.j2").render(**context, zh=summary)
    html = env.get_template("model_card.html.j2").render(**context, zh=summary)
    return markdown, html


def render_card_summary(card: ModelCard) -> str:
    """The one-page Chinese summary of the card as an HTML page of its own."""
    return (
        templates()
        .get_template("model_card_zh.html.j2")
        .render(card=card, zh=card_summary(card), fmt=_fmt)
    )


def training_card(
    trained: TrainedModel,
    year: YearComparison,
    cfg: Config,
    *,
    run_name: str,
    created: str,
    population: Population,
    plots: dict[str, str],
) -> ModelCard:
    """The card of a training run (``plots``: figure name -> file name beside the card)."""
    split, years = trained.split, trained.target_years
    return ModelCard(
        model_version=run_name,
        created=created,
        population=population,
        data_window=f"{min(years)}-{max(years)}",
        fit_years=_fit_years(split, cfg.train.calibration_share),
        calibration_year=split.calibration_year,
        test_year=split.test_year,
        as_of_months=", ".join(map(str, cfg.train.as_of_months)),
        n_examples={
            "fit": len(trained.fit),
            "calibration": len(trained.calibration),
            "test": len(trained.test),
        },
        model_kind=trained.model.kind,
        chosen_candidate=trained.choice.winner,
        choice_summary=trained.choice.summary(),
        choice=trained.choice.table,
        choice_years=trained.choice.years,
        comparison=year.comparison,
        subgroups=year.subgroups,
        gaps=year.gaps,
        by_month=year.by_month,
        reliability=year.reliability,
        calibration_method=cfg.train.calibration,
        tuning=trained.tuning_summary(),
        explanation_rate=trained.explanation_rate,
        config_hash=config_hash(cfg),
        catalog_hash=trained.model.catalog_hash,
        limitations=limitations(year.oracle_gap, year.gaps),
        plots=plots,
        oracle_gap=year.oracle_gap,
        registry_name=cfg.tracking.registered_model,
        refit_years=(
            f"{min(split.fit_years)}-{split.calibration_year}"
            if cfg.train.refit_on_calibration_year
            else ""
        ),
    )


def _fit_years(split: Split, calibration_share: float | None) -> str:
    """``2017-2023``, plus the share of the calibration year's households that also fit."""
    years = f"{min(split.fit_years)}-{max(split.fit_years)}"
    if calibration_share is not None and calibration_share < 1:
        years += f" and {1 - calibration_share:.0%} of the households of {split.calibration_year}"
    return years


def limitations(oracle_gap: float | None, gaps: pd.DataFrame) -> tuple[str, ...]:
    """The model card's limitations: fixed caveats plus what this run measured."""
    items = [
        "Trained on past target years; a new poverty line, a new assistance policy or a shock "
        "unlike past ones (a pandemic) can change who becomes poor faster than the model learns.",
        "Income comes from yearly survey rounds: a household's situation between rounds is "
        "known only through reported events, so early-year scores rest mostly on last year.",
        "A place enters only through what is known about it at the date (last year's poverty "
        "rates, this year's shocks among its households), never its name: a village with few "
        "households has noisy rates.",
        "Subgroup gaps are measured on one test year; small groups vary a lot by chance.",
    ]
    if oracle_gap is not None:
        items.append(
            f"On simulated data the model's average precision is {oracle_gap:+.3f} "
            "from the oracle's (which knows the simulated world's state)."
        )
    if not gaps.empty and "average_precision_gap" in gaps.columns:
        worst = gaps.sort_values("average_precision_gap", ascending=False).iloc[0]
        if pd.notna(worst["average_precision_gap"]):
            items.append(
                f"Largest subgroup gap in average precision: "
                f"{worst['average_precision_gap']:.3f} across {worst['group']}."
            )
    return tuple(items)
