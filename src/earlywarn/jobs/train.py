"""The training job: read the tables -> train and compare (:mod:`earlywarn.model`) -> write the
model and its card -> log the run to MLflow."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from matplotlib.figure import Figure
from sqlalchemy.exc import SQLAlchemyError

from earlywarn.config import Config, Population, config_hash
from earlywarn.data.columns import AS_OF
from earlywarn.data.contract import TABLES
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import atomic_path, check_writable, fingerprint_frame, write_text_atomic
from earlywarn.data.tables import Tables
from earlywarn.explain.contributions import contributions, shap_summary_png
from earlywarn.features.catalog import catalog_frame
from earlywarn.model import search as search_module
from earlywarn.model.card import (
    ModelCard,
    render_card_summary,
    render_model_card,
    training_card,
    with_registration,
)
from earlywarn.model.charts import precision_recall_figure, reliability_figure
from earlywarn.model.comparison import MODEL, RULE, YearComparison, compare_on_test_year, metric_key
from earlywarn.model.model_file import RiskModel, save_model
from earlywarn.model.search import record_run
from earlywarn.model.training import TrainedModel, model_metadata, train_risk_model
from earlywarn.scoring.drift import drift_reference

log = logging.getLogger(__name__)

SHAP_SAMPLE_ROWS = 2_000


@dataclass(frozen=True)
class TrainingResult:
    """What ``earlywarn train`` produced: the saved model, its test-year comparison, the URI.

    ``comparison`` has one row per score (model, logistic, rule, oracle when truth exists) on
    the test year; ``choice`` the validation figures of each candidate and which won;
    ``oracle_gap`` is the model's average precision minus the oracle's on the rows where the
    oracle is known (None without truth). ``model_uri`` is the registered model's URI when
    tracked, else the model directory.
    """

    model: RiskModel
    model_dir: Path
    model_uri: str
    run_id: str | None
    comparison: pd.DataFrame
    choice: pd.DataFrame
    oracle_gap: float | None
    test_year: int
    metrics: dict[str, float]
    tuning_history: pd.DataFrame | None
    artifacts: dict[str, Path]


def run_training(
    cfg: Config,
    data_dir: Path,
    *,
    out_dir: Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
) -> TrainingResult:
    """Read a data directory (and its truth.parquet, if simulated) and train on it: see
    :func:`train_on_tables`."""
    if track:  # fail before reading anything when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    check_writable(Path(out_dir) if out_dir is not None else cfg.train.models_dir, folder=True)
    data_dir = Path(data_dir)
    truth_path = data_dir / "truth.parquet"
    return train_on_tables(
        cfg,
        read_tables(data_dir, mapping=cfg.data.mapping),
        truth=pd.read_parquet(truth_path) if truth_path.is_file() else None,
        out_dir=out_dir,
        trials=trials,
        population=population,
        track=track,
        data_dir=data_dir,
    )


def train_on_tables(
    cfg: Config,
    tables: Tables,
    *,
    truth: pd.DataFrame | None = None,
    out_dir: Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
    data_dir: Path | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Train, calibrate and compare the risk model on ``tables``; save and track it.

    ``truth`` is the simulator's oracle (household_id, as_of, oracle_probability), if any.
    The model goes to ``out_dir`` (default ``models/<run-name>``), the card, plots and tables
    to ``<out_dir>_card/``; the study to ``cfg.tune.storage`` (default ``tuning.sqlite3``
    beside the model directory) so that an interrupted tuning resumes. ``progress`` shows a
    line per tuning trial on stderr. ``data_dir`` (where ``tables`` were read) is the source
    of the run's input datasets. ``track=False`` (tests only) skips MLflow.
    """
    if track:  # fail before any tuning when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    population = population or cfg.data.population
    fingerprints = {name: fingerprint_frame(getattr(tables, name)) for name in TABLES}
    run_name = cfg.train.run_name or f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{config_hash(cfg)[:8]}"
    model_dir = Path(out_dir) if out_dir is not None else cfg.train.models_dir / run_name
    storage_path = cfg.tune.storage or model_dir.parent / "tuning.sqlite3"
    storage_path.parent.mkdir(parents=True, exist_ok=True)

    storage_url = f"sqlite:///{Path(storage_path).resolve()}"
    with tuning_progress(enabled=progress):
        trained = train_risk_model(
            tables, cfg, population=population, storage_url=storage_url, n_trials=trials
        )
    year = compare_on_test_year(tables, trained, truth=truth, cfg=cfg)
    metrics = {**year.test_metrics(), **trained.metrics(), **year.subgroup_metrics()}
    model = replace(
        trained.model,
        metadata=_metadata(trained, year, cfg, run_name, population, fingerprints),
    )
    save_model(model, model_dir)
    card_dir = model_dir.with_name(f"{model_dir.name}_card")
    artifacts, card = _write_card(card_dir, trained, year, cfg, run_name, population)
    summary = card_summary(card, year.test_metrics())

    model_uri, run_id = str(model_dir), None
    if track:
        model_uri, run_id = _log_run(
            cfg,
            trained,
            model,
            model_dir,
            run_name=run_name,
            population=population,
            fingerprints=fingerprints,
            metrics=metrics,
            artifacts=artifacts,
            inputs=TrainingInputs(
                table_columns={name: getattr(tables, name).head(0) for name in TABLES},
                data_source=str(Path(data_dir).resolve()) if data_dir is not None else None,
                storage_url=storage_url,
                summary=summary,
            ),
            after_registration=lambda uri: _write_card_texts(
                card_dir, with_registration(card, uri)
            ),
        )
    log.info("training finished in %.1f s: %s", time.perf_counter() - started, model_uri)
    return TrainingResult(
        model=model,
        model_dir=model_dir,
        model_uri=model_uri,
        run_id=run_id,
        comparison=year.comparison,
        choice=trained.choice.table,
        oracle_gap=year.oracle_gap,
        test_year=trained.split.test_year,
        metrics=metrics,
        tuning_history=trained.tuning.history if trained.tuning is not None else None,
        artifacts=artifacts,
    )


