"""The demo job: the whole path on the built-in default, simulate -> train -> promote ->
score -> report -> backtest."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from earlywarn.config import Config
from earlywarn.data.storage import check_writable
from earlywarn.errors import OutputError, PromotionRefused
from earlywarn.jobs.backtest import BacktestResult, run_backtest
from earlywarn.jobs.promote import run_promote
from earlywarn.jobs.report import ReportsResult, run_reports
from earlywarn.jobs.score import ScoringResult, run_scoring
from earlywarn.jobs.simulate import run_simulate
from earlywarn.jobs.train import TrainingResult, run_training
from earlywarn.jobs.validate import run_validate
from earlywarn.resources import RESOURCES

if TYPE_CHECKING:  # mlflow is imported only when a command needs it
    from earlywarn.tracking import Promotion

log = logging.getLogger(__name__)


DEMO_CONFIG = RESOURCES / "demo.yaml"


@dataclass(frozen=True)
class DemoResult:
    """Where ``earlywarn demo`` put each stage's output, and the headline figures."""

    data_dir: Path
    model_uri: str
    training: TrainingResult
    scores_path: Path
    scoring: ScoringResult
    reports: dict[str, ReportsResult]  # by language
    tracking_uri: str
    promotion: Promotion | None = None  # the model made champion, as ``promote`` would
    not_promoted: str | None = None  # why it was not (it did not beat the rule)
    backtest: BacktestResult | None = None  # the year's runs against its round


def run_demo(
    cfg: Config,
    out_dir: Path,
    *,
    as_of: pd.Timestamp | None = None,
    pdf: bool = False,
    langs: tuple[str, ...] = ("zh-CN", "en"),
    on_stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Simulated households -> validated tables -> trained model -> champion -> scores ->
    reports -> backtest.

    The trained version becomes ``champion`` when it beats the rule on the test year.
    Everything goes under ``out_dir``: ``data/`` (with truth.parquet), ``models/``,
    ``mlflow.db`` (unless ``MLFLOW_TRACKING_URI`` is set), ``scores.parquet`` and
    ``reports/<lang>/``. Scoring is as of ``as_of``, by default 1 July of the last simulated
    year: the warning for that year, from the survey rounds of the years before it and the
    events and assistance before 1 July. The same year is then scored (without reasons) on
    the 1st of January, April and October into the same score history, and ``backtest/``
    holds how good the year's four runs were against its survey round (the simulated data
    hold it: the year is the model's test year, never fitted on).
    """
    from earlywarn.tracking import configure

    out_dir = Path(out_dir).resolve()
    check_writable(out_dir, folder=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write {out_dir}: {err.strerror or err}") from err
    stage = on_stage or (lambda name: log.info("demo: %s", name))
    uri = configure(os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{out_dir}/mlflow.db")

    data_dir = out_dir / "data"
    stage(f"simulating {cfg.simulate.n_households:,} households into {data_dir}")
    run_simulate(
        data_dir,
        n_households=cfg.simulate.n_households,
        seed=cfg.simulate.seed,
        n_oracle_draws=cfg.simulate.n_oracle_draws,
        workers=cfg.simulate.oracle_workers,
        settings=cfg.simulate,
    )
    stage("validating the data directory against the data contract")
    run_validate(data_dir, mapping=cfg.data.mapping)

    stage("tuning, fitting and calibrating the risk model")
    training = run_training(cfg, data_dir, out_dir=out_dir / "models" / "demo")
    promotion, not_promoted = promote_if_better(cfg, training, stage)

    as_of = (
        pd.Timestamp(as_of)
        if as_of is not None
        else pd.Timestamp(year=cfg.simulate.last_year, month=7, day=1)
    )
    scores_path = out_dir / "scores.parquet"
    stage(f"scoring every household as of {as_of.date()}")
    scoring = run_scoring(
        cfg,
        data_dir,
        as_of,
        training.model_uri,
        scores_path,
        history_dir=out_dir / "score-history",
        progress=False,
    )

    reports: dict[str, ReportsResult] = {}
    for lang in langs:
        stage(f"writing caseworker reports ({lang})")
        reports[lang] = run_reports(
            scores_path, data_dir, out_dir / "reports" / lang, cfg=cfg, lang=lang, pdf=pdf
        )
    backtest = backtest_the_year(cfg, data_dir, training.model_uri, as_of, out_dir, stage)
    return DemoResult(
        data_dir=data_dir,
        model_uri=training.model_uri,
        training=training,
        scores_path=scores_path,
        scoring=scoring,
        reports=reports,
        tracking_uri=uri,
        promotion=promotion,
        not_promoted=not_promoted,
        backtest=backtest,
    )


BACKTEST_MONTHS = (1, 4, 7, 10)


def backtest_the_year(
    cfg: Config,
    data_dir: Path,
    model_uri: str,
    as_of: pd.Timestamp,
    out_dir: Path,
    stage: Callable[[str], None],
) -> BacktestResult:
    """Score the other quarters of ``as_of``'s year (no reasons; into the demo's score
    history, files under ``backtest/runs/``) and backtest every run of that year."""
    history = out_dir / "score-history"
    for month in BACKTEST_MONTHS:
        date = pd.Timestamp(year=as_of.year, month=month, day=1)
        if date == as_of:
            continue
        stage(f"scoring as of {date.date()} for the backtest (no reasons)")
        run_scoring(
            cfg,
            data_dir,
            date,
            model_uri,
            out_dir / "backtest" / "runs" / f"scores-{date.date()}.parquet",
            history_dir=history,
            explain="none",
            progress=False,
        )
    stage(f"backtesting the runs of {as_of.year} against its survey round")
    return run_backtest(cfg, history, data_dir, out_dir / "backtest", year=as_of.year, track=True)


def promote_if_better(
    cfg: Config, training: TrainingResult, stage: Callable[[str], None]
) -> tuple[Promotion | None, str | None]:
    """Make the trained version ``champion`` if it beats the rule on the test year, exactly as
    ``earlywarn promote`` would: (the promotion, or why there was none)."""
    version = training.model_uri.rsplit("/", 1)[-1]
    try:
        promotion = run_promote(cfg, version)
    except PromotionRefused as refused:
        stage(f"not promoted: {refused}")
        return None, str(refused)
    stage(f"promoted models:/{promotion.name}/{promotion.version} to @{promotion.alias}")
    return promotion, None
