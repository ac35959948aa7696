"""Jobs end to end: read inputs -> pure stages -> write outputs atomically, and log.

Only this module, ``cli.py`` and ``tracking.py`` touch disk, MLflow and the environment.
"""

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
from earlywarn.audit import table_fingerprints
from earlywarn.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    REASONS,
    RISK,
    TARGET_YEAR,
    VILLAGE,
    YEAR,
)
from earlywarn.config import Config, Population, config_hash
from earlywarn.drift import add_counts, count_bins, drift_report, render_drift_markdown
from earlywarn.errors import OutputError
from earlywarn.model import BOOSTER_FILE, SIDECAR_FILE, RiskModel, load_model
from earlywarn.schema import Summary
from earlywarn.score import (
    NEWLY_FLAGGED,
    PREVIOUS_AS_OF,
    PREVIOUS_RISK,
    RANK_IN_VILLAGE,
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
from earlywarn.storage import (
    atomic_path,
    check_writable,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from earlywarn.tables import Tables

log = logging.getLogger(__name__)


# --- scoring (helper F) ------------------------------------------------------------------

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
    if (local / SIDECAR_FILE).is_file() and (local / BOOSTER_FILE).is_file():
        return load_model(local)  # a plain model folder: no need to start MLflow
    from earlywarn.tracking import resolve_model

    return resolve_model(str(model_uri))


def _model_fingerprint(model: RiskModel) -> str:
    return hashlib.sha256(model.booster.model_to_string().encode()).hexdigest()


def _chunks(ids: pd.Index, chunk_size: int) -> list[pd.Index]:
    return [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]


def _scores_schema(with_history: bool) -> pa.Schema:
    reason = pa.struct(
        [("code", pa.string()), ("text", pa.string()), ("contribution", pa.float64())]
    )
    fields = [
        (HOUSEHOLD_ID, pa.string()),
        (AS_OF, pa.timestamp("ms")),
        (TARGET_YEAR, pa.int64()),
        (COUNTY, pa.string()),
        (VILLAGE, pa.string()),
        (RISK, pa.float64()),
        (RANK_IN_VILLAGE, pa.int64()),
        (FLAGGED, pa.bool_()),
        (REASONS, pa.list_(reason)),
        (MODEL_VERSION, pa.string()),
    ]
    if with_history:
        fields += [
            (PREVIOUS_AS_OF, pa.timestamp("ms")),
            (PREVIOUS_RISK, pa.float64()),
            (NEWLY_FLAGGED, pa.bool_()),
            (RISK_DOUBLED, pa.bool_()),
        ]
    return pa.schema(fields)


def write_scores_parquet(scores: pd.DataFrame, target: Path, *, metadata: dict[str, str]) -> None:
    """Write a scores frame as Parquet, byte for byte the same for the same content.

    Fixed schema, no pandas index, no timestamps: ``metadata`` (model version, config hash,
    input fingerprints) goes into the file's key-value metadata and must be deterministic.
    """
    with_history = PREVIOUS_RISK in scores.columns
    schema = _scores_schema(with_history)
    table = pa.Table.from_pandas(scores.loc[:, schema.names], schema=schema, preserve_index=False)
    kv = {key.encode(): value.encode() for key, value in sorted(metadata.items())}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **kv})
    with atomic_path(Path(target)) as staged:
        pq.write_table(
            table,
            staged,
            compression="zstd",
            row_group_size=1_000_000,
            use_dictionary=[COUNTY, VILLAGE, MODEL_VERSION],
        )


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
    from earlywarn.labels import population as select_population
    from earlywarn.schema import read_tables

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
                from earlywarn.place import place_rates
                from earlywarn.reasons import village_facts

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
                    from earlywarn.reasons import village_facts

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
        from earlywarn.explain import CONTRIBUTION_SCALE
    except ImportError:
        return "log-odds"
    return str(CONTRIBUTION_SCALE)


# --- training (helper D): examples -> tune -> fit -> calibrate -> compare -> save -> track ---

TRAIN_SCORE_NAMES = ("model", "logistic", "rule", "oracle")


@dataclass(frozen=True)
class TrainingResult:
    """What ``earlywarn train`` produced: the saved model, its test-year comparison, the URI.

    ``comparison`` has one row per score (model, logistic, rule, oracle when truth exists) on
    the test year; ``oracle_gap`` is the model's average precision minus the oracle's on the
    rows where the oracle is known (None without truth). ``model_uri`` is the registered
    model's URI when tracked, else the model directory.
    """

    model: RiskModel
    model_dir: Path
    model_uri: str
    run_id: str | None
    comparison: pd.DataFrame
    oracle_gap: float | None
    test_year: int
    metrics: dict[str, float]
    tuning_history: pd.DataFrame
    artifacts: dict[str, Path]


