"""Scoring a data directory partitioned by county on Dask workers that read their own data.

The client holds the plan, the model and small results, never the tables. Each task is one
county partition (``households/county=C01``, ...): its worker reads that partition of every
table from the shared path, validates it (the single-machine checks, on the partition), and
scores its population; a county partition holds whole villages and counties, so the place
rates and village figures it computes are those of the whole data. A county too large for one
worker is cut into household-range slices (``county=C01#2/5``,
:mod:`~earlywarn.data.household_slices`): their place counts and village parts are gathered
first (:func:`count_slice`) and combined, and each slice is scored with its county's totals
(:class:`SliceTotals`).

What a worker finds is kept in the run's :class:`~earlywarn.scoring.work_dir.WorkDir`: its
chunk (risks, features, drift counts), its households (id, county, village: the
cross-partition checks and the flags), its village figures and monitoring status, so a rerun
after a kill or a lost worker redoes only the partitions not finished.

Pass 1 (:func:`score_partition` per partition) -> the checks across partitions (a household
id in two partitions) and every problem at once -> flags over the whole population on the
client -> pass 2 (:func:`explain_chunk_of_partitions`: reasons for the flagged, or everyone, of each
partition, the worker reading only those households' rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from earlywarn import __version__ as earlywarn_version
from earlywarn.config import Population
from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, VILLAGE
from earlywarn.data.directory import read_raw
from earlywarn.data.household_slices import parse_slice, partition_of, slice_household_ids
from earlywarn.data.mapping import ColumnMapping
from earlywarn.data.schema import tables_from_frames, validate_tables
from earlywarn.data.tables import Tables
from earlywarn.errors import SchemaError
from earlywarn.explain.village_facts import combine_village_parts, village_facts, village_parts
from earlywarn.features.monitoring import monitoring_status
from earlywarn.features.place import (
    place_counts,
    place_counts_empty,
    place_rates,
    rates_from_counts,
)
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.chunks import (
    ReasonTexts,
    explain_chunk,
    household_chunks,
    score_chunk,
)
from earlywarn.scoring.drift import sum_counts
from earlywarn.scoring.runner import worker_mismatch
from earlywarn.scoring.score import (
    installed_catalog,
    partition_tables,
    population_ids,
    rule_applies,
)
from earlywarn.scoring.work_dir import WorkDir


def worker_identity() -> tuple[str, str]:
    """What must agree between the client and every worker: earlywarn's version and the
    feature catalog's hash."""
    return earlywarn_version, installed_catalog()[0]


@dataclass(frozen=True)
class PartitionPlan:
    """What every partition task needs besides the model: where the data and the work
    directory are, how to read, whom to score, and the client's identity."""

    data_dir: str
    mapping: ColumnMapping
    work: WorkDir
    as_of: pd.Timestamp
    population: Population
    chunk_size: int
    verified_months: int
    explain: bool
    identity: tuple[str, str]


@dataclass(frozen=True)
class SliceTotals:
    """What a household-range slice needs from the rest of its county: the county's place
    counts (:func:`~earlywarn.features.place.combine_place_counts` of every slice) and the
    task numbers of all its slices (the first slice combines their village parts)."""

    counts: pd.DataFrame
    slices: tuple[int, ...]


@dataclass(frozen=True)
class PartitionResult:
    """A partition's pass 1: households scored, or the problems that stopped it."""

    n_scored: int
    problems: tuple[str, ...] = ()


def check_identity(expected: tuple[str, str]) -> None:
    """Refuse to work on a worker whose identity differs from the client's (one that joined
    after the run started was not checked up front)."""
    here = worker_identity()
    if here != expected:
        try:
            from distributed import get_worker

            name = get_worker().address
        except (ImportError, ValueError):
            name = "(this process)"
        raise worker_mismatch(name, here, expected)


def read_partition(
    plan: PartitionPlan, partitions: str | Sequence[str], households: Sequence[str] | None = None
) -> tuple[Tables | None, tuple[str, ...]]:
    """The validated tables of some partitions or slices (some ``households`` only), or their
    problems (each line naming the partitions, table, column, rows and rule; in a slice, rows
    are counted within the slice)."""
    names = [partitions] if isinstance(partitions, str) else list(partitions)
    partition = ", ".join(names)
    if households is None and len(names) == 1 and parse_slice(names[0]) is not None:
        try:
            households = slice_household_ids(plan.data_dir, plan.mapping, names[0])
        except SchemaError as err:
            return None, (f"{partition}: {err}",)
    folders = list(dict.fromkeys(partition_of(name) for name in names))
    raw, problems = read_raw(plan.data_dir, plan.mapping, partitions=folders, households=households)
    if not problems:
        try:
            return tables_from_frames(raw, mapping=plan.mapping), ()
        except SchemaError:
            problems = validate_tables(raw, mapping=plan.mapping)
    return None, tuple(f"{partition}: {problem}" for problem in problems)


