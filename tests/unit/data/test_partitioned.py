"""County-partitioned data directories: written by write_tables, read whole as the single-file
directory reads, read one partition at a time as a Dask worker does."""

from __future__ import annotations

import pandas as pd
import pytest

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID
from earlywarn.data.directory import read_raw, write_tables
from earlywarn.data.partitioned import (
    county_partitions,
    dataset_fingerprints,
    partition_sizes,
    partition_value,
)
from earlywarn.data.schema import read_tables
from earlywarn.errors import SchemaError


@pytest.fixture(scope="module")
def dirs(tables, tmp_path_factory):
    root = tmp_path_factory.mktemp("partitioned")
    return write_tables(tables, root / "files"), write_tables(
        tables, root / "parts", partition_by="county"
    )


def test_a_partitioned_directory_reads_as_the_same_tables(dirs):
    files, parts = dirs
    assert (parts / "households" / "county=530121" / "part-0.parquet").is_file()
    assert (parts / "lines.parquet").is_file() or not (files / "lines.parquet").exists()
    whole, partitioned = read_tables(files), read_tables(parts)
    for name in ("households", "household_years", "events", "assistance", "monitoring"):
        left = getattr(whole, name).sort_values(HOUSEHOLD_ID, kind="stable")
        right = getattr(partitioned, name).sort_values(HOUSEHOLD_ID, kind="stable")
        assert list(left.columns) == list(right.columns), name
        assert dict(left.dtypes) == dict(right.dtypes), name
        pd.testing.assert_frame_equal(
            left.sort_values(list(left.columns)).reset_index(drop=True),
            right.sort_values(list(right.columns)).reset_index(drop=True),
            check_like=False,
        )


def test_one_partition_holds_its_county_rows_only(dirs, tables):
    _, parts = dirs
    partitions = county_partitions(parts)
    assert partitions == sorted(partitions) and len(partitions) > 1
    county = partition_value(partitions[0])
    raw, problems = read_raw(parts, partitions=partitions[:1])
    assert not problems
    mine = set(tables.households.loc[tables.households[COUNTY] == county, HOUSEHOLD_ID])
    assert set(raw["households"][HOUSEHOLD_ID]) == mine
    assert set(raw["household_years"][HOUSEHOLD_ID]) <= mine
    assert "county" not in raw["household_years"].columns  # the key is not a contract column
    sizes = partition_sizes(parts / "households", partitions)
    assert sum(sizes) == len(tables.households) and sizes[0] == len(mine)


def test_a_household_filter_reads_only_their_rows(dirs, tables):
    _, parts = dirs
    some = sorted(tables.households[HOUSEHOLD_ID])[:5]
    raw, _ = read_raw(parts, partitions=county_partitions(parts), households=some)
    assert sorted(raw["households"][HOUSEHOLD_ID]) == some
    assert set(raw["events"][HOUSEHOLD_ID]) <= set(some)


def test_fingerprints_change_with_any_partition_file(dirs, tmp_path):
    _, parts = dirs
    before = dataset_fingerprints(parts)
    assert set(before) >= {"households/", "household_years/"}
    copy = write_tables(read_tables(parts), tmp_path / "copy", partition_by="county")
    assert dataset_fingerprints(copy) == before
    victim = next((copy / "events").rglob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"x")
    assert dataset_fingerprints(copy)["events/"] != before["events/"]


def test_a_table_both_as_file_and_folder_is_a_problem(dirs, tmp_path):
    _, parts = dirs
    copy = write_tables(read_tables(parts), tmp_path / "both", partition_by="county")
    read_tables(parts).households.to_parquet(copy / "households.parquet", index=False)
    with pytest.raises(SchemaError, match="a file and a folder for one table"):
        read_tables(copy)
