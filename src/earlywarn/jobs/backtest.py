"""The backtest job: how good the stored scoring runs of a year were, once its round is in.

Reads the score history (``<history>/as_of=<date>/model_version=<v>/``, see
:mod:`earlywarn.scoring.history`) and a data directory that holds the target year's survey
round; evaluates every run of that year (:mod:`earlywarn.scoring.backtest`); writes the report
in both languages and the figures as CSV into ``out_dir``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from earlywarn.config import Config
from earlywarn.data.columns import AS_OF, FLAGGED, HOUSEHOLD_ID, MODEL_VERSION, RISK
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import atomic_path
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError, SchemaError
from earlywarn.explain.backtest_report import LANGUAGES, render_backtest
from earlywarn.scoring.backtest import Backtest, ScoreRun, backtest, target_labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestResult:
    """The backtest and where it was written: one HTML report per language, two CSV files,
    and the MLflow run it was logged as (None when not tracked)."""

    backtest: Backtest
    reports: dict[str, Path]
    runs_csv: Path
    counties_csv: Path
    tracking_run: str | None = None


def stored_runs(history_dir: Path) -> list[ScoreRun]:
    """Every run kept in the score history, oldest first."""
    history_dir = Path(history_dir)
    if not history_dir.is_dir():
        raise EarlywarnError(f"score history {history_dir} does not exist or is not a folder")
    runs = []
    for meta_path in sorted(history_dir.glob("as_of=*/model_version=*/run.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            scores = pd.read_parquet(meta_path.parent / "scores.parquet")
        except (OSError, ValueError) as err:
            raise SchemaError(f"score history run {meta_path.parent} is unreadable: {err}") from err
        missing = [c for c in (HOUSEHOLD_ID, RISK, FLAGGED) if c not in scores.columns]
        if missing:
            raise SchemaError(
                f"score history run {meta_path.parent}: scores.parquet lacks {', '.join(missing)}"
            )
        runs.append(
            ScoreRun(
                as_of=pd.Timestamp(meta[AS_OF]),
                model_version=str(meta[MODEL_VERSION]),
                scores=scores,
            )
        )
    return sorted(runs, key=lambda run: (run.as_of, run.model_version))


def run_backtest(
    cfg: Config,
    history_dir: Path,
    data_dir: Path,
    out_dir: Path,
    *,
    year: int | None = None,
    track: bool = False,
) -> BacktestResult:
    """Evaluate the runs of ``year`` (default: the latest year with runs whose round the data
    hold) and write ``backtest-<year>.<lang>.html``, ``backtest-<year>-runs.csv`` and
    ``backtest-<year>-counties.csv`` into ``out_dir``; with ``track``, then log it to MLflow
    (``cfg.tracking.experiment``; :mod:`earlywarn.tracking.backtest_run`)."""
    runs = stored_runs(history_dir)
    if not runs:
        raise EarlywarnError(f"score history {history_dir} holds no scoring run")
    tables = read_tables(data_dir, mapping=cfg.data.mapping)
    target_year = year if year is not None else _latest_year(runs, tables)
    result = backtest(runs, tables, target_year=target_year, rule_cfg=cfg.rule)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = {}
    for lang in LANGUAGES:
        path = out_dir / f"backtest-{target_year}.{lang}.html"
        with atomic_path(path) as staged:
            page = render_backtest(
                result.runs, result.by_county, target_year=target_year, lang=lang
            )
            staged.write_text(page, encoding="utf-8")
        reports[lang] = path
    runs_csv = out_dir / f"backtest-{target_year}-runs.csv"
    counties_csv = out_dir / f"backtest-{target_year}-counties.csv"
    for frame, path in ((result.runs, runs_csv), (result.by_county, counties_csv)):
        with atomic_path(path) as staged:
            frame.to_csv(staged, index=False, date_format="%Y-%m-%d")
    log.info("backtest of %d: %d runs evaluated", target_year, len(result.runs))
    tracking_run = None
    if track:
        from earlywarn.tracking.backtest_run import log_backtest  # imports MLflow

        tracking_run = log_backtest(
            experiment=cfg.tracking.experiment,
            target_year=target_year,
            runs=result.runs,
            by_county=result.by_county,
            files=[*reports.values(), runs_csv, counties_csv],
        )
    return BacktestResult(result, reports, runs_csv, counties_csv, tracking_run)


def _latest_year(runs: list[ScoreRun], tables: Tables) -> int:
    """The latest year with a stored run whose survey round the data hold."""
    for year in sorted({run.as_of.year for run in runs}, reverse=True):
        try:
            target_labels(tables, year)
        except EarlywarnError:
            continue
        return year
    years = ", ".join(str(y) for y in sorted({run.as_of.year for run in runs}))
    raise EarlywarnError(
        f"the data hold no survey round of a year with stored runs ({years}): a backtest "
        "needs the target year's round"
    )