def _study_name(cfg: Config, population: str, examples_fingerprint: str) -> str:
    """Stable across reruns of the same data and search settings (so tuning resumes)."""
    from earlywarn.catalog import catalog_hash
    from earlywarn.tune import SEARCH_SPACE_VERSION

    settings = json.dumps(
        {
            "tune": cfg.tune.model_dump(
                mode="json",
                exclude={"n_trials", "timeout_seconds", "storage", "study_name", "num_threads"},
            ),
            "train": cfg.train.model_dump(
                mode="json",
                include={
                    "max_boost_rounds",
                    "early_stopping_rounds",
                    "n_valid_years",
                    "as_of_months",
                    "calibration_share",
                    "first_target_year",
                    "last_target_year",
                },
            ),
            "population": population,
            "examples": examples_fingerprint,
            "search_space": SEARCH_SPACE_VERSION,
            "catalog": catalog_hash(),
        },
        sort_keys=True,
    )
    return f"earlywarn-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def _read_truth(data_dir: Path) -> pd.DataFrame | None:
    """The simulator's truth.parquet (oracle probabilities), if the data directory has one."""
    path = data_dir / "truth.parquet"
    if not path.is_file():
        return None
    truth = pd.read_parquet(path)
    truth[HOUSEHOLD_ID] = truth[HOUSEHOLD_ID].astype("str")
    truth[AS_OF] = pd.to_datetime(truth[AS_OF]).astype("datetime64[us]")
    return truth


def _oracle_scores(keys: pd.DataFrame, truth: pd.DataFrame | None) -> np.ndarray | None:
    """Oracle probability per example row (NaN where truth has no such household and date)."""
    if truth is None:
        return None
    lookup = truth.drop_duplicates([HOUSEHOLD_ID, AS_OF]).set_index([HOUSEHOLD_ID, AS_OF])
    index = pd.MultiIndex.from_arrays(
        [keys[HOUSEHOLD_ID].astype("str"), keys[AS_OF].astype("datetime64[us]")]
    )
    return lookup["oracle_probability"].reindex(index).to_numpy(dtype=float)


