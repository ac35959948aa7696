"""The scoring job: every household of the population as of a date -> the scores file.

Reads the reason glossary, the model and the tables; scores the population chunk by chunk
(:func:`earlywarn.scoring.chunks.score_population` on a chunk runner); compares with the
previous run; writes the scores file, its ``.meta.json``, the drift report and the score
history.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from earlywarn import __version__ as earlywarn_version
from earlywarn.config import Config, Population, config_hash
from earlywarn.data.columns import FLAGGED, RISK, YEAR
from earlywarn.data.mapping import resolve_mapping
from earlywarn.data.partitioned import Location, as_location, location_text
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import (
    check_writable,
    sha256_file,
    write_json_atomic,
    write_text_atomic,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import ConfigError, SchemaError
from earlywarn.explain.contributions import CONTRIBUTION_SCALE
from earlywarn.explain.glossary import DEFAULT_GLOSSARY, load_glossary
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.jobs.scoring_engine import (
    WorkerRun,
    check_scheduler,
    chunk_runner,
    client_memory_pool,
    on_stderr,
    score_on_workers,
    worker_partitions,
)
from earlywarn.model.model_file import RiskModel, is_model_folder, load_model
from earlywarn.scoring.chunks import (
    ReasonTexts,
    ScoringPlan,
    household_chunks,
    pending_chunks,
    score_population,
)
from earlywarn.scoring.cluster import PartitionOutputs
from earlywarn.scoring.dataset_parts import write_scores_dataset_parts
from earlywarn.scoring.drift import drift_as_json, drift_report, render_drift_markdown
from earlywarn.scoring.history import append_run, compare_with_previous, previous_run
from earlywarn.scoring.runner import Engine, StageClock, progress_bar
from earlywarn.scoring.score import (
    Explain,
    attach_monitoring_status,
    check_catalog,
    installed_catalog,
    population_ids,
)
from earlywarn.scoring.scores_file import (
    NEWLY_FLAGGED,
    RISK_DOUBLED,
    check_dataset_target,
    publish_dataset,
    sidecar_path,
    write_scores_parquet,
)
from earlywarn.scoring.work_dir import WorkDir, run_key

log = logging.getLogger(__name__)

SCORE_CHUNK_DELAY_ENV = "EARLYWARN_SCORE_CHUNK_DELAY"
"""Seconds to wait after each finished chunk (tests use it to kill a run part-way)."""


@dataclass(frozen=True)
class ScoringResult:
    """What a scoring run wrote and found (counts, drift warnings, where the files are)."""

    out: Path
    metadata_path: Path
    drift_json: Path
    drift_markdown: Path
    history_path: Path
    model_version: str
    n_households: int
    n_flagged: int
    n_newly_flagged: int
    n_risk_doubled: int
    n_chunks: int
    n_chunks_reused: int
    seconds: float
    drift_warnings: tuple[str, ...]
    score_psi: float
    n_drift_alerts: int = 0
    expected_below_line: float = float("nan")
    """The run's own estimate: how many of the flagged fall below the line (the sum of their
    risks); ``earlywarn backtest`` compares it with the realised number."""
    out_dataset: Path | None = None
    """The scores as a dataset partitioned by county, when asked for (``out`` is then the
    scores file, or this folder when no file was asked for)."""


@dataclass(frozen=True)
class _Run:
    """One scoring run's arguments, resolved against the config."""

    cfg: Config
    data_dir: Location
    model_uri: str
    plan: ScoringPlan
    out: Path | None
    out_dataset: Path | None
    history_dir: Path
    population: Population
    engine: Engine
    scheduler: str | None
    chunk_size: int
    glossary_path: Path
    glossary_sha256: str

    @property
    def anchor(self) -> Path:
        """What the run's other files sit beside: the scores file, else the dataset folder
        (``<anchor>.meta.json``, the drift report, the work directory, the history)."""
        anchor = self.out or self.out_dataset
        if anchor is None:
            raise ConfigError("give the scores file (--out), the dataset folder (--out-dataset)")
        return anchor