# --- what a worker runs ------------------------------------------------------------------


def score_partition(
    number: int,
    partition: str | Sequence[str],
    model: RiskModel,
    plan: PartitionPlan,
    drift: dict[str, Any],
    totals: SliceTotals | None = None,
) -> PartitionResult:
    """Pass 1 for one partition (or a group of them, or a slice of one with its county's
    ``totals``): read and validate it, score its population chunk by chunk, keep the results
    in the work directory (the chunk file last: it marks the task done). Returns how many
    households were scored, or the problems."""
    check_identity(plan.identity)
    tables, problems = read_partition(plan, partition)
    if tables is None:
        return PartitionResult(0, problems)
    as_of = plan.as_of
    ids = population_ids(tables, as_of, plan.population)
    if totals is None:
        places = place_rates(tables, as_of)
    else:
        places = rates_from_counts(tables.households, totals.counts)
    chunks = household_chunks(ids, plan.chunk_size)
    scored = [
        score_chunk(
            sub_tables, model, list(chunk), as_of=as_of, drift_reference=drift, places=sub_places
        )
        for chunk, (sub_tables, sub_places) in zip(
            chunks, partition_tables(tables, chunks, places), strict=True
        )
    ]
    frames = [frame for frame, _ in scored]
    total = sum_counts(drift, (counts for _, counts in scored))
    households = tables.households.set_index(HOUSEHOLD_ID)[[COUNTY, VILLAGE]]
    facts = {
        "rule_applies": rule_applies(tables, as_of) if plan.explain else True,
        "has_cycle": not (tables.monitoring.empty and tables.visits.empty),
    }
    plan.work.write_part("households", number, households, facts)
    if plan.explain:
        plan.work.write_part("villages", number, _villages(number, tables, plan, totals))
    status = monitoring_status(tables, as_of, ids, verified_months=plan.verified_months)
    plan.work.write_part("status", number, status)
    scored = pd.concat(frames) if frames else _empty_chunk(model, tables, as_of)
    plan.work.write_chunk(number, scored, total)
    return PartitionResult(len(ids))


def _villages(
    number: int, tables: Tables, plan: PartitionPlan, totals: SliceTotals | None
) -> pd.DataFrame:
    """The village facts a task keeps for pass 2: its own for whole partitions; for a
    county's first slice, those of its slices' village parts combined; none for the others."""
    if totals is None:
        return village_facts(tables, plan.as_of)
    if number != totals.slices[0]:
        return combine_village_parts([])
    return combine_village_parts(plan.work.read_part("village_parts", i)[0] for i in totals.slices)


def count_slice(
    number: int, name: str, plan: PartitionPlan
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The aggregate pass for slice ``number`` (``name``: ``county=C01#2/5``): read and
    validate it, return its place counts (or its problems); keep its village parts in the
    work directory when reasons are wanted."""
    check_identity(plan.identity)
    tables, problems = read_partition(plan, name)
    if tables is None:
        return place_counts_empty(), problems
    if plan.explain:
        plan.work.write_part("village_parts", number, village_parts(tables, plan.as_of))
    return place_counts(tables, plan.as_of), ()


def _empty_chunk(model: RiskModel, tables: Tables, as_of: pd.Timestamp) -> pd.DataFrame:
    frame, _ = score_chunk(tables, model, [], as_of=as_of, drift_reference=None)
    return frame


def explain_chunk_of_partitions(
    number: int,
    pieces: list[tuple[int, tuple[str, ...], list[str]]],
    model: RiskModel,
    plan: PartitionPlan,
    texts: ReasonTexts,
    villages: pd.DataFrame,
    rule_triggers: bool,
) -> int:
    """Pass 2 for chunk ``number`` of the population (cut as the local engine cuts it, so
    reasons are computed on the same batches): ``pieces`` are (partition number, partition,
    household ids). Reasons from the features pass 1 kept and the households' own rows
    (read by a Parquet filter), kept in the work directory; returns how many."""
    check_identity(plan.identity)
    wanted = sorted(hid for _, _, ids in pieces for hid in ids)
    names = dict.fromkeys(partition_of(name) for _, group, _ in pieces for name in group)
    tables, problems = read_partition(plan, list(names), wanted)
    if tables is None:
        raise SchemaError("\n".join(problems))
    features = pd.concat([plan.work.read_features(i, ids) for i, _, ids in pieces])
    reasons = explain_chunk(
        model,
        features.reindex(wanted),
        texts=texts,
        tables=replace(tables, personal=pd.DataFrame()),
        as_of=plan.as_of,
        villages=villages,
        rule_triggers=rule_triggers,
    )
    plan.work.write_reasons(number, reasons)
    return len(reasons)