def _rule_scores(tables: Any, keys: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The current rule's flags (1.0/0.0) per example row, computed at each as-of date."""
    from earlywarn.rule import RULE_FLAGGED, rule_flags

    flagged = np.zeros(len(keys), dtype=float)
    for as_of, rows in keys.groupby(AS_OF, sort=True).indices.items():
        ids = keys[HOUSEHOLD_ID].to_numpy()[rows]
        flags = rule_flags(tables, pd.Timestamp(as_of), ids, cfg=cfg.rule)
        flagged[rows] = flags[RULE_FLAGGED].to_numpy(dtype=float)
    return flagged


def _logit(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(clipped / (1 - clipped))


def _save_figure(figure: Any, target: Path) -> Path:
    with atomic_path(target) as staged:
        figure.savefig(staged, format="png")
    return target


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
    from earlywarn.schema import read_tables

    if track:  # fail before reading anything when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    check_writable(Path(out_dir) if out_dir is not None else cfg.train.models_dir, folder=True)
    data_dir = Path(data_dir)
    tables = read_tables(data_dir, mapping=cfg.data.mapping)
    return train_on_tables(
        cfg,
        tables,
        truth=_read_truth(data_dir),
        out_dir=out_dir,
        trials=trials,
        population=population,
        track=track,
    )


def train_on_tables(
    cfg: Config,
    tables: Any,
    *,
    truth: pd.DataFrame | None = None,
    out_dir: Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
) -> TrainingResult:
    """Train, calibrate and compare the risk model on a data directory; save and track it.

    Examples at ``cfg.train.as_of_months`` of every labelled target year; the last target
    year is the test (never tuned, calibrated or chosen on), the one before calibrates, the
    rest fit (see :mod:`earlywarn.examples`). The model goes to ``out_dir`` (default
    ``models/<run-name>``), the card, plots and tables to ``<out_dir>_card/``; the study to
    ``cfg.tune.storage`` (default ``tuning.sqlite3`` beside the model directory) so that an
    interrupted tuning resumes. ``track=False`` (unit tests only) skips MLflow.
    """
    from dataclasses import replace

    import optuna

    from earlywarn.baseline import fit_logistic, predict_logistic
    from earlywarn.catalog import catalog_frame, catalog_hash
    from earlywarn.drift import drift_reference
    from earlywarn.evaluate import (
        by_month,
        compare,
        expected_calibration_error,
        reliability_table,
        subgroup_attributes,
        subgroup_gaps,
        subgroup_table,
    )
    from earlywarn.examples import (
        as_of_dates,
        build_examples,
        labelled_target_years,
        split_out_of_time,
    )
    from earlywarn.model import save_model
    from earlywarn.model_card import ModelCard, render_model_card
    from earlywarn.plots import precision_recall_figure, reliability_figure
    from earlywarn.policy import flag_rounds
    from earlywarn.storage import fingerprint_frame
    from earlywarn.train import calibrate, fit_calibrator, fit_model
    from earlywarn.tune import SearchBounds, effective_leaves, explanation_rate, search

    if track:  # fail before any tuning when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    population = population or cfg.data.population
    fingerprints = {
        name: fingerprint_frame(getattr(tables, name))
        for name in ("households", "household_years", "events", "assistance", "lines")
    }

    years = [
        y
        for y in labelled_target_years(tables)
        if (cfg.train.first_target_year is None or y >= cfg.train.first_target_year)
        and (cfg.train.last_target_year is None or y <= cfg.train.last_target_year)
    ]
    examples = build_examples(
        tables, as_of_dates(years, cfg.train.as_of_months), population=population
    )
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

    run_name = cfg.train.run_name or (f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{config_hash(cfg)[:8]}")
    model_dir = Path(out_dir) if out_dir is not None else cfg.train.models_dir / run_name
    storage_path = cfg.tune.storage or model_dir.parent / "tuning.sqlite3"
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    examples_fingerprint = fingerprint_frame(pd.concat([examples.keys, examples.labels], axis=1))
    study_name = cfg.tune.study_name or _study_name(cfg, population, examples_fingerprint)
    bounds = SearchBounds(
        max_boost_rounds=cfg.train.max_boost_rounds,
        early_stopping_rounds=cfg.train.early_stopping_rounds,
        size_tolerance=cfg.train.size_tolerance,
    )
    tuning = search(
        fit.features,
        fit.labels,
        split.folds,
        cfg.tune,
        storage_url=f"sqlite:///{Path(storage_path).resolve()}",
        study_name=study_name,
        n_trials=trials,
        bounds=bounds,
    )

    seed, threads = cfg.tune.seed, cfg.tune.num_threads
    model = fit_model(
        fit.features,
        fit.labels,
        tuning.params,
        seed=seed,
        num_threads=threads,
        num_boost_round=tuning.num_boost_round,
        catalog_hash=catalog_hash(),
    )
    uncalibrated_cal_ece = expected_calibration_error(
        calibration.labels.to_numpy(dtype=float), model.predict_risk(calibration.features)
    )
    model = calibrate(model, calibration.features, calibration.labels, method=cfg.train.calibration)
    logistic = fit_logistic(fit.features, fit.labels, seed=seed)
    logistic_calibrator = fit_calibrator(  # same held-out recalibration as the booster
        _logit(predict_logistic(logistic, calibration.features)),
        calibration.labels.to_numpy(dtype=float),
        cfg.train.calibration,
    )

    y_test = test.labels.to_numpy(dtype=float)
    scores: dict[str, np.ndarray] = {
        "model": model.predict_risk(test.features),
        "logistic": logistic_calibrator(_logit(predict_logistic(logistic, test.features))),
        "rule": _rule_scores(tables, test.keys, cfg),
    }
    oracle = _oracle_scores(test.keys, truth)
    if oracle is not None and np.isfinite(oracle).any():
        scores["oracle"] = oracle
    households = tables.households.set_index(HOUSEHOLD_ID)
    flagged = {
        name: flag_rounds(test.keys, score, households, cfg.policy)
        for name, score in scores.items()
        if name != "rule"
    }
    flagged["rule"] = scores["rule"] > 0
    comparison = compare(y_test, scores, flagged, probabilistic=[n for n in scores if n != "rule"])
    oracle_gap: float | None = None
    if "oracle" in scores:
        known = np.isfinite(scores["oracle"])
        same_rows = compare(
            y_test[known],
            {n: s[known] for n, s in scores.items()},
            {n: f[known] for n, f in flagged.items()},
            probabilistic=[n for n in scores if n != "rule"],
        )
        ap = same_rows.set_index("model")["average_precision"]
        oracle_gap = float(ap["model"] - ap["oracle"])

    evaluation = pd.concat([test.keys, subgroup_attributes(tables, test.keys)], axis=1)
    evaluation = evaluation.assign(label=y_test, risk=scores["model"], flagged=flagged["model"])
    subgroups = subgroup_table(evaluation, label="label", risk="risk", flagged="flagged")
    gaps = subgroup_gaps(subgroups)
    months = by_month(evaluation, label="label", risk="risk", flagged="flagged")
    reliability = reliability_table(y_test, scores["model"])
    rate = explanation_rate(
        model.booster, model.prepare(test.features), n_rows=cfg.train.explain_rate_rows
    )

    metrics: dict[str, float] = {}
    for row in comparison.to_dict("records"):
        for key, value in row.items():
            if key != "model":
                metrics[f"test_{key}_{row['model']}"] = float(value)
    if oracle_gap is not None:
        metrics["test_average_precision_gap_to_oracle"] = oracle_gap
    metrics.update(
        {
            "tune_best_value": tuning.best_value,
            "tune_chosen_value": tuning.chosen_value,
            "tune_n_trials": float((tuning.history["state"] != "RUNNING").sum()),
            "model_num_trees": float(model.booster.num_trees()),
            "explanation_rate_households_per_second": rate,
            "calibration_ece_before": uncalibrated_cal_ece,
            "calibration_ece_after": expected_calibration_error(
                calibration.labels.to_numpy(dtype=float), model.predict_risk(calibration.features)
            ),
            "n_examples_fit": float(len(fit)),
            "n_examples_calibration": float(len(calibration)),
            "n_examples_test": float(len(test)),
        }
    )
    for _, gap in gaps.iterrows():
        for key in gap.index:
            if key.endswith("_gap"):
                metrics[f"subgroup_{gap['group']}_{key}"] = float(gap[key])

    chosen = {
        k.removeprefix("param_"): v
        for k, v in tuning.history.set_index("number").loc[tuning.chosen_trial].items()
        if k.startswith("param_")
    }
    metadata = {
        "config_hash": config_hash(cfg),
        "run_name": run_name,
        "population": population,
        "as_of_months": list(cfg.train.as_of_months),
        "fit_years": list(split.fit_years),
        "calibration_year": split.calibration_year,
        "test_year": split.test_year,
        "num_boost_round": tuning.num_boost_round,
        "params": tuning.params,
        "study_name": tuning.study_name,
        "chosen_trial": tuning.chosen_trial,
        "table_fingerprints": fingerprints,
        "earlywarn_version": earlywarn_version,
        "test_metrics": {k: v for k, v in metrics.items() if k.startswith("test_")},
        "explanation_rate_households_per_second": rate,
        # binned features and risk of the calibration rows (the latest year before the test,
        # the population closest in time to what is scored): scoring measures PSI against it
        "drift_reference": drift_reference(
            calibration.features, model.predict_risk(calibration.features)
        ),
    }
    model = replace(model, metadata=metadata)
    save_model(model, model_dir)

    card_dir = model_dir.with_name(f"{model_dir.name}_card")
    card_dir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Path] = {}
    plots = {
        "precision_recall": precision_recall_figure(y_test, scores),
        "reliability": reliability_figure(y_test, {n: s for n, s in scores.items() if n != "rule"}),
    }
    for name, figure in plots.items():
        artifacts[f"plots/{name}.png"] = _save_figure(figure, card_dir / f"{name}.png")
    from earlywarn.explain import contributions, shap_summary_png

    shap_sample = test.features.sample(n=min(2_000, len(test)), random_state=seed)
    shap_png = shap_summary_png(contributions(model, shap_sample), shap_sample)
    with atomic_path(card_dir / "shap_summary.png") as staged:
        staged.write_bytes(shap_png)
    artifacts["plots/shap_summary.png"] = card_dir / "shap_summary.png"
    tables_out = {
        "comparison": comparison,
        "subgroups": subgroups,
        "subgroup_gaps": gaps,
        "by_month": months,
        "reliability": reliability,
        "tuning_history": tuning.history,
    }
    for name, frame in tables_out.items():
        target = card_dir / f"{name}.csv"
        write_text_atomic(frame.to_csv(index=False), target)
        artifacts[f"evaluation/{name}.csv"] = target
    card = ModelCard(
        model_version=run_name,
        created=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        population=population,
        data_window=f"{min(years)}-{max(years)}",
        fit_years=f"{min(split.fit_years)}-{max(split.fit_years)}"
        + (
            f" and {1 - cfg.train.calibration_share:.0%} of the households of "
            f"{split.calibration_year}"
            if cfg.train.calibration_share is not None and cfg.train.calibration_share < 1
            else ""
        ),
        calibration_year=split.calibration_year,
        test_year=split.test_year,
        as_of_months=", ".join(map(str, cfg.train.as_of_months)),
        n_examples={"fit": len(fit), "calibration": len(calibration), "test": len(test)},
        comparison=comparison,
        subgroups=subgroups,
        gaps=gaps,
        by_month=months,
        reliability=reliability,
        calibration_method=cfg.train.calibration,
        tuning={
            "n_trials": int(metrics["tune_n_trials"]),
            "best_value": tuning.best_value,
            "best_trial": tuning.best_trial,
            "chosen_trial": tuning.chosen_trial,
            "chosen_value": tuning.chosen_value,
            "num_boost_round": tuning.num_boost_round,
            "num_leaves": effective_leaves(chosen),
            "max_depth": chosen.get("max_depth"),
        },
        explanation_rate=rate,
        config_hash=config_hash(cfg),
        catalog_hash=catalog_hash(),
        limitations=_limitations(oracle_gap, gaps),
        plots={**{name: f"{name}.png" for name in plots}, "shap_summary": "shap_summary.png"},
    )
    markdown, html = render_model_card(card)
    for suffix, text in (("md", markdown), ("html", html)):
        write_text_atomic(text, card_dir / f"model_card.{suffix}")
        artifacts[f"model_card.{suffix}"] = card_dir / f"model_card.{suffix}"

    model_uri, run_id = str(model_dir), None
    if track:
        from earlywarn.tracking import log_training_run

        params = {
            **tuning.params,
            "num_boost_round": tuning.num_boost_round,
            "population": population,
            "study_name": tuning.study_name,
            "chosen_trial": tuning.chosen_trial,
        }
        ref = log_training_run(
            config=cfg,
            model=model,
            model_dir=model_dir,
            metrics=metrics,
            params=params,
            table_fingerprints=fingerprints,
            artifacts=artifacts,
            input_example=test.features.head(5),
            tuning_history=tuning.history,
            feature_catalog=catalog_frame(),
            run_name=run_name,
        )
        model_uri, run_id = ref.registered_uri, ref.run_id
    log.info("training finished in %.1f s: %s", time.perf_counter() - started, model_uri)
    return TrainingResult(
        model=model,
        model_dir=model_dir,
        model_uri=model_uri,
        run_id=run_id,
        comparison=comparison,
        oracle_gap=oracle_gap,
        test_year=split.test_year,
        metrics=metrics,
        tuning_history=tuning.history,
        artifacts=artifacts,
    )


def _limitations(oracle_gap: float | None, gaps: pd.DataFrame) -> tuple[str, ...]:
    """The model card's limitations: fixed caveats plus what this run measured."""
    items = [
        "Trained on past target years; a new poverty line, a new assistance policy or a shock "
        "unlike past ones (a pandemic) can change who becomes poor faster than the model learns.",
        "Income comes from yearly survey rounds: a household's situation between rounds is "
        "known only through reported events, so early-year scores rest mostly on last year.",
        "Unknown or unseen villages/counties are treated as missing by the booster.",
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


def run_validate(data_dir: Path, *, mapping: Path | None = None) -> Summary:
    """Read and check a data directory against the data contract; write nothing.

    Returns counts for a summary; raises SchemaError listing every problem.
    """
    from earlywarn.schema import read_tables, summarize

    tables = read_tables(Path(data_dir), mapping=mapping)
    summary = summarize(tables)
    log.info(
        "validated %s: %d households, %d survey rounds",
        data_dir,
        summary.n_households,
        summary.n_rounds,
    )
    return summary


def run_promote(cfg: Config, version: str, *, name: str | None = None) -> Any:
    """Make ``version`` (a number or an alias such as ``candidate``) the ``champion`` of the
    registered model (default ``cfg.tracking.registered_model``) if it beats the rule on the
    test year; returns a :class:`earlywarn.tracking.Promotion`, raises ``PromotionRefused``."""
    from earlywarn.tracking import promote

    return promote(version, name=name or cfg.tracking.registered_model)


# --- simulation (helper B) ---------------------------------------------------------------

TRUTH_TABLE = "truth"


def run_simulate(
    out_dir: Path, *, n_households: int, seed: int, n_oracle_draws: int, workers: int = 1
) -> Any:
    """Simulate households and write them (contract-shaped) with ``truth.parquet``, atomically.

    Returns the :class:`~earlywarn.simulate.Simulation`.
    """
    from earlywarn.schema import write_tables
    from earlywarn.simulate import simulate_tables

    started = time.perf_counter()
    check_writable(Path(out_dir), folder=True)
    simulation = simulate_tables(n_households, seed, n_oracle_draws=n_oracle_draws, workers=workers)
    write_tables(simulation.tables, out_dir, extra={TRUTH_TABLE: simulation.truth})
    log.info(
        "simulated %d households (seed %d) into %s in %.1f s",
        n_households,
        seed,
        out_dir,
        time.perf_counter() - started,
    )
    return simulation


def run_calibration(data_dir: Path) -> Any:
    """Read a simulated data directory (tables + truth.parquet) and compute its calibration
    figures (:class:`~earlywarn.calibration.CalibrationFigures`)."""
    from earlywarn.calibration import calibration_figures
    from earlywarn.errors import EarlywarnError
    from earlywarn.schema import read_tables
    from earlywarn.simulate import Simulation

    data_dir = Path(data_dir)
    truth_path = data_dir / f"{TRUTH_TABLE}.parquet"
    if not truth_path.exists():
        raise EarlywarnError(
            f"{truth_path} does not exist: calibration needs a directory "
            "written by `earlywarn simulate`"
        )
    tables = read_tables(data_dir)
    truth = pd.read_parquet(truth_path)
    return calibration_figures(Simulation(tables=tables, truth=truth))


@dataclass(frozen=True)
class FeaturesResult:
    """What ``run_features`` wrote: one row per household of the population."""

    out: Path
    as_of: pd.Timestamp
    population: str
    n_households: int
    n_features: int
    n_labels_known: int
    n_poor: int
    seconds: float


def run_features(
    data_dir: Path,
    as_of: pd.Timestamp | str,
    out: Path,
    *,
    population: Population = "exited",
    mapping: Path | None = None,
) -> FeaturesResult:
    """Read a data directory, build the features and label as of ``as_of`` for the population
    and write them (household_id, the catalog's features, label_poor) to ``out`` atomically
    (Parquet, or CSV when ``out`` ends in .csv)."""
    from earlywarn.columns import HOUSEHOLD_ID, LABEL_POOR
    from earlywarn.features import build_features
    from earlywarn.labels import make_labels
    from earlywarn.schema import read_tables

    started = time.perf_counter()
    as_of = pd.Timestamp(as_of)
    check_writable(Path(out), folder=False)
    tables = read_tables(Path(data_dir), mapping=mapping)
    labels = make_labels(tables, as_of, population=population)
    features = build_features(tables, as_of=as_of, households=labels.index)
    frame = features.assign(**{LABEL_POOR: labels}).reset_index(names=HOUSEHOLD_ID)
    out = Path(out)
    if out.suffix.lower() == ".csv":
        with atomic_path(out) as staged:
            frame.to_csv(staged, index=False)
    else:
        write_parquet_atomic(frame, out, index=False)
    seconds = time.perf_counter() - started
    log.info(
        "features as of %s: %d households x %d features in %.1f s",
        as_of.date(),
        len(frame),
        features.shape[1],
        seconds,
    )
    return FeaturesResult(
        out=out,
        as_of=as_of,
        population=population,
        n_households=len(frame),
        n_features=features.shape[1],
        n_labels_known=int(labels.notna().sum()),
        n_poor=int(labels.fillna(False).sum()),
        seconds=seconds,
    )


def run_catalog_docs(out: Path) -> Path:
    """Write the feature catalog as Markdown (``docs/features.md``) atomically."""
    from earlywarn.catalog import render_catalog_markdown

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(render_catalog_markdown() + "\n", out)
    return out


# --- reports (helper E) -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportsResult:
    """What ``earlywarn report`` wrote: pages, PDFs and flagged households, in ``out_dir``."""

    out_dir: Path
    lang: str
    n_households: int
    n_pages: int
    n_pdfs: int
    seconds: float


def read_scores(scores_path: Path) -> pd.DataFrame:
    """A scores file (Parquet) with the data contract's columns and values, its rows carrying
    the as_of and model version its metadata records, else a SchemaError."""
    from earlywarn.errors import SchemaError
    from earlywarn.report import check_scores

    scores_path = Path(scores_path)
    if not scores_path.exists():
        raise SchemaError(f"scores file {scores_path} does not exist")
    if not scores_path.is_file():
        raise SchemaError(f"scores file {scores_path} is a folder, not a Parquet file")
    try:
        scores = pd.read_parquet(scores_path)
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, ValueError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    recorded = {
        column: kv[key].decode("utf-8", errors="replace")
        for column, key in (
            (AS_OF, b"earlywarn.as_of"),
            (MODEL_VERSION, b"earlywarn.model_version"),
        )
        if key in kv
    }
    check_scores(scores, f"the scores file {scores_path}", recorded=recorded)
    return scores


def _recorded_date(text: str, scores_path: Path) -> pd.Timestamp:
    """The as_of a scores file records, else a SchemaError (the file was edited)."""
    from earlywarn.errors import SchemaError

    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError, OverflowError) as err:
        raise SchemaError(
            f"scores file {scores_path} records as_of {text!r}, which is not a date "
            "(YYYY-MM-DD): the file was not written by earlywarn score as it is now"
        ) from err


def write_pdfs(pages: dict[str, str], booklets: dict[str, list[str]], out_dir: Path) -> int:
    """Render each booklet (several pages, one PDF) with WeasyPrint; returns how many."""
    from weasyprint import HTML

    for target, paths in booklets.items():
        documents = [HTML(string=pages[path], base_url=str(out_dir)).render() for path in paths]
        all_pages = [page for document in documents for page in document.pages]
        destination = out_dir / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        documents[0].copy(all_pages).write_pdf(destination)
    return len(booklets)


def run_reports(
    scores_path: Path,
    data_dir: Path,
    out_dir: Path,
    *,
    cfg: Config | None = None,
    lang: str | None = None,
    pdf: bool | None = None,
    glossary_path: Path | None = None,
    data_changed_ok: bool = False,
) -> ReportsResult:
    """Caseworker sheets, village lists and county summaries for the flagged households of a
    scores file, as self-contained HTML (and PDF booklets per village and county with
    ``pdf``). The whole ``out_dir`` is replaced in one step (atomic): keep nothing else there.

    When the scores file records the fingerprints of the tables it was made from, ``data_dir``
    must hold those same tables (else the sheets would mix one day's risk with another day's
    figures); ``data_changed_ok`` reports anyway, with a warning.
    """
    from earlywarn.reasons import load_glossary
    from earlywarn.report import build_reports
    from earlywarn.schema import read_tables

    started = time.perf_counter()
    cfg = cfg or Config()
    lang = lang or cfg.report.lang
    pdf = cfg.report.pdf if pdf is None else pdf
    check_writable(Path(out_dir), folder=True)
    glossary = load_glossary(glossary_path or cfg.report.glossary)
    scores = read_scores(scores_path)
    tables = read_tables(Path(data_dir), mapping=cfg.data.mapping)
    _check_same_data(Path(scores_path), Path(data_dir), data_changed_ok)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    reports = build_reports(scores, tables, glossary=glossary, lang=lang, generated=generated)
    out_dir = Path(out_dir)
    n_pdfs = 0
    with atomic_path(out_dir) as staged:
        staged.mkdir(parents=True)
        for relative, html in reports.pages.items():
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
        if pdf:
            n_pdfs = write_pdfs(reports.pages, reports.booklets, staged)
    seconds = time.perf_counter() - started
    log.info(
        "reports: %d households, %d pages, %d PDFs in %.1f s",
        reports.n_households,
        len(reports.pages),
        n_pdfs,
        seconds,
    )
    return ReportsResult(
        out_dir=out_dir,
        lang=lang,
        n_households=reports.n_households,
        n_pages=len(reports.pages),
        n_pdfs=n_pdfs,
        seconds=seconds,
    )


def _check_same_data(scores_path: Path, data_dir: Path, data_changed_ok: bool) -> None:
    """Refuse (or with ``data_changed_ok`` warn about) tables that changed since scoring."""
    from earlywarn.errors import SchemaError
    from earlywarn.rederive import changed_inputs

    recorded = pq.read_schema(scores_path).metadata or {}
    if b"earlywarn.input_fingerprints" not in recorded:
        log.info("%s records no input fingerprints; data not checked", scores_path.name)
        return
    meta = read_scores_metadata(scores_path)
    changed = changed_inputs(meta["earlywarn.input_fingerprints"], table_fingerprints(data_dir))
    if not changed:
        return
    if data_changed_ok:
        log.warning(
            "reporting on tables that changed since %s was made: %s",
            scores_path.name,
            "; ".join(changed),
        )
        return
    raise SchemaError(
        f"the tables in {data_dir} are not the ones {scores_path.name} was made from, so the "
        "sheets would mix its risks with other figures:\n  "
        + "\n  ".join(changed)
        + "\nscore again on these tables, report on the tables the scores were made from, or "
        "pass --data-changed-ok to report anyway"
    )


# --- demo: the whole path on the built-in default ----------------------------------------

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"


@dataclass(frozen=True)
class DemoResult:
    """Where ``earlywarn demo`` put each stage's output, and the headline figures."""

    data_dir: Path
    model_uri: str
    training: Any
    scores_path: Path
    scoring: Any
    reports: dict[str, Any]
    tracking_uri: str


def run_demo(
    cfg: Config,
    out_dir: Path,
    *,
    as_of: pd.Timestamp | None = None,
    pdf: bool = False,
    langs: tuple[str, ...] = ("zh-CN", "en"),
    on_stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Simulated households -> validated tables -> trained model -> scores -> reports.

    Everything goes under ``out_dir``: ``data/`` (with truth.parquet), ``models/``,
    ``mlflow.db`` (unless ``MLFLOW_TRACKING_URI`` is set), ``scores.parquet`` and
    ``reports/<lang>/``. Scoring is as of 1 January after the last simulated year: the
    warning for the year ahead, from everything known when it starts.
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
    )
    stage("validating the data directory against the data contract")
    run_validate(data_dir, mapping=cfg.data.mapping)

    stage("tuning, fitting and calibrating the risk model")
    training = run_training(cfg, data_dir, out_dir=out_dir / "models" / "demo")

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

    reports: dict[str, Any] = {}
    for lang in langs:
        stage(f"writing caseworker reports ({lang})")
        reports[lang] = run_reports(
            scores_path, data_dir, out_dir / "reports" / lang, cfg=cfg, lang=lang, pdf=pdf
        )
    return DemoResult(
        data_dir=data_dir,
        model_uri=training.model_uri,
        training=training,
        scores_path=scores_path,
        scoring=scoring,
        reports=reports,
        tracking_uri=uri,
    )


# --- audit: re-deriving a household's score (helper H) ------------------------------------


@dataclass(frozen=True)
class ExplainResult:
    """A household's recorded score next to the one re-derived from the recorded inputs."""

    rederivation: Any  # earlywarn.rederive.Rederivation
    scores_path: Path
    data_dir: Path
    model_uri: str
    model_version: str
    as_of: pd.Timestamp
    population: str
    config_hash: str


def read_scores_metadata(scores_path: Path) -> dict[str, Any]:
    """What a scores file records about its inputs: the Parquet key-value metadata, completed
    by ``<scores>.meta.json`` when it is there (data dir, model URI, explain, lang)."""
    from earlywarn.errors import SchemaError

    scores_path = Path(scores_path)
    try:
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    meta = {k.decode(): v.decode() for k, v in kv.items() if k.startswith(b"earlywarn.")}
    if "earlywarn.input_fingerprints" not in meta:
        raise SchemaError(
            f"scores file {scores_path} records no input fingerprints: it was "
            "not written by earlywarn score, or by a version before the audit "
            "trail"
        )
    try:
        fingerprints = json.loads(meta["earlywarn.input_fingerprints"])
    except json.JSONDecodeError as err:
        fingerprints = err
    if not isinstance(fingerprints, dict):
        raise SchemaError(
            f"scores file {scores_path}: its recorded input fingerprints are not readable "
            "(not a JSON object of file name -> sha256); the file was edited"
        )
    meta["earlywarn.input_fingerprints"] = fingerprints
    if "earlywarn.as_of" not in meta:
        raise SchemaError(f"scores file {scores_path} records no as_of date; the file was edited")
    _recorded_date(meta["earlywarn.as_of"], scores_path)
    sidecar = scores_path.with_name(scores_path.name + ".meta.json")
    if sidecar.is_file():
        try:
            extra = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            extra = err
        if not isinstance(extra, dict):
            raise SchemaError(
                f"{sidecar} is not readable (not a JSON object); remove it and pass --data "
                "and --model, or restore it"
            )
        for key in ("data_dir", "model_uri", "explain", "lang"):
            if key in extra:
                meta.setdefault(key, extra[key])
    return meta


def run_explain(
    cfg: Config,
    household_id: str,
    scores_path: Path,
    *,
    data_dir: Path | None = None,
    model_uri: str | None = None,
) -> ExplainResult:
    """Re-derive ``household_id``'s risk, flag and reasons from the inputs the scores file
    records, after checking they are the same: each table file's SHA-256, the model version
    and the config hash (pass the config used for scoring). ``data_dir``/``model_uri``
    override the recorded locations (files moved), never the checks. Raises EarlywarnError
    when an input no longer matches; the comparison itself is in the result.
    """
    from earlywarn.errors import ConfigError, ModelError, SchemaError
    from earlywarn.rederive import (
        changed_inputs,
        compare_scores,
        recorded_score,
        rederive_household,
    )
    from earlywarn.schema import read_tables

    scores_path = Path(scores_path)
    scores = read_scores(scores_path)
    meta = read_scores_metadata(scores_path)
    recorded = recorded_score(scores, household_id)

    recorded_data = meta.get("data_dir")
    if data_dir is None and recorded_data is None:
        raise ConfigError(f"{scores_path} does not record its data directory: pass --data")
    data_dir = Path(data_dir if data_dir is not None else recorded_data)  # type: ignore[arg-type]
    if not data_dir.is_dir():
        raise SchemaError(
            f"data directory {data_dir} (recorded by {scores_path.name}) does "
            "not exist: pass --data where the tables are now"
        )
    problems = changed_inputs(meta["earlywarn.input_fingerprints"], table_fingerprints(data_dir))
    if problems:
        try:  # say too what is wrong with them, when they break the data contract
            read_tables(data_dir, mapping=cfg.data.mapping)
        except SchemaError as err:
            problems.append(f"and they break the data contract: {err}")
        raise SchemaError(
            f"the tables in {data_dir} are not the ones {scores_path.name} was made from; "
            "refusing to re-derive:\n  " + "\n  ".join(problems)
        )

    recorded_hash = meta.get("earlywarn.config_hash")
    if recorded_hash is not None and recorded_hash != config_hash(cfg):
        raise ConfigError(
            f"{scores_path.name} was made with config {recorded_hash}, this "
            f"config is {config_hash(cfg)}: pass the --config used for scoring"
        )

    model_uri = model_uri or meta.get("model_uri")
    if model_uri is None:
        raise ConfigError(f"{scores_path} does not record its model: pass --model")
    model = resolve_scoring_model(model_uri)
    recorded_version = meta.get("earlywarn.model_version")
    if recorded_version is not None and model.version != recorded_version:
        raise ModelError(
            f"model {model_uri} is version {model.version}, {scores_path.name} "
            f"was made with version {recorded_version}; refusing to re-derive"
        )

    as_of = pd.Timestamp(meta["earlywarn.as_of"])
    population = meta.get("earlywarn.population", cfg.data.population)
    explain = meta.get("explain")
    explained = (
        explain == "all" or (explain == "flagged" and recorded.flagged)
        if explain is not None
        else bool(recorded.reasons)
    )
    tables = read_tables(data_dir, mapping=cfg.data.mapping)
    rederived = rederive_household(
        tables,
        model,
        str(household_id),
        as_of=as_of,
        population=population,
        policy_cfg=cfg.policy,
        explained=explained,
        n_reasons=cfg.score.n_reasons,
        lang=meta.get("lang", "en"),
        rule_cfg=cfg.rule,
    )
    comparison = compare_scores(recorded, rederived)
    log.info(
        "re-derived household %s from %s: %s",
        household_id,
        scores_path.name,
        "match" if comparison.matches else f"{len(comparison.differences)} differences",
    )
    return ExplainResult(
        rederivation=comparison,
        scores_path=scores_path,
        data_dir=data_dir,
        model_uri=str(model_uri),
        model_version=model.version,
        as_of=as_of,
        population=str(population),
        config_hash=config_hash(cfg),
    )