def _scoring_model(model_uri: str) -> RiskModel:
    """The model, refused when its feature catalog is not the installed one."""
    model = resolve_scoring_model(model_uri)
    catalog, names = installed_catalog()
    check_catalog(model, catalog_hash=catalog, catalog_names=names)
    return model


def resolve_scoring_model(model_uri: str | Path) -> RiskModel:
    """A model from a registry URI (``models:/earlywarn@champion``, ``runs:/...``) via
    ``tracking.resolve_model``, or from a local model folder without starting MLflow."""
    local = Path(str(model_uri))
    if is_model_folder(local):
        return load_model(local)
    from earlywarn.tracking import resolve_model  # imports MLflow: only for a registry URI

    return resolve_model(str(model_uri))


def run_scoring(
    cfg: Config,
    data_dir: Location,
    as_of: pd.Timestamp | str,
    model_uri: str | Path,
    out: Path | None,
    *,
    out_dataset: Path | None = None,
    population: Population | None = None,
    explain: Explain | None = None,
    engine: Engine | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    history_dir: Path | None = None,
    lang: str | None = None,
    progress: bool = True,
) -> ScoringResult:
    """Score every household of the population at ``as_of`` and write the scores file.

    Chunk by chunk (memory bounded by ``chunk_size``; finished chunks are kept beside ``out``,
    keyed by every input, so a rerun after a kill reuses them): risk for everyone, flags over
    the whole population, reasons for the flagged (or all, or none: ``explain``) with texts
    from the configured glossary in ``lang`` (default ``report.lang``, as the reports).
    ``scheduler`` (a Dask scheduler's address) implies ``engine="dask"`` and is checked
    reachable before anything is read (:class:`SchedulerError` if not). With the dask engine
    and a data directory partitioned by county, the workers read, check and score their own
    partitions and this process never reads a table. Writes ``out``
    (Parquet, deterministic), ``<out>.meta.json`` (counts, fingerprints, glossary hash), the
    drift report (``<stem>.drift.json``, ``.md``; the as-of month's reference rows) and the
    run's entry in the score history. ``out_dataset``: the scores also (or only: ``out``
    None) as a dataset partitioned by county (``county=C/part-0.parquet``, each a scores file
    of its own; written by the workers on partitioned input), moved into place whole; the
    other files then sit beside ``out``, or beside the folder when there is no ``out``.
    """
    clock = StageClock()
    run = _resolve(
        cfg,
        data_dir,
        as_of,
        model_uri,
        out,
        out_dataset=out_dataset,
        population=population,
        explain=explain,
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
        history_dir=history_dir,
        lang=lang,
    )
    if scheduler:
        check_scheduler(scheduler)
    model, as_of = _scoring_model(run.model_uri), run.plan.as_of
    fingerprints = table_fingerprints(run.data_dir)  # partitioned tables' folders included
    work = WorkDir.open(run.anchor, run_key(_chunk_inputs(run, fingerprints, model)))
    partitions = (
        worker_partitions(run.data_dir, resolve_mapping(cfg.data.mapping))
        if run.engine == "dask"
        else None
    )
    with client_memory_pool(lean=partitions is not None):
        reasons = None  # the workers' reasons as Arrow, when the frame carries none
        try:
            if partitions is not None:
                scores, reasons, counts, n_chunks = _score_on_workers(
                    run, partitions, model, work, fingerprints, clock, progress
                )
            else:
                scores, counts, n_chunks = _score_here(run, model, work, clock, progress)
        except SchemaError:
            # bad input: fixing it changes the run's key, so nothing here could be resumed
            shutil.rmtree(work.path, ignore_errors=True)
            raise
        result = _write_outputs(
            run,
            scores,
            counts,
            model,
            clock,
            fingerprints,
            work,
            n_chunks,
            staged=partitions is not None and run.out_dataset is not None,
            reasons=reasons,
        )
    WorkDir.remove_all(run.anchor)  # this run's, and older runs' left by a kill
    log.info(
        "scored %d households (%d flagged) in %.1f s", len(scores), result.n_flagged, result.seconds
    )
    return result


