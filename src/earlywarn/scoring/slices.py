"""The client's side of household-range slices (:mod:`~earlywarn.data.household_slices`): a
county partition larger than a worker should hold is cut into slices of about a task's
households, and before pass 1 an aggregate pass gathers each slice's place counts (and
village parts) so that every slice is scored with its whole county's rates."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.progress import Progress

from earlywarn.data.household_slices import parse_slice, slices_of
from earlywarn.features.place import combine_place_counts
from earlywarn.scoring.partitions import PartitionPlan, SliceTotals, count_slice
from earlywarn.scoring.runner import ChunkJob, ChunkRunner

SLICE_ABOVE = 100_000
"""Households above which a county partition is cut into slices (by default)."""


def slice_partition(partition: str, size: int, target: int) -> list[str]:
    """The slices of ``partition`` (``size`` households), of about ``target`` households."""
    return slices_of(partition, max(1, math.ceil(size / max(1, target))))


@dataclass
class SliceAggregate:
    """The aggregate pass's findings: each slice's totals (by task number) and the problems
    that kept some counties' slices from being scored."""

    totals: dict[int, SliceTotals] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sliced: set[int] = field(default_factory=set)


def county_slices(groups: Sequence[tuple[str, ...]]) -> dict[str, list[int]]:
    """The task numbers of each sliced partition's slices, in slice order."""
    counties: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        found = parse_slice(group[0]) if len(group) == 1 else None
        if found is not None:
            counties.setdefault(found.partition, []).append(i)
    return counties


def aggregate_slices(
    runner: ChunkRunner,
    groups: Sequence[tuple[str, ...]],
    parts: PartitionPlan,
    todo: set[int],
    *,
    bar: Progress,
) -> SliceAggregate:
    """The aggregate pass over every slice of the counties with a slice in ``todo`` (pass 1's
    unfinished tasks): each slice's place counts on a worker, added up here per county; a
    county with a problem in any slice gets no totals (its problems are returned)."""
    found = SliceAggregate()
    counties = {
        county: numbers
        for county, numbers in county_slices(groups).items()
        if todo.intersection(numbers)
    }
    found.sliced = {i for numbers in county_slices(groups).values() for i in numbers}
    if not counties:
        return found
    numbers = [i for county_numbers in counties.values() for i in county_numbers]
    task = bar.add_task("place counts (slices)", total=len(numbers))
    jobs = (ChunkJob(i, (i, groups[i][0], parts)) for i in numbers)
    counts, failed = {}, set()
    for i, (slice_counts, problems) in runner.run(count_slice, jobs):
        counts[i] = slice_counts
        if problems:
            failed.add(i)
            found.problems.extend(problems)
        bar.advance(task)
    for county_numbers in counties.values():
        if failed.intersection(county_numbers):
            continue
        total = combine_place_counts(counts[i] for i in county_numbers)
        for i in county_numbers:
            found.totals[i] = SliceTotals(total, tuple(county_numbers))
    return found
