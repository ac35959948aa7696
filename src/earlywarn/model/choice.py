"""Which model to register: the rule's score, logistic regression or LightGBM, chosen out of
time on validation data only (never the test year).

Candidates, in the order the choice prefers them (:data:`CANDIDATES`):

- ``rule_score``: logistic regression on the one-line rule's own quantity, last round's
  per-capita net income over the line (:data:`RULE_FEATURE`, with a missing flag). It ranks
  households exactly as that ratio does;
- ``logistic``: logistic regression on every feature, each held within the range it was
  fitted on (:mod:`earlywarn.model.linear`);
- ``blend``: the tuned booster and the logistic regression averaged on the log-odds scale
  (:mod:`earlywarn.model.blend`): the trees' interactions with the line's steady slope;
- ``lightgbm``: the tuned booster alone.

Each validation year is scored by every candidate fitted only on the years before it: the
tuning folds' validation years (all their households) and the calibration year (its held-out
households; the candidates are not fitted on the calibration year's other households, whose
year-specific shocks the held-out ones share). A candidate's validation figure is its average
precision averaged over those years; pooling the years gives a choice several times the
evidence of one year, which matters most when few households fall back into poverty. (The
booster's settings were tuned on the folds' years, which favours it there; the rule below
leans the other way.)

The first candidate is the baseline (the rule's score, when it is a candidate). The best
of the others (the earlier in that order when two are within ``margin``) replaces it only
when it beats it clearly: by more than the larger of ``margin`` (config
``train.choice_margin``) and one standard error of the difference, from a paired bootstrap
over households within each year (the one-standard-error rule). With few poor households,
where average precision is noisy, a fitted model must win by a lot; with many, still by the
margin. The blend comes before the booster alone: on the validation years (ordinary years,
the booster's own tuning years) the two are often level, and where they are, the blend is
the safer bet for a year unlike them. On the generalisation harness (``docs/model-quality.md``)
the booster alone ranked a harsher test year than any before worse than the blend, and on a
thin registry the blend cleared the bar against the rule's score where neither part did.

Below :data:`MIN_POOR_HOUSEHOLDS` poor households over all validation years the bootstrap
itself is unreliable (few clusters: a resample cannot show how a household never seen poor
would rank), so the baseline is kept: on a small panel the model then ranks households as
the rule's own quantity does, and cannot lose to it by a lucky validation year. Every
candidate gives exact contributions, so the winner is explained like any.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import MODEL_CANDIDATES
from earlywarn.data.columns import HOUSEHOLD_ID, TARGET_YEAR
from earlywarn.errors import ModelError
from earlywarn.features.examples import Examples
from earlywarn.model.blend import BlendScorer
from earlywarn.model.bootstrap import (
    N_BOOTSTRAP,
    average_precision,
    bootstrap_average_precision,
    gap_standard_error,
)
from earlywarn.model.fit import fit_linear_model, fit_model
from earlywarn.model.linear import LinearScorer
from earlywarn.model.model_file import RiskModel
from earlywarn.model.search import TuneResult

log = logging.getLogger(__name__)

CANDIDATES = MODEL_CANDIDATES
"""The candidates in the order the choice prefers them (see module doc); named in the config."""
RULE_SCORE, LOGISTIC, BLEND, LIGHTGBM = CANDIDATES

RULE_FEATURE = "income_to_line_ratio_last_round"
"""The rule's quantity: last round's per-capita net income over that year's line."""

MIN_POOR_HOUSEHOLDS = 30
"""Fewest poor households (summed over the validation years) to choose a more complex
candidate on; the usual floor for cluster-bootstrap standard errors."""


@dataclass(frozen=True)
class ValidationYear:
    """One out-of-time check: each candidate fitted on ``fit_years`` and scored (raw log-odds)
    on the rows of ``year`` (``labels``, ``households``: one per row)."""

    year: int
    fit_years: tuple[int, ...]
    labels: np.ndarray
    households: np.ndarray
    scores: dict[str, np.ndarray]

    @property
    def has_both_classes(self) -> bool:
        return bool(self.labels.size) and bool(self.labels.min() != self.labels.max())