def _score_here(
    run: _Run, model: RiskModel, work: WorkDir, clock: StageClock, progress: bool
) -> tuple[pd.DataFrame, dict[str, Any], tuple[int, int]]:
    """Read and validate the tables in this process, score them chunk by chunk (chunks go to
    Dask workers with the dask engine): scores with monitoring status, drift counts,
    (chunks, chunks reused)."""
    cfg, as_of = run.cfg, run.plan.as_of
    tables = read_tables(run.data_dir, mapping=cfg.data.mapping)
    clock.lap("read_and_validate")
    chunks = household_chunks(_population(tables, run), run.chunk_size)
    n_reused = sum(work.has_chunk(i) for i in range(len(chunks)))
    log.info(
        "scoring %d households in %d chunks (engine %s, work dir %s)",
        sum(map(len, chunks)),
        len(chunks),
        run.engine,
        work.path,
    )
    households, explain = tables.households, run.plan.explain
    pending = pending_chunks(tables, chunks, work, as_of=as_of, explain_all=explain == "all")
    kept = tables if explain == "flagged" else None  # pass 2 explains from the tables
    cycle = _monitoring_tables(tables)
    del tables  # else pass 1's parts hold every row still needed
    with (
        chunk_runner(run.engine, run.scheduler, cfg.score.n_workers) as runner,
        on_stderr(progress_bar(progress)) as bar,
    ):
        scores, counts = score_population(
            runner,
            work,
            chunks,
            pending,
            model,
            run.plan,
            households=households,
            tables=kept,
            bar=bar,
            clock=clock,
            chunk_delay=float(os.environ.get(SCORE_CHUNK_DELAY_ENV) or 0),
        )
    scores = compare_with_previous(scores, previous_run(run.history_dir, as_of))
    if cycle is not None:
        scores = attach_monitoring_status(
            scores, cycle, verified_months=cfg.monitoring.verified_months
        )
    return scores, counts, (len(chunks), n_reused)


def _score_on_workers(
    run: _Run,
    partitions: list[str],
    model: RiskModel,
    work: WorkDir,
    fingerprints: dict[str, str],
    clock: StageClock,
    progress: bool,
) -> tuple[pd.DataFrame, pa.Table | None, dict[str, Any], tuple[int, int]]:
    """Each county partition read, validated and scored by a Dask worker (and written as
    the dataset's parts, when asked for); this process only flags and ranks: scores
    compared with the last run (monitoring status only with a scores file), their reasons
    as Arrow (with a scores file), drift counts, (tasks, tasks reused)."""
    cfg = run.cfg
    found, n_tasks = score_on_workers(
        partitions,
        model,
        work,
        run.plan,
        WorkerRun(
            data_dir=run.data_dir,
            mapping=resolve_mapping(cfg.data.mapping),
            population=run.population,
            chunk_size=run.chunk_size,
            verified_months=cfg.monitoring.verified_months,
            scheduler=run.scheduler,
            n_workers=cfg.score.n_workers,
        ),
        PartitionOutputs(
            previous=previous_run(run.history_dir, run.plan.as_of),
            whole=run.out is not None,
            dataset_metadata=None
            if run.out_dataset is None
            else _file_metadata(run, model, fingerprints),
        ),
        clock=clock,
        progress=progress,
    )
    return found.scores, found.reasons, found.counts, (n_tasks, found.n_reused)


