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

import pandas as pd
from rich.progress import Progress

from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, RISK
from earlywarn.errors import SchemaError
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring import slices
from earlywarn.scoring.chunks import ScoringPlan, collect_risks, household_chunks
from earlywarn.scoring.partitions import (
    PartitionPlan,
    explain_chunk_of_partitions,
    score_partition,
    worker_identity,
)
from earlywarn.scoring.runner import ChunkJob, ChunkRunner, StageClock, advance_by_households
from earlywarn.scoring.score import attach_reasons, finish_scores, place_status
from earlywarn.scoring.work_dir import WorkDir

PART = "partition"


@dataclass(frozen=True)
class PartitionScores:
    """A partitioned run's scores (reasons attached), drift counts, the monitoring status of
    each household (None when the data hold no monitoring cycle) and partitions reused."""

    scores: pd.DataFrame
    counts: dict[str, Any]
    status: pd.DataFrame | None
    n_reused: int


def score_partitions(
    runner: ChunkRunner,
    groups: Sequence[tuple[str, ...]],
    model: RiskModel,
    plan: ScoringPlan,
    parts: PartitionPlan,
    *,
    bar: Progress,
    clock: StageClock,
) -> PartitionScores:
    """Pass 1 on the workers, the checks across partitions, flags and ranks here, pass 2 on
    the workers; every problem of every partition in one :class:`SchemaError`."""
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
        households_frame=households.reset_index(),
        model_version=model.version,
    )
    clock.lap("flag_and_rank")
    reasons = pd.Series([], dtype=object)
    if plan.explain != "none":
        chosen = scores[FLAGGED] if plan.explain == "flagged" else slice(None)
        reasons = _explain(
            runner,
            model_ref,
            plan,
            parts,
            groups,
            households,
            pd.Index(scores[HOUSEHOLD_ID]),
            set(scores.loc[chosen, HOUSEHOLD_ID]),
            rule_ok=all(f["rule_applies"] for f in facts),
            bar=bar,
        )
    scores = attach_reasons(scores, reasons)  # as the local engine does, even with none
    clock.lap("reasons")
    status = None
    if any(f["has_cycle"] for f in facts):
        status = pd.concat([work.read_part("status", i)[0] for i in range(len(groups))])
    return PartitionScores(scores, counts, status, n_reused)


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
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every partition's households (index household_id: county, village, partition number)
    and facts; raises one SchemaError with the partitions' problems and a household id
    found in two partitions."""
    frames, facts = [], []
    for i in range(len(groups)):
        if not work.has_chunk(i):
            continue
        frame, found = work.read_part("households", i)
        frames.append(frame.assign(**{PART: i}))
        facts.append(found)
    households = pd.concat(frames) if frames else pd.DataFrame()
    twice = households.index[households.index.duplicated(keep=False)] if frames else []
    if len(twice):
        where = (
            households.loc[twice, PART]
            .groupby(level=0)
            .agg(lambda numbers: " and ".join(", ".join(groups[n]) for n in numbers))
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


def _explain(
    runner: ChunkRunner,
    model_ref: Any,
    plan: ScoringPlan,
    parts: PartitionPlan,
    groups: Sequence[tuple[str, ...]],
    households: pd.DataFrame,
    population: pd.Index,
    wanted: set[str],
    *,
    rule_ok: bool,
    bar: Progress,
) -> pd.Series:
    """Pass 2: reasons for the ``wanted`` households, in the local engine's chunks of the
    (sorted) ``population``, each chunk's households read from their partitions."""
    work = parts.work
    advance = advance_by_households(bar, bar.add_task("reasons", total=len(wanted)))
    villages = pd.concat([work.read_part("villages", i)[0] for i in range(len(groups))])
    villages_ref = runner.broadcast(villages)
    chunks = household_chunks(population, parts.chunk_size)
    jobs = []
    for c, chunk in enumerate(chunks):
        ids = [hid for hid in chunk if hid in wanted]
        if not ids:
            continue
        if work.has_reasons(c):
            advance(len(ids))
            continue
        number = households[PART].reindex(pd.Index(ids)).to_numpy()
        pieces = [
            (int(i), groups[int(i)], [h for h, n in zip(ids, number, strict=True) if n == i])
            for i in sorted(set(number.tolist()))
        ]
        jobs.append(ChunkJob(c, (c, pieces, model_ref, parts, plan.texts, villages_ref, rule_ok)))
    for _, n_explained in runner.run(explain_chunk_of_partitions, jobs):
        advance(n_explained)
    return work.read_reasons(len(chunks))


def attach_status(scores: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Scores with the workers' monitoring status (indexed by household id) placed as
    :func:`earlywarn.scoring.score.attach_monitoring_status` places it."""
    return place_status(scores, status.reindex(scores[HOUSEHOLD_ID].to_numpy()))