@dataclass(frozen=True)
class ModelChoice:
    """The validation figures of each candidate and the one chosen.

    ``table``: one row per candidate (in :data:`CANDIDATES` order, the first is the baseline):
    ``candidate``, ``average_precision`` (the mean over the validation years),
    ``lead_over_baseline``, its bootstrap ``lead_standard_error``, ``required_lead`` (max of
    ``margin`` and that error) and ``chosen``.
    ``years``: one row per validation year: ``year``, ``fitted_on`` (years), ``n`` examples,
    ``n_poor`` examples, ``n_poor_households`` and each candidate's average precision.
    ``reason`` says why the winner won.
    """

    winner: str
    table: pd.DataFrame
    years: pd.DataFrame
    margin: float
    reason: str

    def average_precision(self) -> dict[str, float]:
        """Mean validation average precision of each candidate."""
        return {
            str(row["candidate"]): float(row["average_precision"])
            for row in self.table.to_dict("records")
        }

    def lead(self) -> dict[str, float]:
        """How much the winner's validation average precision is above each other candidate's
        (negative: below it, within the allowed gap)."""
        scores = self.average_precision()
        return {
            name: scores[self.winner] - ap for name, ap in scores.items() if name != self.winner
        }

    def metrics(self) -> dict[str, float]:
        """``validation_average_precision_<candidate>`` and the winner's
        ``validation_lead_over_<candidate>`` for each other one."""
        metrics = {
            f"validation_average_precision_{k}": v for k, v in self.average_precision().items()
        }
        metrics |= {f"validation_lead_over_{k}": v for k, v in self.lead().items()}
        return metrics

    def summary(self) -> str:
        """One sentence: who won, on what, and by how much."""
        scores = self.average_precision()
        others = ", ".join(
            f"{name} {scores[name]:.3f} ({-lead:+.3f})" for name, lead in self.lead().items()
        )
        others = f"the others (difference to {self.winner}): {others}" if others else ""
        years = ", ".join(str(year) for year in self.years["year"])
        text = (
            f"{self.winner} chosen: validation average precision {scores[self.winner]:.3f} "
            f"(mean over {years}; {int(self.years['n'].sum()):,} examples, "
            f"{int(self.years['n_poor_households'].sum()):,} poor households)"
        )
        text = f"{text}; {others}" if others else text
        return f"{text}. {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """What the model file records about the choice."""
        return {
            "winner": self.winner,
            "margin": self.margin,
            "reason": self.reason,
            "candidates": self.table.to_dict("records"),
            "years": self.years.to_dict("records"),
        }


def _years(years: Sequence[int]) -> str:
    return f"{min(years)}-{max(years)}" if len(years) > 1 else str(years[0])


def ordered(candidates: Sequence[str]) -> tuple[str, ...]:
    """``candidates`` (names of :data:`CANDIDATES`) in the order the choice prefers, each once."""
    unknown = sorted(set(candidates) - set(CANDIDATES))
    if unknown or not candidates:
        raise ModelError(f"model candidates must be some of {list(CANDIDATES)}, not {unknown}")
    return tuple(name for name in CANDIDATES if name in candidates)


def fit_candidate(
    name: str,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    tuning: TuneResult | None,
    seed: int,
    num_threads: int,
    catalog_hash: str = "",
) -> RiskModel:
    """Fit candidate ``name`` on ``X``, ``y`` (uncalibrated); ``lightgbm`` and ``blend`` need
    ``tuning``."""
    return fit_candidates(
        (name,), X, y, tuning=tuning, seed=seed, num_threads=num_threads, catalog_hash=catalog_hash
    )[name]


def fit_candidates(
    names: Sequence[str],
    X: pd.DataFrame,
    y: pd.Series,
    *,
    tuning: TuneResult | None,
    seed: int,
    num_threads: int,
    catalog_hash: str = "",
) -> dict[str, RiskModel]:
    """Each candidate of ``names`` fitted on ``X``, ``y`` (uncalibrated); a blend reuses the
    booster and the logistic regression fitted for the others."""
    unknown = sorted(set(names) - set(CANDIDATES))
    if unknown:
        raise ModelError(f"unknown model candidates {unknown}; use some of {list(CANDIDATES)}")
    needed = set(names) | ({LIGHTGBM, LOGISTIC} if BLEND in names else set())
    fitted: dict[str, RiskModel] = {}
    if LIGHTGBM in needed:
        if tuning is None:
            raise ModelError("the lightgbm and blend candidates need a tuning result")
        fitted[LIGHTGBM] = fit_model(
            X,
            y,
            tuning.params,
            seed=seed,
            num_threads=num_threads,
            num_boost_round=tuning.num_boost_round,
            catalog_hash=catalog_hash,
        )
    if LOGISTIC in needed:
        fitted[LOGISTIC] = fit_linear_model(X, y, seed=seed, catalog_hash=catalog_hash)
    if RULE_SCORE in needed:
        if RULE_FEATURE not in X.columns:
            raise ModelError(f"the rule_score candidate needs the feature {RULE_FEATURE!r}")
        fitted[RULE_SCORE] = fit_linear_model(  # unclipped: ranks exactly as the rule
            X[[RULE_FEATURE]], y, seed=seed, catalog_hash=catalog_hash, clip=False
        )
    if BLEND in needed:
        booster, linear = fitted[LIGHTGBM], fitted[LOGISTIC]
        fitted[BLEND] = replace(
            booster, scorer=BlendScorer(booster=booster.booster, linear=_linear(linear))
        )
    return {name: fitted[name] for name in names}


def _linear(model: RiskModel) -> LinearScorer:
    if not isinstance(model.scorer, LinearScorer):
        raise ModelError(f"expected a linear scorer, found a {model.kind} model")
    return model.scorer


def validate_candidates(
    candidates: Sequence[str],
    folds: Sequence[tuple[Examples, Examples]],
    *,
    tuning: TuneResult | None,
    seed: int,
    num_threads: int,
) -> list[ValidationYear]:
    """Each (fitting, validation) pair of ``folds``: every candidate fitted on the fitting
    examples and scored on the validation ones (one target year). A fold whose fitting
    examples lack poor or non-poor households is left out."""
    years = []
    for fitting, validation in folds:
        fit_years = tuple(sorted(int(y) for y in fitting.keys[TARGET_YEAR].unique()))
        year = int(validation.keys[TARGET_YEAR].max())
        if fitting.labels.nunique() < 2:
            log.warning("model choice: no validation on %d (fitting years lack a class)", year)
            continue
        models = fit_candidates(
            ordered(candidates),
            fitting.features,
            fitting.labels,
            tuning=tuning,
            seed=seed,
            num_threads=num_threads,
        )
        scores = {name: m.predict_log_odds(validation.features) for name, m in models.items()}
        years.append(
            ValidationYear(
                year=year,
                fit_years=fit_years,
                labels=validation.labels.to_numpy(dtype=float),
                households=validation.keys[HOUSEHOLD_ID].astype(str).to_numpy(),
                scores=scores,
            )
        )
    return years


def choose_model(
    years: Sequence[ValidationYear],
    *,
    margin: float,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
) -> ModelChoice:
    """The best candidate on mean validation average precision over ``years`` if it beats
    the baseline (the first) by more than max(``margin``, one bootstrap standard error)
    on enough poor households, else the baseline (see module doc). Deterministic for a given
    ``seed``."""
    usable = [year for year in years if year.has_both_classes]
    if not usable:
        raise ModelError(
            "no validation year (tuning folds, calibration year) has both poor and non-poor "
            "households to choose a model on; supply more years or households"
        )
    names = ordered(list(usable[0].scores))
    per_year = {
        name: np.array([average_precision(y.labels, y.scores[name]) for y in usable])
        for name in names
    }
    table = _lead_table(usable, per_year, names, margin=margin, seed=seed, n_bootstrap=n_bootstrap)
    years_table = _years_table(usable, per_year)
    winner, reason = _winner(table, int(years_table["n_poor_households"].sum()), margin)
    table["chosen"] = table["candidate"] == winner
    choice = ModelChoice(
        winner=winner, table=table, years=years_table, margin=margin, reason=reason
    )
    log.info("model choice: %s", choice.summary())
    return choice


def _lead_table(
    years: Sequence[ValidationYear],
    per_year: Mapping[str, np.ndarray],
    names: tuple[str, ...],
    *,
    margin: float,
    seed: int,
    n_bootstrap: int,
) -> pd.DataFrame:
    """Each candidate's mean average precision and its lead over the baseline (``names[0]``),
    with the lead's bootstrap standard error and the lead required to replace the baseline."""
    rng = np.random.default_rng(seed)
    replicates = [
        bootstrap_average_precision(
            y.labels, y.scores, y.households, n_bootstrap=n_bootstrap, rng=rng
        )
        for y in years
    ]
    with warnings.catch_warnings():  # a resample without a poor household in some year
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_replicates = {
            name: np.nanmean(np.stack([r[name] for r in replicates]), axis=0) for name in names
        }
    baseline = names[0]
    rows = []
    for name in names:
        error = gap_standard_error(mean_replicates[name], mean_replicates[baseline])
        rows.append(
            {
                "candidate": name,
                "average_precision": float(per_year[name].mean()),
                "lead_over_baseline": float(per_year[name].mean() - per_year[baseline].mean()),
                "lead_standard_error": error,
                "required_lead": max(margin, error) if name != baseline else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _winner(table: pd.DataFrame, n_poor_households: int, margin: float) -> tuple[str, str]:
    """The chosen candidate of a :func:`_lead_table` and why."""
    baseline = str(table["candidate"].iloc[0])
    if len(table) == 1:
        return baseline, "The only candidate"
    challengers = table.iloc[1:]
    best_ap = challengers["average_precision"].max()
    challenger = challengers[challengers["average_precision"] >= best_ap - margin].iloc[0]
    name, lead = str(challenger["candidate"]), float(challenger["lead_over_baseline"])
    if n_poor_households < MIN_POOR_HOUSEHOLDS:
        return baseline, (
            f"Only {n_poor_households} poor households to validate on (fewer than "
            f"{MIN_POOR_HOUSEHOLDS}): too little evidence to replace the baseline {baseline}"
        )
    if lead > challenger["required_lead"]:
        return name, (
            f"{name} leads the baseline {baseline} by {lead:.3f}, more than the required "
            f"{challenger['required_lead']:.3f} (the larger of the margin {margin:g} and one "
            "standard error of the lead)"
        )
    return baseline, (
        f"The best other candidate, {name}, leads the baseline by {lead:.3f}, not more than "
        f"the required {challenger['required_lead']:.3f} (the larger of the margin {margin:g} "
        "and one standard error of the lead)"
    )


def _years_table(
    years: Sequence[ValidationYear], per_year: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """One row per validation year: what it was fitted on, its size and each candidate's AP."""
    return pd.DataFrame(
        {
            "year": [y.year for y in years],
            "fitted_on": [_years(y.fit_years) for y in years],
            "n": [len(y.labels) for y in years],
            "n_poor": [int(y.labels.sum()) for y in years],
            "n_poor_households": [len(set(y.households[y.labels == 1])) for y in years],
            **{f"average_precision_{name}": values for name, values in per_year.items()},
        }
    )
