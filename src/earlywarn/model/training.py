"""Train the risk model: examples at past as-of dates -> out-of-time split -> tune -> choose
among the candidates -> fit -> calibrate.

The last labelled target year is the test year (never tuned, calibrated or chosen on), the
one before calibrates, the rest fit (see :mod:`earlywarn.features.examples`); the choice of
model (:mod:`earlywarn.model.choice`) validates on the tuning folds' years and the
calibration year. The only state outside memory is the Optuna study at ``storage_url``, so
that an interrupted tuning resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from earlywarn import __version__ as earlywarn_version
from earlywarn.config import Config, Population, TrainConfig, config_hash
from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, TARGET_YEAR
from earlywarn.data.storage import fingerprint_frame
from earlywarn.data.tables import Tables
from earlywarn.features.catalog import catalog_hash
from earlywarn.features.examples import (
    Examples,
    Split,
    as_of_dates,
    build_examples,
    labelled_target_years,
    split_out_of_time,
)
from earlywarn.model.choice import (
    BLEND,
    LIGHTGBM,
    ModelChoice,
    choose_model,
    fit_candidate,
    ordered,
    validate_candidates,
)
from earlywarn.model.evaluate import expected_calibration_error
from earlywarn.model.fit import calibrate
from earlywarn.model.model_file import RiskModel
from earlywarn.model.search import (
    SEARCH_SPACE_VERSION,
    SearchBounds,
    TuneResult,
    effective_leaves,
    search,
)

log = logging.getLogger(__name__)

# settings that change which trials a study runs (others, like the trial count, only how many)
_STUDY_TUNE_EXCLUDE = {"n_trials", "timeout_seconds", "storage", "study_name", "num_threads"}
_STUDY_TRAIN_INCLUDE = {
    "max_boost_rounds",
    "early_stopping_rounds",
    "n_valid_years",
    "as_of_months",
    "calibration_share",
    "first_target_year",
    "last_target_year",
}


@dataclass(frozen=True)
class TrainedModel:
    """The calibrated risk model and what it was trained, tuned, chosen and calibrated on.

    ``fit``, ``calibration`` and ``test`` are the examples of each part of ``split``;
    ``target_years`` every labelled target year used. ``tuning`` is the LightGBM candidate's
    search (None when it is not a candidate), ``choice`` how the registered kind was chosen.
    The calibration errors are measured on the calibration examples before and after
    calibrating; ``explanation_rate`` is households explained per second (exact
    contributions on test-year rows).
    """

    model: RiskModel
    target_years: tuple[int, ...]
    split: Split
    fit: Examples
    calibration: Examples
    test: Examples
    tuning: TuneResult | None
    choice: ModelChoice
    ece_before_calibration: float
    ece_after_calibration: float
    explanation_rate: float

    @property
    def n_trials(self) -> int:
        """Trials of the study that finished (complete, pruned or failed); 0 without one."""
        if self.tuning is None:
            return 0
        return int((self.tuning.history["state"] != "RUNNING").sum())

    def chosen_params(self) -> dict[str, Any]:
        """The sampled parameters of the trial the LightGBM candidate was fitted with."""
        if self.tuning is None:
            return {}
        chosen = self.tuning.history.set_index("number").loc[self.tuning.chosen_trial]
        return {k.removeprefix("param_"): v for k, v in chosen.items() if k.startswith("param_")}

    def tuning_summary(self) -> dict[str, Any]:
        """Trials, best and chosen trial and value, and the chosen booster's size (empty
        without tuning)."""
        tuning, chosen = self.tuning, self.chosen_params()
        if tuning is None:
            return {}
        return {
            "n_trials": self.n_trials,
            "best_value": tuning.best_value,
            "best_trial": tuning.best_trial,
            "chosen_trial": tuning.chosen_trial,
            "chosen_value": tuning.chosen_value,
            "num_boost_round": tuning.num_boost_round,
            "num_leaves": effective_leaves(chosen),
            "max_depth": chosen.get("max_depth"),
        }

    def metrics(self) -> dict[str, float]:
        """Tuning, choice, size, explanation speed, calibration and example counts, as run
        metrics."""
        tuning = (
            {
                "tune_best_value": self.tuning.best_value,
                "tune_chosen_value": self.tuning.chosen_value,
                "tune_n_trials": float(self.n_trials),
            }
            if self.tuning is not None
            else {}
        )
        return {
            **tuning,
            **self.choice.metrics(),
            **self.model.size(),
            "explanation_rate_households_per_second": self.explanation_rate,
            "calibration_ece_before": self.ece_before_calibration,
            "calibration_ece_after": self.ece_after_calibration,
            "n_examples_fit": float(len(self.fit)),
            "n_examples_calibration": float(len(self.calibration)),
            "n_examples_test": float(len(self.test)),
        }


def target_years(tables: Tables, cfg: TrainConfig) -> list[int]:
    """Labelled target years within ``first_target_year``..``last_target_year`` if set."""
    return [
        year
        for year in labelled_target_years(tables)
        if (cfg.first_target_year is None or year >= cfg.first_target_year)
        and (cfg.last_target_year is None or year <= cfg.last_target_year)
    ]


def study_name(cfg: Config, population: str, examples: Examples) -> str:
    """Stable across reruns of the same examples and search settings (so tuning resumes)."""
    settings = json.dumps(
        {
            "tune": cfg.tune.model_dump(mode="json", exclude=_STUDY_TUNE_EXCLUDE),
            "train": cfg.train.model_dump(mode="json", include=_STUDY_TRAIN_INCLUDE),
            "population": population,
            "examples": fingerprint_frame(pd.concat([examples.keys, examples.labels], axis=1)),
            "search_space": SEARCH_SPACE_VERSION,
            "catalog": catalog_hash(),
        },
        sort_keys=True,
    )
    return f"earlywarn-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def train_risk_model(
    tables: Tables,
    cfg: Config,
    *,
    population: Population,
    storage_url: str | None,
    n_trials: int | None = None,
) -> TrainedModel:
    """Examples at ``cfg.train.as_of_months`` of every target year, split out of time; tune
    the booster (for the lightgbm and blend candidates) on the fitting years (``n_trials``
    overrides ``cfg.tune.n_trials``), choose among ``cfg.train.candidates`` on the validation
    years (the folds' years and the calibration year), fit the winner on the fitting examples,
    calibrate on the calibration examples (then, with ``refit_on_calibration_year``, fit it
    again on every year before the test year). The test year is only split off.
    Deterministic for a given seed."""
    years = target_years(tables, cfg.train)
    examples = build_examples(
        tables, as_of_dates(years, cfg.train.as_of_months), population=population
    )
    split, fit, calibration, test = split_examples(examples, cfg)
    candidates = ordered(cfg.train.candidates)
    tuning = None
    if {LIGHTGBM, BLEND} & set(candidates):
        tuning = search(
            fit.features,
            fit.labels,
            split.folds,
            cfg.tune,
            storage_url=storage_url,
            study_name=cfg.tune.study_name or study_name(cfg, population, examples),
            n_trials=n_trials,
            bounds=SearchBounds.of(cfg.train),
            households=fit.keys[HOUSEHOLD_ID].to_numpy(),
            months=pd.DatetimeIndex(fit.keys[AS_OF]).month.to_numpy(),
        )
    choice = choose_candidate(candidates, fit, calibration, split, tuning, cfg)
    model = fit_candidate(
        choice.winner,
        fit.features,
        fit.labels,
        tuning=tuning,
        seed=cfg.tune.seed,
        num_threads=cfg.tune.num_threads,
        catalog_hash=catalog_hash(),
    )
    y_calibration = calibration.labels.to_numpy(dtype=float)
    ece_before = expected_calibration_error(y_calibration, model.predict_risk(calibration.features))
    model = calibrate(model, calibration.features, calibration.labels, method=cfg.train.calibration)
    ece_after = expected_calibration_error(y_calibration, model.predict_risk(calibration.features))
    if cfg.train.refit_on_calibration_year:
        model = refit_before_test(model, choice.winner, fit, calibration, split, tuning, cfg)
    return TrainedModel(
        model=model,
        target_years=tuple(years),
        split=split,
        fit=fit,
        calibration=calibration,
        test=test,
        tuning=tuning,
        choice=choice,
        ece_before_calibration=ece_before,
        ece_after_calibration=ece_after,
        explanation_rate=households_explained_per_second(
            model, model.prepare(test.features), n_rows=cfg.train.explain_rate_rows
        ),
    )


def refit_before_test(
    model: RiskModel,
    winner: str,
    fit: Examples,
    calibration: Examples,
    split: Split,
    tuning: TuneResult | None,
    cfg: Config,
) -> RiskModel:
    """``winner`` fitted again on every example before the test year (the fitting examples and
    the calibration households, :func:`examples_before_test`), with ``model``'s calibrator:
    the model learns from the year just before the one it predicts in full, the calibrator
    stays fitted on households the model it calibrated had not seen. (The refitted model has
    seen a little more data, so its log-odds are a little sharper than those the calibrator
    was fitted on.)"""
    everything = examples_before_test(fit, calibration, split)
    refit = fit_candidate(
        winner,
        everything.features,
        everything.labels,
        tuning=tuning,
        seed=cfg.tune.seed,
        num_threads=cfg.tune.num_threads,
        catalog_hash=catalog_hash(),
    )
    log.info("refitted %s on %d examples before %d", winner, len(everything), split.test_year)
    return replace(refit, calibrator=model.calibrator)


def examples_before_test(fit: Examples, calibration: Examples, split: Split) -> Examples:
    """The fitting and calibration examples together, in the order of the examples they were
    taken from (``split.fit`` and ``split.calibration`` are their positions there)."""
    stacked = Examples(
        features=pd.concat([fit.features, calibration.features], ignore_index=True),
        labels=pd.concat([fit.labels, calibration.labels], ignore_index=True),
        keys=pd.concat([fit.keys, calibration.keys], ignore_index=True),
    )
    return stacked.take(np.argsort(np.concatenate([split.fit, split.calibration]), kind="stable"))


def split_examples(examples: Examples, cfg: Config) -> tuple[Split, Examples, Examples, Examples]:
    """The out-of-time split of ``examples`` and its fitting, calibration and test examples."""
    split = split_out_of_time(
        examples.keys,
        n_valid_years=cfg.train.n_valid_years,
        calibration_share=cfg.train.calibration_share,
        seed=cfg.tune.seed,
    )
    fit, calibration, test = (
        examples.take(split.fit),
        examples.take(split.calibration),
        examples.take(split.test),
    )
    log.info(
        "examples: fit %d (%s), calibration %d (%d), test %d (%d)",
        len(fit),
        split.fit_years,
        len(calibration),
        split.calibration_year,
        len(test),
        split.test_year,
    )
    return split, fit, calibration, test


def choose_candidate(
    candidates: tuple[str, ...],
    fit: Examples,
    calibration: Examples,
    split: Split,
    tuning: TuneResult | None,
    cfg: Config,
) -> ModelChoice:
    """Validate each candidate on the tuning folds' years and on the calibration examples,
    each fitted on the years before, and choose (:func:`~earlywarn.model.choice.choose_model`);
    the test year is not looked at."""
    before_calibration = fit.keys[TARGET_YEAR].to_numpy() < split.calibration_year
    folds = [(fit.take(train), fit.take(valid)) for train, valid in split.folds]
    folds.append((fit.take(np.flatnonzero(before_calibration)), calibration))
    years = validate_candidates(
        candidates,
        folds,
        tuning=tuning,
        seed=cfg.tune.seed,
        num_threads=cfg.tune.num_threads,
    )
    return choose_model(years, margin=cfg.train.choice_margin, seed=cfg.tune.seed)


def households_explained_per_second(
    model: RiskModel, features: pd.DataFrame, *, n_rows: int
) -> float:
    """Households explained per second by the model's exact contributions (first ``n_rows``)."""
    sample = features.iloc[: min(n_rows, len(features))]
    if sample.empty:
        return float("nan")
    start = time.perf_counter()
    model.log_odds_contributions(sample)
    return float(len(sample) / max(time.perf_counter() - start, 1e-9))


def model_metadata(
    trained: TrainedModel,
    cfg: Config,
    *,
    run_name: str,
    population: Population,
    table_fingerprints: dict[str, str],
    test_metrics: dict[str, float],
) -> dict[str, Any]:
    """What the model file records about its training: config, data, split, tuning, test
    metrics and versions (the job adds the drift reference)."""
    split, tuning = trained.split, trained.tuning
    booster = tuning if trained.model.kind in ("lightgbm", "blend") else None
    return {
        "config_hash": config_hash(cfg),
        "run_name": run_name,
        "population": population,
        "as_of_months": list(cfg.train.as_of_months),
        "fit_years": list(split.fit_years),
        "refit_on_calibration_year": cfg.train.refit_on_calibration_year,
        "calibration_year": split.calibration_year,
        "test_year": split.test_year,
        "model_kind": trained.model.kind,
        "model_choice": trained.choice.to_dict(),
        # the booster's settings, when the model is the booster
        "num_boost_round": booster.num_boost_round if booster is not None else None,
        "params": booster.params if booster is not None else None,
        "study_name": tuning.study_name if tuning is not None else None,
        "chosen_trial": tuning.chosen_trial if tuning is not None else None,
        "table_fingerprints": table_fingerprints,
        "earlywarn_version": earlywarn_version,
        "test_metrics": test_metrics,
        "explanation_rate_households_per_second": trained.explanation_rate,
    }