def _metadata(
    trained: TrainedModel,
    year: YearComparison,
    cfg: Config,
    run_name: str,
    population: Population,
    fingerprints: dict[str, str],
) -> dict[str, Any]:
    """The model file's record of its training, with the drift reference scoring needs."""
    columns = list(trained.model.feature_names)
    rows = pd.concat([trained.fit.features, trained.calibration.features], ignore_index=True)
    rows = rows.loc[:, columns]
    as_of = pd.concat([trained.fit.keys[AS_OF], trained.calibration.keys[AS_OF]], ignore_index=True)
    return {
        **model_metadata(
            trained,
            cfg,
            run_name=run_name,
            population=population,
            table_fingerprints=fingerprints,
            test_metrics=year.test_metrics(),
        ),
        # binned features and risk of every year before the test: counts of the latest year
        # per as-of month (what a run of that month is compared with) and each feature's
        # largest year-to-year change (its tolerance); see scoring/drift.py
        "drift_reference": drift_reference(
            rows, trained.model.predict_risk(rows), as_of=as_of, n_bins=cfg.drift.n_bins
        ),
    }


def _write_card(
    card_dir: Path,
    trained: TrainedModel,
    year: YearComparison,
    cfg: Config,
    run_name: str,
    population: Population,
) -> tuple[dict[str, Path], ModelCard]:
    """The plots, evaluation tables and model card, in ``card_dir``: (run path -> file, the
    card)."""
    card_dir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Path] = {}
    figures = {
        "precision_recall": precision_recall_figure(year.labels, year.scores),
        "reliability": reliability_figure(year.labels, year.risks),
    }
    for name, figure in figures.items():
        artifacts[f"plots/{name}.png"] = _save_figure(figure, card_dir / f"{name}.png")
    test = trained.test
    shap_sample = test.features.sample(
        n=min(SHAP_SAMPLE_ROWS, len(test)), random_state=cfg.tune.seed
    )
    shap_png = shap_summary_png(contributions(trained.model, shap_sample), shap_sample)
    with atomic_path(card_dir / "shap_summary.png") as staged:
        staged.write_bytes(shap_png)
    artifacts["plots/shap_summary.png"] = card_dir / "shap_summary.png"
    plots = {name: f"{name}.png" for name in (*figures, "shap_summary")}
    tables = {
        "comparison": year.comparison,
        "model_choice": trained.choice.table,
        "model_choice_years": trained.choice.years,
        "subgroups": year.subgroups,
        "subgroup_gaps": year.gaps,
        "by_month": year.by_month,
        "reliability": year.reliability,
    }
    if trained.tuning is not None:
        tables["tuning_history"] = trained.tuning.history
    for name, frame in tables.items():
        write_text_atomic(frame.to_csv(index=False), card_dir / f"{name}.csv")
        artifacts[f"evaluation/{name}.csv"] = card_dir / f"{name}.csv"
    card = training_card(
        trained,
        year,
        cfg,
        run_name=run_name,
        created=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        population=population,
        plots=plots,
    )
    artifacts |= _write_card_texts(card_dir, card)
    return artifacts, card