def _resolve(
    cfg: Config,
    data_dir: Location,
    as_of: pd.Timestamp | str,
    model_uri: str | Path,
    out: Path | None,
    *,
    out_dataset: Path | None,
    population: Population | None,
    explain: Explain | None,
    engine: Engine | None,
    scheduler: str | None,
    chunk_size: int | None,
    history_dir: Path | None,
    lang: str | None,
) -> _Run:
    """The run's arguments, the config filling in what is not given; the outputs checked
    writable and the glossary read before the model and the data are."""
    out = None if out is None else Path(out)
    out_dataset = None if out_dataset is None else Path(out_dataset)
    anchor = out or out_dataset
    if anchor is None:
        raise ConfigError(
            "nowhere to write the scores: give a scores file (--out FILE), a dataset folder "
            "partitioned by county (--out-dataset DIR), or both"
        )
    history = Path(history_dir or cfg.score.history_dir or anchor.parent / "score-history")
    if out is not None:
        check_writable(out, folder=False)
    if out_dataset is not None:
        check_dataset_target(out_dataset)
    check_writable(history, folder=True)
    glossary_path = Path(cfg.report.glossary or DEFAULT_GLOSSARY)
    glossary = load_glossary(glossary_path)
    lang = lang or cfg.report.lang
    engine = engine or ("dask" if scheduler else cfg.score.engine)
    if scheduler and engine != "dask":
        raise ConfigError(
            f"--scheduler {scheduler} needs the dask engine (engine {engine!r} was asked for): "
            "leave out --engine, or give --engine dask"
        )
    if lang not in glossary.languages:
        raise ConfigError(
            f"language {lang!r} is not in the reason glossary {glossary_path} "
            f"(it has {', '.join(glossary.languages)})"
        )
    return _Run(
        cfg=cfg,
        data_dir=as_location(data_dir),
        model_uri=str(model_uri),
        plan=ScoringPlan(
            as_of=pd.Timestamp(as_of).normalize(),
            explain=explain or cfg.score.explain,
            texts=ReasonTexts(glossary, lang, cfg.score.n_reasons, cfg.rule),
            policy_cfg=cfg.policy,
        ),
        out=out,
        out_dataset=out_dataset,
        history_dir=history,
        population=population or cfg.data.population,
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size or cfg.score.chunk_size,
        glossary_path=glossary_path,
        glossary_sha256=sha256_file(glossary_path),
    )


def _monitoring_tables(tables: Tables) -> Tables | None:
    """What the monitoring status needs (households, events, monitoring spells, visits), when
    the data hold the monitoring cycle; else None (the scores then carry no status)."""
    if tables.monitoring.empty and tables.visits.empty:
        return None
    return replace(
        tables,
        household_years=tables.household_years.iloc[:0],
        assistance=tables.assistance.iloc[:0],
        personal=tables.personal.iloc[:0],
    )


def _population(tables: Tables, run: _Run) -> pd.Index:
    """The population's household ids, sorted; a warning when nobody is in it."""
    ids = population_ids(tables, run.plan.as_of, run.population)
    if len(ids) == 0:
        rounds = tables.household_years[YEAR]
        log.warning(
            "no household is in the %s population as of %s (survey rounds %s-%s): the scores "
            "file will be empty",
            run.population,
            run.plan.as_of.date(),
            rounds.min(),
            rounds.max(),
        )
    return ids


def _chunk_inputs(run: _Run, fingerprints: dict[str, str], model: RiskModel) -> dict[str, Any]:
    """Everything a finished chunk depends on: a rerun reuses chunks only when all agree."""
    return {
        "as_of": run.plan.as_of.isoformat(),
        "population": run.population,
        "explain": run.plan.explain,
        "n_reasons": run.plan.texts.n_reasons,
        "lang": run.plan.texts.lang,
        "glossary": run.glossary_sha256,
        "chunk_size": run.chunk_size,
        "policy": run.cfg.policy.model_dump(mode="json"),
        "inputs": fingerprints,
        "rule": run.cfg.rule.model_dump(mode="json"),
        "model_version": model.version,
        "model": hashlib.sha256(model.scorer_text().encode()).hexdigest(),
        "earlywarn": earlywarn_version,
    }


def _file_metadata(run: _Run, model: RiskModel, fingerprints: dict[str, str]) -> dict[str, str]:
    """What the scores file (and each part of the dataset) records of its making."""
    return {
        "earlywarn.model_version": model.version,
        "earlywarn.as_of": run.plan.as_of.date().isoformat(),
        "earlywarn.population": run.population,
        "earlywarn.config_hash": config_hash(run.cfg),
        "earlywarn.input_fingerprints": json.dumps(fingerprints, sort_keys=True),
        "earlywarn.contribution_scale": CONTRIBUTION_SCALE,
    }


