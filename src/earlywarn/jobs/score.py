"""The scoring job: every household of the population as of a date -> the scores file."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from earlywarn import __version__ as earlywarn_version
from earlywarn.config import Config, Population, config_hash
from earlywarn.data.columns import (
    AS_OF,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    REASONS,
    RISK,
    YEAR,
)
from earlywarn.data.storage import (
    atomic_path,
    check_writable,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import OutputError
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.model.model_file import RiskModel, is_model_folder, load_model
from earlywarn.scoring.drift import add_counts, count_bins, drift_report, render_drift_markdown
from earlywarn.scoring.score import (
    NEWLY_FLAGGED,
    RISK_DOUBLED,
    attach_reasons,
    check_catalog,
    compare_with_previous,
    explain_households,
    finish_scores,
    installed_catalog,
    partition_tables,
    rule_applies,
    score_chunk,
)
from earlywarn.scoring.scores_file import write_scores_parquet

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


def resolve_scoring_model(model_uri: str | Path) -> RiskModel:
    """A model from a registry URI (``models:/earlywarn@champion``, ``runs:/...``) or a
    local directory: ``tracking.resolve_model`` when tracking is installed."""
    local = Path(str(model_uri))
    if is_model_folder(local):
        return load_model(local)  # a plain model folder: no need to start MLflow
    from earlywarn.tracking import resolve_model

    return resolve_model(str(model_uri))


def _model_fingerprint(model: RiskModel) -> str:
    return hashlib.sha256(model.scorer_text().encode()).hexdigest()


def _chunks(ids: pd.Index, chunk_size: int) -> list[pd.Index]:
    return [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]


def _write_chunk(frame: pd.DataFrame, counts: dict[str, Any], target: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"earlywarn.drift_counts": json.dumps(counts).encode()}
    )
    with atomic_path(target) as staged:
        pq.write_table(table, staged, compression="lz4")


def _read_chunk(path: Path, columns: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    table = pq.read_table(path, columns=columns)
    meta = pq.read_schema(path).metadata or {}
    counts = json.loads(meta[b"earlywarn.drift_counts"])
    return _by_household(table.to_pandas()), counts


def _by_household(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(HOUSEHOLD_ID) if HOUSEHOLD_ID in frame.columns else frame


def _reasons_to_json(reasons: pd.Series) -> pd.Series:
    return reasons.map(lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))


def _json_ready(value: Any) -> Any:
    """NaN -> None everywhere, so the drift JSON is strict JSON."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class _HouseholdsPerSecond(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} households/s" if speed else "- households/s")


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _HouseholdsPerSecond(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


class _Engine:
    """Runs chunk tasks locally, one after the other, or on a Dask cluster."""

    def __init__(self, kind: str, scheduler: str | None, n_workers: int) -> None:
        self.kind, self.client, self.cluster = kind, None, None
        if kind == "dask":
            from dask.distributed import Client, LocalCluster

            if scheduler:
                self.client = Client(scheduler)
            else:
                self.cluster = LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    processes=True,
                    env={"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"},
                )
                self.client = Client(self.cluster)

    def broadcast(self, value: Any) -> Any:
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True, hash=False)

    def run(
        self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, tuple, dict]]
    ) -> Iterator[tuple[Any, Any]]:
        """Yield (key, result) for each (key, args, kwargs) job, as they finish.

        On Dask, frames and tables among the arguments are sent to a worker with their task
        and at most ``2 x workers`` tasks are in flight, so memory stays bounded by chunks.
        """
        if self.client is None:
            for key, args, kwargs in jobs:
                yield key, fn(*args, **kwargs)
            return
        from dask.distributed import as_completed

        client = self.client
        window = 2 * max(1, len(client.scheduler_info().get("workers", {})))

        def submit(job: tuple[Any, tuple, dict]) -> Any:
            key, args, kwargs = job
            args = tuple(
                client.scatter(a, hash=False) if isinstance(a, pd.DataFrame | Tables) else a
                for a in args
            )
            kwargs = {
                k: client.scatter(v, hash=False) if isinstance(v, pd.DataFrame) else v
                for k, v in kwargs.items()
            }
            future = client.submit(fn, *args, **kwargs, pure=False)
            keys[str(future.key)] = key
            return future

        pending = iter(jobs)
        keys: dict[str, Any] = {}
        running = as_completed([submit(job) for job in itertools.islice(pending, window)])
        for future in running:
            result = future.result()
            key = keys.pop(str(future.key))
            future.release()
            following = next(pending, None)
            if following is not None:
                running.add(submit(following))
            yield key, result

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _explain_rows(
    model: RiskModel, features: pd.DataFrame, n_reasons: int, lang: str, **options: Any
) -> pd.Series:
    return explain_households(model, features, n_reasons=n_reasons, lang=lang, **options)