def _write_card_texts(card_dir: Path, card: ModelCard) -> dict[str, Path]:
    """The model card in Markdown and HTML and its one-page zh-CN summary, in ``card_dir``:
    run path -> file. Written again once the model is registered, to name its version."""
    markdown, html = render_model_card(card)
    files = {
        "model_card.md": markdown,
        "model_card.html": html,
        "model_card.zh-CN.html": render_card_summary(card),
    }
    for name, text in files.items():
        write_text_atomic(text, card_dir / name)
    return {name: card_dir / name for name in files}


def card_summary(card: ModelCard, test_metrics: dict[str, float]) -> str:
    """A few lines saying what the model is and how it did: the registered version's
    description."""
    model_ap = test_metrics.get(metric_key("average_precision", MODEL), float("nan"))
    rule_ap = test_metrics.get(metric_key("average_precision", RULE), float("nan"))
    verdict = "beats" if model_ap > rule_ap else "does not beat"
    return (
        f"earlywarn risk model {card.model_version} ({card.model_kind}, {card.calibration_method}"
        f" calibration; {card.chosen_candidate} chosen on the validation years): the probability"
        f" that a household of population '{card.population}' is poor in the year of the as-of"
        f" date. Target years {card.data_window}; fitted on {card.fit_years}, calibrated on "
        f"{card.calibration_year}, tested on {card.test_year}. Test-year average precision "
        f"{model_ap:.3f} vs {rule_ap:.3f} for the current rule: it {verdict} the rule. Ranks "
        "households for caseworker visits; it does not decide eligibility for assistance. "
        "The model card (model_card.md in the run) has the rest."
    )


def _log_run(
    cfg: Config,
    trained: TrainedModel,
    model: RiskModel,
    model_dir: Path,
    *,
    run_name: str,
    population: Population,
    fingerprints: dict[str, str],
    metrics: dict[str, float],
    artifacts: dict[str, Path],
    inputs: TrainingInputs,
    after_registration: Callable[[str], Mapping[str, Path]] | None = None,
) -> tuple[str, str]:
    """Log the run and register the model (alias ``candidate``), and record the run in the
    tuning study: (registered URI, run id)."""
    from earlywarn.tracking import StudyRef, log_training_run

    tuning = trained.tuning
    study = StudyRef(inputs.storage_url, tuning.study_name) if tuning is not None else None
    if tuning is not None:  # the run's config names the study's real storage and name
        cfg = cfg.model_copy(
            update={
                "tune": cfg.tune.model_copy(
                    update={
                        "storage": Path(inputs.storage_url.removeprefix("sqlite:///")),
                        "study_name": tuning.study_name,
                    }
                )
            }
        )
    booster_params = (
        {
            **tuning.params,
            "num_boost_round": tuning.num_boost_round,
            "study_name": tuning.study_name,
            "chosen_trial": tuning.chosen_trial,
        }
        if tuning is not None
        else {}
    )
    ref = log_training_run(
        config=cfg,
        model=model,
        model_dir=model_dir,
        metrics=metrics,
        params={
            **booster_params,
            "population": population,
            "model_kind": model.kind,
            "model_choice": trained.choice.winner,
        },
        table_fingerprints=fingerprints,
        artifacts=artifacts,
        input_example=trained.test.features.head(5),
        tuning_history=tuning.history if tuning is not None else None,
        feature_catalog=catalog_frame(),
        run_name=run_name,
        description=inputs.summary,
        study=study,
        table_columns=inputs.table_columns,
        data_source=inputs.data_source,
        after_registration=after_registration,
    )
    if study is not None:
        try:
            record_run(study.storage, study.name, ref.run_id)
        except (optuna.exceptions.OptunaError, SQLAlchemyError, OSError) as err:
            log.warning("could not record run %s in study %s: %s", ref.run_id, study.name, err)
    return ref.registered_uri, ref.run_id


@dataclass(frozen=True)
class TrainingInputs:
    """What the run records beside the model: the input tables' columns (no rows) and where
    they were read, the tuning study's storage, the model card's summary."""

    table_columns: dict[str, pd.DataFrame]
    data_source: str | None
    storage_url: str
    summary: str


@contextmanager
def tuning_progress(*, enabled: bool) -> Iterator[None]:
    """Show the search's per-trial lines (:class:`~earlywarn.model.search.TrialProgress`) on
    stderr while the block runs, whatever the logging setup; nothing when not ``enabled``."""
    logger = logging.getLogger(search_module.__name__)
    if not enabled or (logger.isEnabledFor(logging.INFO) and logging.getLogger().handlers):
        yield  # already shown (verbose) or not wanted
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _save_figure(figure: Figure, target: Path) -> Path:
    with atomic_path(target) as staged:
        figure.savefig(staged, format="png")
    return target