def _write_outputs(
    run: _Run,
    scores: pd.DataFrame,
    counts: dict[str, Any],
    model: RiskModel,
    clock: StageClock,
    fingerprints: dict[str, str],
    work: WorkDir,
    n_chunks: tuple[int, int],
    *,
    staged: bool,
    reasons: pa.Table | None = None,
) -> ScoringResult:
    """The scores file and dataset (its parts already ``staged`` in ``work`` when the
    workers wrote them), the drift report, the history entry and ``<out>.meta.json`` (``n_chunks``:
    chunks in all, and reused from a killed run)."""
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    file_metadata = _file_metadata(run, model, fingerprints)
    if run.out is not None:
        write_scores_parquet(scores, run.out, metadata=file_metadata, reasons=reasons)
    if run.out_dataset is not None:
        if not staged:  # not written by the workers: written here, afresh
            shutil.rmtree(work.dataset_path, ignore_errors=True)
            write_scores_dataset_parts(scores, work.dataset_path, metadata=file_metadata)
        publish_dataset(work.dataset_path, run.out_dataset)
    drift = drift_report(
        model.metadata.get("drift_reference"), counts, run.cfg.drift, as_of=run.plan.as_of
    )
    drift_json, drift_md = _write_drift(run, drift, model.version)
    history_path = append_run(
        run.history_dir,
        scores,
        as_of=run.plan.as_of,
        model_version=model.version,
        created_at=created_at,
    )
    clock.lap("write_drift_history")
    result = ScoringResult(
        out=run.anchor,
        out_dataset=run.out_dataset,
        metadata_path=sidecar_path(run.anchor),
        drift_json=drift_json,
        drift_markdown=drift_md,
        history_path=history_path,
        model_version=model.version,
        n_households=len(scores),
        n_flagged=int(scores[FLAGGED].sum()),
        n_newly_flagged=int(scores[NEWLY_FLAGGED].sum()),
        n_risk_doubled=int(scores[RISK_DOUBLED].sum()),
        n_chunks=n_chunks[0],
        n_chunks_reused=n_chunks[1],
        seconds=clock.total(),
        drift_warnings=tuple(drift["warnings"]),
        score_psi=float(drift["score_psi"]),
        n_drift_alerts=int(drift["alerts"]),
        expected_below_line=float(scores.loc[scores[FLAGGED], RISK].sum()),
    )
    write_json_atomic(
        {
            "created_at": created_at,
            "seconds": round(result.seconds, 3),
            "stage_seconds": clock.seconds,
            "engine": run.engine,
            "chunks": result.n_chunks,
            "chunks_reused": result.n_chunks_reused,
            "run_key": work.key,
            "model_uri": run.model_uri,
            "data_dir": location_text(run.data_dir),
            "explain": run.plan.explain,
            "lang": run.plan.texts.lang,
            "chunk_size": run.chunk_size,
            "history_dir": str(run.history_dir),
            "glossary": str(run.glossary_path),
            "glossary_sha256": run.glossary_sha256,
            **file_metadata,
            "earlywarn.input_fingerprints": fingerprints,
            "n_households": result.n_households,
            "n_flagged": result.n_flagged,
            "n_newly_flagged": result.n_newly_flagged,
            "n_risk_doubled": result.n_risk_doubled,
            "drift_warnings": list(result.drift_warnings),
            "drift_alerts": result.n_drift_alerts,
        },
        result.metadata_path,
    )
    return result


def _write_drift(run: _Run, drift: dict[str, Any], model_version: str) -> tuple[Path, Path]:
    """``<stem>.drift.json`` and ``<stem>.drift.md`` beside the scores file; a warning
    naming the first few drift warnings."""
    anchor = run.anchor
    stem = anchor.with_suffix("") if anchor.suffix else anchor
    drift_json = stem.with_name(stem.name + ".drift.json")
    drift_md = stem.with_name(stem.name + ".drift.md")
    write_json_atomic(drift_as_json(drift), drift_json)
    title = f"Drift report: {anchor.name}, as of {run.plan.as_of.date()}, model {model_version}"
    write_text_atomic(render_drift_markdown(drift, title=title), drift_md)
    if drift["warnings"]:
        log.warning(
            "drift: %d warnings, e.g. %s (see %s)",
            len(drift["warnings"]),
            "; ".join(drift["warnings"][:3]),
            drift_md,
        )
    return drift_json, drift_md