def _previous_run(history_dir: Path, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """The scores of the last run before ``as_of`` in the history store, or None."""
    runs = []
    for meta_path in history_dir.glob("as_of=*/model_version=*/run.json"):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if pd.Timestamp(meta["as_of"]) < as_of:
            runs.append((pd.Timestamp(meta["as_of"]), meta["created_at"], meta_path.parent))
    if not runs:
        return None
    _, _, folder = max(runs)
    return pd.read_parquet(folder / "scores.parquet")


def _append_history(
    history_dir: Path,
    scores: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    model_version: str,
    created_at: str,
) -> Path:
    safe_version = re.sub(r"[^A-Za-z0-9_.@-]", "_", model_version)
    folder = history_dir / f"as_of={as_of.date().isoformat()}" / f"model_version={safe_version}"
    kept = scores.loc[:, [HOUSEHOLD_ID, AS_OF, RISK, FLAGGED, MODEL_VERSION]]
    write_parquet_atomic(kept, folder / "scores.parquet", index=False)
    write_json_atomic(
        {
            "as_of": as_of.date().isoformat(),
            "model_version": model_version,
            "created_at": created_at,
            "n_households": len(kept),
        },
        folder / "run.json",
    )
    return folder


def run_scoring(
    cfg: Config,
    data_dir: Path,
    as_of: pd.Timestamp | str,
    model_uri: str | Path,
    out: Path,
    *,
    population: Population | None = None,
    explain: Literal["flagged", "all", "none"] | None = None,
    engine: Literal["local", "dask"] | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    history_dir: Path | None = None,
    lang: str = "en",
    progress: bool = True,
) -> ScoringResult:
    """Score every household of the population at ``as_of`` and write the scores file.

    Chunked by household (memory bounded by ``chunk_size``); each finished chunk is kept in a
    work directory beside ``out`` keyed by the arguments, the input files and the model, so a
    rerun after a kill reuses it. Pass 1 builds features, risk and drift counts per chunk;
    the policy then flags across the whole population; pass 2 explains the flagged
    households (all with ``explain="all"``, done in pass 1). Writes ``out`` (Parquet,
    deterministic), ``<out>.meta.json`` (created_at, counts, fingerprints), the drift report
    (``<stem>.drift.json`` and ``.md``) and appends the run to the score history.
    """
    from earlywarn.data.schema import read_tables
    from earlywarn.features.labels import population as select_population

    started = time.perf_counter()
    score_cfg = cfg.score
    population = population or cfg.data.population
    explain = explain or score_cfg.explain
    engine_kind = engine or score_cfg.engine
    chunk_size = chunk_size or score_cfg.chunk_size
    as_of = pd.Timestamp(as_of).normalize()
    out = Path(out)
    history_dir = Path(history_dir or score_cfg.history_dir or out.parent / "score-history")
    check_writable(out, folder=False)  # before the model and the data are read
    check_writable(history_dir, folder=True)

    model = resolve_scoring_model(model_uri)
    try:
        catalog_hash, catalog_names = installed_catalog()
    except ImportError:
        log.warning("no feature catalog installed; the model's catalog is not checked")
    else:
        check_catalog(model, catalog_hash=catalog_hash, catalog_names=catalog_names)
    reference = model.metadata.get("drift_reference")

    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[stage] = round(stages.get(stage, 0.0) + now - clock, 3)
        clock = now

    fingerprints = table_fingerprints(data_dir)
    tables = read_tables(Path(data_dir), mapping=cfg.data.mapping)
    households = tables.households
    lap("read_and_validate")
    ids = pd.Index(
        sorted(select_population(tables, as_of, population=population)), name=HOUSEHOLD_ID
    )
    if len(ids) == 0:
        rounds = tables.household_years[YEAR]
        log.warning(
            "no household is in the %s population as of %s (survey rounds %s-%s): the scores "
            "file will be empty",
            population,
            as_of.date(),
            rounds.min(),
            rounds.max(),
        )
    chunks = _chunks(ids, chunk_size)
    key_material = {
        "as_of": as_of.isoformat(),
        "population": population,
        "explain": explain,
        "n_reasons": score_cfg.n_reasons,
        "lang": lang,
        "chunk_size": chunk_size,
        "policy": cfg.policy.model_dump(mode="json"),
        "inputs": fingerprints,
        "rule": cfg.rule.model_dump(mode="json"),
        "model_version": model.version,
        "model": _model_fingerprint(model),
        "earlywarn": earlywarn_version,
    }
    run_key = hashlib.sha256(json.dumps(key_material, sort_keys=True).encode()).hexdigest()
    work_dir = out.parent / f".{out.name}.work-{run_key[:16]}"
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write {out}: {err.strerror or err}") from err
    delay = float(os.environ.get(SCORE_CHUNK_DELAY_ENV, "0") or 0)
    log.info(
        "scoring %d households in %d chunks (engine %s, work dir %s)",
        len(ids),
        len(chunks),
        engine_kind,
        work_dir,
    )

    chunk_path = [work_dir / f"chunk-{i:05d}.parquet" for i in range(len(chunks))]
    reasons_path = [work_dir / f"reasons-{i:05d}.parquet" for i in range(len(chunks))]
    n_reused = sum(path.exists() for path in chunk_path)
    runner = _Engine(engine_kind, scheduler, score_cfg.n_workers)
    try:
        with _progress(progress) as bar:
            # pass 1: features, risk, drift counts (and reasons for all) per chunk
            done = sum(len(c) for c, p in zip(chunks, chunk_path, strict=True) if p.exists())
            task = bar.add_task("features + risk", total=len(ids), completed=done)
            todo = [i for i, path in enumerate(chunk_path) if not path.exists()]
            if todo:
                from earlywarn.explain.reasons import village_facts
                from earlywarn.features.place import place_rates

                places = place_rates(tables, as_of)
                villages = village_facts(tables, as_of) if explain == "all" else None
                rule_ok = rule_applies(tables, as_of) if explain == "all" else None
                parts = partition_tables(tables, [chunks[i] for i in todo], places)
                del places  # the parts hold every row still needed (pass 2 needs the tables)
                if explain != "flagged":
                    del tables
                model_ref = runner.broadcast(model)
                parts.reverse()
                waiting = list(reversed(todo))

                def next_job() -> tuple[int, tuple, dict]:
                    # pop, so each chunk's tables are freed once it is scored
                    i, (sub_tables, sub_places) = waiting.pop(), parts.pop()
                    return (
                        i,
                        (sub_tables, model_ref, list(chunks[i])),
                        {
                            "as_of": as_of,
                            "explain_all": explain == "all",
                            "n_reasons": score_cfg.n_reasons,
                            "lang": lang,
                            "drift_reference": reference,
                            "places": sub_places,
                            "rule_cfg": cfg.rule,
                            "villages": villages,
                            "rule_triggers": rule_ok,
                        },
                    )

                jobs = (next_job() for _ in range(len(todo)))
                for i, (frame, counts) in runner.run(score_chunk, jobs):
                    if REASONS in frame.columns:
                        frame[REASONS] = _reasons_to_json(frame[REASONS])
                    _write_chunk(frame, counts, chunk_path[i])
                    bar.advance(task, len(chunks[i]))
                    if delay:
                        time.sleep(delay)
                del jobs

            # the policy and ranks look across the whole population
            columns = [HOUSEHOLD_ID, RISK] + ([REASONS] if explain == "all" else [])
            lap("features_and_risk")
            risks: list[pd.DataFrame] = []
            counts_total = count_bins(
                reference or {"features": {}, "score": {"edges": []}}, pd.DataFrame(), np.empty(0)
            )
            for path in chunk_path:
                frame, counts = _read_chunk(path, columns)
                risks.append(frame)
                counts_total = (
                    add_counts(counts, counts_total) if counts_total["n_rows"] else counts
                )
            risk_frame = (
                pd.concat(risks)
                if risks
                else pd.DataFrame(  # nobody in the population: an empty scores file
                    {RISK: pd.Series(dtype="float64"), REASONS: pd.Series(dtype=object)},
                    index=pd.Index([], name=HOUSEHOLD_ID),
                )
            )
            scores = finish_scores(
                risk_frame[[RISK]],
                as_of=as_of,
                policy_cfg=cfg.policy,
                households_frame=households,
                model_version=model.version,
            )

            lap("flag_and_rank")
            # pass 2: reasons for the flagged households, chunk by chunk
            if explain == "all":
                reasons = risk_frame[REASONS].map(json.loads)
            elif explain == "flagged":
                flagged_ids = set(scores.loc[scores[FLAGGED], HOUSEHOLD_ID])
                task2 = bar.add_task("reasons (flagged)", total=len(flagged_ids))
                jobs2: list[tuple[int, tuple, dict]] = []
                for i, (chunk, path) in enumerate(zip(chunks, chunk_path, strict=True)):
                    wanted = [hid for hid in chunk if hid in flagged_ids]
                    if reasons_path[i].exists():
                        bar.advance(task2, len(wanted))
                    elif wanted:
                        features = _by_household(
                            pq.read_table(path, filters=[(HOUSEHOLD_ID, "in", wanted)]).to_pandas()
                        )
                        features = features.drop(columns=[RISK]).reindex(wanted)
                        jobs2.append((i, (model, features, score_cfg.n_reasons, lang), {}))
                if jobs2:
                    # the texts quote each household's own figures: cut the tables down to
                    # the flagged households' rows; village figures over the whole tables
                    from earlywarn.explain.reasons import village_facts

                    villages = village_facts(tables, as_of)
                    rule_ok = rule_applies(tables, as_of)
                    own_rows = partition_tables(tables, [args[1].index for _, args, _ in jobs2])
                    model_ref = runner.broadcast(model)
                    jobs2 = [
                        (
                            i,
                            (model_ref, *args[1:]),
                            {
                                "tables": sub_tables,
                                "as_of": as_of,
                                "rule_cfg": cfg.rule,
                                "villages": villages,
                                "rule_triggers": rule_ok,
                            },
                        )
                        for (i, args, _), (sub_tables, _) in zip(jobs2, own_rows, strict=True)
                    ]
                    for i, found in runner.run(_explain_rows, jobs2):
                        part = pd.DataFrame(
                            {
                                HOUSEHOLD_ID: found.index.astype("str"),
                                REASONS: _reasons_to_json(found).to_numpy(),
                            }
                        )
                        write_parquet_atomic(part, reasons_path[i], index=False)
                        bar.advance(task2, len(found))
                parts = [pd.read_parquet(p) for p in reasons_path if p.exists()]
                reasons = (
                    pd.concat(parts).set_index(HOUSEHOLD_ID)[REASONS].map(json.loads)
                    if parts
                    else pd.Series([], dtype=object)
                )
            else:
                reasons = pd.Series([], dtype=object)
            scores = attach_reasons(scores, reasons)
            lap("reasons")
    finally:
        runner.close()

    # history: compare with the last earlier run, then keep this one
    previous = _previous_run(history_dir, as_of) if history_dir.exists() else None
    scores = compare_with_previous(scores, previous)
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    file_metadata = {
        "earlywarn.model_version": model.version,
        "earlywarn.as_of": as_of.date().isoformat(),
        "earlywarn.population": population,
        "earlywarn.config_hash": config_hash(cfg),
        "earlywarn.input_fingerprints": json.dumps(fingerprints, sort_keys=True),
        "earlywarn.contribution_scale": _contribution_scale(),
    }
    write_scores_parquet(scores, out, metadata=file_metadata)

    drift = drift_report(reference, counts_total, cfg.drift)
    stem = out.with_suffix("") if out.suffix else out
    drift_json = stem.with_name(stem.name + ".drift.json")
    drift_md = stem.with_name(stem.name + ".drift.md")
    write_json_atomic(_json_ready(drift), drift_json)
    write_text_atomic(
        render_drift_markdown(
            drift, title=f"Drift report: {out.name}, as of {as_of.date()}, model {model.version}"
        ),
        drift_md,
    )
    if drift["warnings"]:
        log.warning(
            "drift: %d warnings, e.g. %s (see %s)",
            len(drift["warnings"]),
            "; ".join(drift["warnings"][:3]),
            drift_md,
        )
    history_path = _append_history(
        history_dir, scores, as_of=as_of, model_version=model.version, created_at=created_at
    )
    lap("write_drift_history")
    seconds = time.perf_counter() - started
    result = ScoringResult(
        out=out,
        metadata_path=out.with_name(out.name + ".meta.json"),
        drift_json=drift_json,
        drift_markdown=drift_md,
        history_path=history_path,
        model_version=model.version,
        n_households=len(scores),
        n_flagged=int(scores[FLAGGED].sum()),
        n_newly_flagged=int(scores[NEWLY_FLAGGED].sum()),
        n_risk_doubled=int(scores[RISK_DOUBLED].sum()),
        n_chunks=len(chunks),
        n_chunks_reused=n_reused,
        seconds=seconds,
        drift_warnings=tuple(drift["warnings"]),
        score_psi=float(drift["score_psi"]),
    )
    write_json_atomic(
        {
            "created_at": created_at,
            "seconds": round(seconds, 3),
            "stage_seconds": stages,
            "engine": engine_kind,
            "chunks": len(chunks),
            "chunks_reused": n_reused,
            "run_key": run_key,
            "model_uri": str(model_uri),
            "data_dir": str(Path(data_dir).resolve()),
            "explain": explain,
            "lang": lang,
            "chunk_size": chunk_size,
            "history_dir": str(history_dir),
            **file_metadata,
            "earlywarn.input_fingerprints": fingerprints,
            "n_households": result.n_households,
            "n_flagged": result.n_flagged,
            "n_newly_flagged": result.n_newly_flagged,
            "n_risk_doubled": result.n_risk_doubled,
            "drift_warnings": list(result.drift_warnings),
        },
        result.metadata_path,
    )
    for stale in out.parent.glob(f".{out.name}.work-*"):  # this run's, and older runs' left
        shutil.rmtree(stale, ignore_errors=True)  # by a kill with other arguments
    log.info(
        "scored %d households (%d flagged) in %.1f s",
        result.n_households,
        result.n_flagged,
        seconds,
    )
    return result


def _contribution_scale() -> str:
    try:
        from earlywarn.explain.contributions import CONTRIBUTION_SCALE
    except ImportError:
        return "log-odds"
    return str(CONTRIBUTION_SCALE)
