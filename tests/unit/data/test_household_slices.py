"""Household-range slices of a county partition: named after it, cut from the sorted ids so
every household (and every row of an id missing from households) is in exactly one slice."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID
from earlywarn.data.directory import read_raw, write_tables
from earlywarn.data.household_slices import (
    HouseholdSlice,
    parse_slice,
    partition_of,
    share_out,
    slice_household_ids,
    slices_of,
)
from earlywarn.data.mapping import DEFAULT_MAPPING
from earlywarn.data.partitioned import county_partitions, partition_value


@pytest.fixture(scope="module")
def parts(tables, tmp_path_factory):
    return write_tables(tables, tmp_path_factory.mktemp("slices") / "d", partition_by="county")


def test_a_slice_is_named_after_its_partition():
    names = slices_of("county=C%2301", 3)
    assert names == ["county=C%2301#1/3", "county=C%2301#2/3", "county=C%2301#3/3"]
    assert parse_slice(names[1]) == HouseholdSlice("county=C%2301", 2, 3)
    assert parse_slice("county=C01") is None
    assert {partition_of(name) for name in names} == {"county=C%2301"}
    assert partition_of("county=C01") == "county=C01"


@given(
    ids=st.lists(st.text(min_size=1, max_size=4), max_size=30, unique=True),
    of=st.integers(1, 8),
)
def test_the_slices_hold_every_household_exactly_once_in_runs_as_equal_as_can_be(ids, of):
    ordered = sorted(ids)
    shares = [list(share_out(ordered, k, of)) for k in range(1, of + 1)]
    assert [hid for share in shares for hid in share] == ordered
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_the_slices_of_a_county_share_its_households_out(parts, tables):
    partition = county_partitions(parts)[0]
    county = partition_value(partition)
    mine = set(tables.households.loc[tables.households[COUNTY] == county, HOUSEHOLD_ID])
    found = [slice_household_ids(parts, DEFAULT_MAPPING, name) for name in slices_of(partition, 4)]
    assert sorted(hid for ids in found for hid in ids) == sorted(mine)
    assert all(20 <= len(ids) <= 30 for ids in found), [len(ids) for ids in found]
    raw, problems = read_raw(parts, partitions=[partition], households=found[1])
    assert not problems and sorted(raw["households"][HOUSEHOLD_ID]) == found[1]
    assert set(raw["household_years"][HOUSEHOLD_ID]) == set(found[1])


def test_rows_of_a_household_missing_from_households_are_read_by_the_first_slice(parts, tmp_path):
    copy = tmp_path / "d"
    shutil.copytree(parts, copy)
    partition = county_partitions(copy)[0]
    folder = copy / "events" / partition
    events = pq.read_table(folder / "part-0.parquet").slice(0, 1)
    orphan = events.set_column(
        events.schema.get_field_index(HOUSEHOLD_ID), HOUSEHOLD_ID, pa.array(["H000000x"])
    )
    pq.write_table(orphan, folder / "part-1.parquet")
    found = [slice_household_ids(copy, DEFAULT_MAPPING, name) for name in slices_of(partition, 3)]
    assert [ids.count("H000000x") for ids in found] == [1, 0, 0]
