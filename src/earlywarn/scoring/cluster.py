"""The client's side of scoring partitions on Dask workers (:mod:`~earlywarn.scoring.partitions`):
it hands out groups of partitions (tasks of about ``chunk_size / 2`` households, a county
too large for one task cut into household-range slices: :func:`group_partitions`, whose
place counts are gathered first, :mod:`~earlywarn.scoring.slices`) as workers have room,
gathers every problem, flags across the whole population and asks for the reasons; it never
reads a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.progress import Progress

from earlywarn.data.columns import COUNTY, FLAGGED, HOUSEHOLD_ID, REASONS, RISK, VILLAGE
from earlywarn.errors import SchemaError
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring import slices
from earlywarn.scoring.chunks import ScoringPlan, collect_risks
from earlywarn.scoring.dataset_parts import write_scores_parts
from earlywarn.scoring.history import compare_with_previous
from earlywarn.scoring.partitions import (
    PartitionPlan,
    explain_chunk_of_partitions,
    score_partition,
    worker_identity,
)
from earlywarn.scoring.runner import ChunkJob, ChunkRunner, StageClock, advance_by_households
from earlywarn.scoring.score import finish_scores, place_status
from earlywarn.scoring.work_dir import WorkDir

PART = "partition"


@dataclass(frozen=True)
class PartitionScores:
    """A partitioned run's scores compared with the last run (reasons and monitoring status
    attached when the whole file is wanted, else left out), drift counts and tasks reused."""

    scores: pd.DataFrame
    counts: dict[str, Any]
    n_reused: int
    reasons: pa.Table | None = None
    """With the whole file: the reasons of the explained, as Arrow (household_id, reasons)
    for :func:`~earlywarn.scoring.scores_file.write_scores_parquet`; the frame has none."""


@dataclass(frozen=True)
class PartitionOutputs:
    """What the run writes: the last run's scores to compare with (``previous``), whether
    the client assembles the whole scores frame (``whole``), and the file metadata the
    workers write into a dataset partitioned by county (None: no dataset)."""

    previous: pd.DataFrame | None
    whole: bool = True
    dataset_metadata: dict[str, str] | None = None


def score_partitions(
    runner: ChunkRunner,
    groups: Sequence[tuple[str, ...]],
    model: RiskModel,
    plan: ScoringPlan,
    parts: PartitionPlan,
    outputs: PartitionOutputs,
    *,
    bar: Progress,
    clock: StageClock,
) -> PartitionScores:
    """Pass 1 on the workers, the checks across partitions, flags and ranks here, pass 2 on
    the workers, the comparison with the last run here, then the workers write the dataset;
    every problem of every partition in one :class:`SchemaError`."""
    runner.check_workers(worker_identity)
    work = parts.work
    n_reused = sum(work.has_chunk(i) for i in range(len(groups)))
    model_ref = runner.broadcast(model)
    drift = model.metadata.get("drift_reference")
    todo = {i for i in range(len(groups)) if not work.has_chunk(i)}
    found = slices.aggregate_slices(runner, groups, parts, todo, bar=bar)
    task = bar.add_task("partitions", total=len(groups), completed=n_reused)
    jobs = (
        ChunkJob(i, (i, group, model_ref, parts, drift, found.totals.get(i)))
        for i, group in enumerate(groups)
        if i in todo and (i not in found.sliced or i in found.totals)
    )
    problems = list(found.problems)
    for _, result in runner.run(score_partition, jobs):
        problems.extend(result.problems)
        bar.advance(task)
    households, facts = _households(work, groups, problems)
    clock.lap("read_validate_features_and_risk")
    risks, counts = collect_risks(work, len(groups), with_reasons=False, drift_reference=drift)
    scores = finish_scores(
        risks[[RISK]],
        as_of=plan.as_of,
        policy_cfg=plan.policy_cfg,
        households_frame=_places(households, risks.index),
        model_version=model.version,
    )
    part_of = households[PART].take(_rows_of(households, scores[HOUSEHOLD_ID])).to_numpy()
    del households, risks
    clock.lap("flag_and_rank")
    reason_chunks: dict[int, set[int]] = {}
    n_chunks = 0
    if plan.explain != "none":
        chosen = scores[FLAGGED] if plan.explain == "flagged" else slice(None)
        reason_chunks, n_chunks = _explain(
            runner,
            model_ref,
            plan,
            parts,
            groups,
            pd.Index(scores[HOUSEHOLD_ID]),
            part_of,
            set(scores.loc[chosen, HOUSEHOLD_ID]),
            rule_ok=all(f["rule_applies"] for f in facts),
            bar=bar,
        )
    scores = compare_with_previous(scores.drop(columns=[REASONS]), outputs.previous)
    clock.lap("reasons")
    with_status = any(f["has_cycle"] for f in facts)
    if outputs.dataset_metadata is not None:
        _write_dataset(
            runner, scores, part_of, reason_chunks, parts, outputs.dataset_metadata, with_status
        )
        clock.lap("write_dataset")
    if outputs.whole and with_status:
        status = pd.concat([work.read_part("status", i)[0] for i in range(len(groups))])
        scores = attach_status(scores, status)
    reasons = work.read_reasons_table(n_chunks) if outputs.whole else None
    return PartitionScores(scores, counts, n_reused, reasons)


def group_partitions(
    partitions: Sequence[str], sizes: Sequence[int], target: int, *, slice_above: int | None = None
) -> list[tuple[str, ...]]:
    """Consecutive partitions gathered into tasks of about ``target`` households (a partition
    larger than that is a task of its own): fewer, larger tasks spread a worker's fixed
    cost per read and check. A partition of more than ``slice_above`` households (default
    :data:`earlywarn.scoring.slices.SLICE_ABOVE`) is cut into household-range slices of about
    ``target`` households, one task each (``county=C01#2/5``)."""
    limit = slices.SLICE_ABOVE if slice_above is None else slice_above
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    n = 0
    for partition, size in zip(partitions, sizes, strict=True):
        if size > limit:
            if current:
                groups.append(tuple(current))
                current, n = [], 0
            groups.extend((name,) for name in slices.slice_partition(partition, size, target))
            continue
        if current and n + size > target:
            groups.append(tuple(current))
            current, n = [], 0
        current.append(partition)
        n += size
    if current:
        groups.append(tuple(current))
    return groups


def _households(
    work: WorkDir, groups: Sequence[tuple[str, ...]], problems: list[str]
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Every partition's households (household_id, county, village, partition number; kept
    in Arrow: a million ids as Python strings would be most of the client's memory) and
    facts; raises one SchemaError with the partitions' problems and a household id found in
    two partitions."""
    tables, facts = [], []
    for i in range(len(groups)):
        if not work.has_chunk(i):
            continue
        table = work.read_part_table("households", i, [HOUSEHOLD_ID, COUNTY, VILLAGE])
        tables.append(table.append_column(PART, pa.array(np.full(len(table), i, np.int32))))
        facts.append(work.read_facts("households", i))
    schema = pa.schema(
        [
            (HOUSEHOLD_ID, pa.string()),
            (COUNTY, pa.string()),
            (VILLAGE, pa.string()),
            (PART, pa.int32()),
        ]
    )
    households = (
        pa.concat_tables([t.cast(schema) for t in tables]) if tables else schema.empty_table()
    )
    counts = pc.value_counts(households[HOUSEHOLD_ID])
    twice = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    if len(twice):
        rows = households.filter(pc.is_in(households[HOUSEHOLD_ID], value_set=twice)).to_pandas()
        where = rows.groupby(HOUSEHOLD_ID)[PART].agg(
            lambda numbers: " and ".join(", ".join(groups[n]) for n in numbers)
        )
        shown = "; ".join(f"{hid} in {parts}" for hid, parts in where.head(5).items())
        problems.append(
            f"households.household_id: {len(where)} household ids are in more than one "
            f"partition, they must be unique ({shown})"
        )
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise SchemaError(
            "\n".join(
                [
                    f"{len(problems)} {noun} in the partitions read by the workers "
                    "(nothing was written; finished partitions are kept for the rerun)",
                    *(f"  {line}" for line in problems),
                ]
            )
        )
    return households, facts


def _rows_of(households: pa.Table, ids: pd.Index | np.ndarray) -> np.ndarray:
    """The row of each of ``ids`` in the households table (each is there: pass 1 scored it)."""
    return pc.index_in(
        pa.array(np.asarray(ids, dtype=object), pa.string()), households[HOUSEHOLD_ID]
    ).to_numpy()


def _places(households: pa.Table, ids: pd.Index) -> pd.DataFrame:
    """The households table :func:`finish_scores` needs (household_id, county, village) for
    the scored ``ids`` only."""
    rows = _rows_of(households, ids)
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: np.asarray(ids, dtype=object),
            COUNTY: households[COUNTY].take(rows).to_pandas(),
            VILLAGE: households[VILLAGE].take(rows).to_pandas(),
        }
    )


def _explain(
    runner: ChunkRunner,
    model_ref: Any,
    plan: ScoringPlan,
    parts: PartitionPlan,
    groups: Sequence[tuple[str, ...]],
    population: pd.Index,
    part_of: np.ndarray,
    wanted: set[str],
    *,
    rule_ok: bool,
    bar: Progress,
) -> tuple[dict[int, set[int]], int]:
    """Pass 2: reasons for the ``wanted`` households, in the local engine's chunks of the
    (sorted) ``population`` (``part_of``: each one's task), each chunk's households read
    from their partitions. Returns, per task, the chunks holding its households' reasons,
    and the number of chunks."""
    work = parts.work
    advance = advance_by_households(bar, bar.add_task("reasons", total=len(wanted)))
    villages = pd.concat([work.read_part("villages", i)[0] for i in range(len(groups))])
    villages_ref = runner.broadcast(villages)
    size = parts.chunk_size
    chunks_of: dict[int, set[int]] = {}
    jobs = []
    for c, start in enumerate(range(0, len(population), size)):
        chunk = population[start : start + size]
        keep = np.fromiter((hid in wanted for hid in chunk), dtype=bool, count=len(chunk))
        if not keep.any():
            continue
        ids, number = chunk[keep], part_of[start : start + size][keep]
        for i in np.unique(number).tolist():
            chunks_of.setdefault(int(i), set()).add(c)
        if work.has_reasons(c):
            advance(len(ids))
            continue
        pieces = [
            (int(i), groups[int(i)], ids[number == i].tolist()) for i in np.unique(number).tolist()
        ]
        jobs.append(ChunkJob(c, (c, pieces, model_ref, parts, plan.texts, villages_ref, rule_ok)))
    for _, n_explained in runner.run(explain_chunk_of_partitions, jobs):
        advance(n_explained)
    return chunks_of, -(-len(population) // size)


def _write_dataset(
    runner: ChunkRunner,
    scores: pd.DataFrame,
    part_of: np.ndarray,
    reason_chunks: dict[int, set[int]],
    parts: PartitionPlan,
    metadata: dict[str, str],
    with_status: bool,
) -> None:
    """Pass 3: each task's rows of ``scores`` (no reasons) to a worker, which writes them
    with their reasons and status as county parts of the staged dataset."""
    work = parts.work
    rows_of = pd.Series(np.arange(len(part_of))).groupby(part_of).indices
    jobs = (
        ChunkJob(
            i,
            (
                i,
                scores.take(rows).reset_index(drop=True),
                tuple(sorted(reason_chunks.get(i, ()))),
                parts,
                metadata,
                with_status,
            ),
        )
        for i, rows in sorted((int(i), rows) for i, rows in rows_of.items())
        if not work.has_dataset_part(i)
    )
    for _ in runner.run(write_scores_parts, jobs):
        pass


def attach_status(scores: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Scores with the workers' monitoring status (indexed by household id) placed as
    :func:`earlywarn.scoring.score.attach_monitoring_status` places it."""
    return place_status(scores, status.reindex(scores[HOUSEHOLD_ID].to_numpy()))
