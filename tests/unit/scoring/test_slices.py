"""Household-range slices on the workers' side: each slice's problems name the slice, and the
aggregate pass over a county's slices gives the county's place counts and village figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from earlywarn.data.directory import write_tables
from earlywarn.data.household_slices import slice_household_ids, slices_of
from earlywarn.data.mapping import DEFAULT_MAPPING
from earlywarn.data.partitioned import county_partitions
from earlywarn.explain.village_facts import village_facts
from earlywarn.features.place import combine_place_counts, place_counts
from earlywarn.scoring.partitions import (
    PartitionPlan,
    SliceTotals,
    _villages,
    count_slice,
    read_partition,
    worker_identity,
)
from earlywarn.scoring.work_dir import WorkDir
from household_slices import assert_bitwise_equal

AS_OF = pd.Timestamp("2024-03-01")


@pytest.fixture(scope="module")
def parts(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("slices") / "d", partition_by="county")


def plan_for(data_dir: Path, tmp_path: Path) -> PartitionPlan:
    return PartitionPlan(
        data_dir=str(data_dir),
        mapping=DEFAULT_MAPPING,
        work=WorkDir.open(tmp_path / "s.parquet", "k" * 20),
        as_of=AS_OF,
        population="exited",
        chunk_size=40,
        verified_months=6,
        explain=True,
        identity=worker_identity(),
    )


def test_the_slices_of_a_county_add_up_to_its_counts_and_village_figures(parts, tmp_path):
    plan = plan_for(parts, tmp_path)
    partition = county_partitions(parts)[0]
    whole, problems = read_partition(plan, partition)
    assert whole is not None and not problems
    names = slices_of(partition, 4)
    counts = []
    for i, name in enumerate(names):
        found, problems = count_slice(i, name, plan)
        assert not problems
        counts.append(found)
    total = combine_place_counts(counts)
    assert_bitwise_equal(total, combine_place_counts([place_counts(whole, AS_OF)]))
    totals = SliceTotals(total, tuple(range(len(names))))
    assert_bitwise_equal(_villages(0, whole, plan, totals), village_facts(whole, AS_OF))
    assert _villages(1, whole, plan, totals).empty


def test_a_problem_in_a_slice_names_the_slice(parts, tmp_path):
    copy = tmp_path / "d"
    shutil.copytree(parts, copy)
    partition = county_partitions(copy)[0]
    names = slices_of(partition, 3)
    victim = slice_household_ids(copy, DEFAULT_MAPPING, names[1])[0]
    path = copy / "household_years" / partition / "part-0.parquet"
    years = pq.read_table(path)
    size = years.column("household_size")
    broken = pc.if_else(
        pc.equal(years.column("household_id"), victim), pa.scalar(0, size.type), size
    )
    pq.write_table(
        years.set_column(years.schema.get_field_index("household_size"), "household_size", broken),
        path,
    )
    plan = plan_for(copy, tmp_path)
    assert read_partition(plan, names[0])[1] == ()
    tables, problems = read_partition(plan, names[1])
    assert tables is None and problems
    assert all(line.startswith(f"{names[1]}: household_years.household_size") for line in problems)
