"""A data directory at an fsspec URL (``memory://``, ``file://``; ``s3://`` with the extra)
reads as the same directory on a local disk: tables, partitions, sizes, fingerprints."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from earlywarn.data.columns import HOUSEHOLD_ID, HOUSEHOLDS
from earlywarn.data.directory import read_raw, write_tables
from earlywarn.data.partitioned import (
    county_partitions,
    dataset_fingerprints,
    is_url,
    partition_sizes,
    read_dataset,
)
from earlywarn.errors import EarlywarnError, SchemaError


@pytest.fixture(scope="module")
def local_dir(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("urls") / "d", partition_by="county")


@pytest.fixture(scope="module")
def memory_url(local_dir) -> Iterator[str]:
    """The same directory copied into fsspec's in-memory filesystem."""
    fs = fsspec.filesystem("memory")
    root = f"/earlywarn-{uuid.uuid4().hex}"
    fs.put(str(local_dir), root, recursive=True)
    yield f"memory://{root}"
    fs.rm(root, recursive=True)


def assert_same_raw(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert sorted(left) == sorted(right)
    for table in left:
        pd.testing.assert_frame_equal(left[table], right[table], obj=table)


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_a_directory_at_a_url_reads_as_on_disk(local_dir, memory_url, scheme):
    url = memory_url if scheme == "memory" else f"file://{local_dir}"
    assert is_url(url) and not is_url(local_dir) and not is_url(str(local_dir))
    raw, problems = read_raw(url)
    assert not problems
    expected, _ = read_raw(local_dir)
    assert_same_raw(raw, expected)
    assert "lines" in raw or "places" in raw  # single files are read from the URL too

    partitions = county_partitions(url)
    assert partitions == county_partitions(local_dir) and len(partitions) > 1
    url_sizes = partition_sizes(f"{url}/{HOUSEHOLDS}", partitions)
    assert url_sizes == partition_sizes(local_dir / HOUSEHOLDS, partitions)
    assert dataset_fingerprints(url) == dataset_fingerprints(local_dir) != {}


def test_a_worker_reads_its_partition_and_households_from_a_url(local_dir, memory_url):
    partition = county_partitions(local_dir)[1]
    one, problems = read_raw(memory_url, partitions=[partition])
    assert not problems
    assert_same_raw(one, read_raw(local_dir, partitions=[partition])[0])
    some = sorted(one[HOUSEHOLDS][HOUSEHOLD_ID])[:3]
    rows = read_dataset(f"{memory_url}/events", partitions=[partition], households=some)
    expected = read_dataset(local_dir / "events", partitions=[partition], households=some)
    pd.testing.assert_frame_equal(rows, expected)
    assert set(rows[HOUSEHOLD_ID]) <= set(some)


def test_a_missing_directory_or_partition_at_a_url_is_named(memory_url):
    with pytest.raises(SchemaError, match=r"memory://.*nowhere does not exist"):
        read_raw(f"{memory_url}/nowhere")
    _, problems = read_raw(memory_url, partitions=["county=none"])
    assert problems and "county=none holds no Parquet file" in str(problems[0])


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed")
def test_an_s3_url_without_s3fs_names_the_extra_to_install():
    with pytest.raises(EarlywarnError, match=r"pip install 'earlywarn\[s3\]'"):
        read_raw("s3://bucket/province-53")


def test_an_unknown_scheme_is_a_clear_error():
    with pytest.raises(EarlywarnError, match=r"nosuchscheme://x.*not an fsspec URL scheme"):
        county_partitions("nosuchscheme://x")


def test_csv_tables_at_a_url_read_as_on_disk(tables, tmp_path):
    local = write_tables(tables, tmp_path / "csv", fmt="csv")
    fs = fsspec.filesystem("memory")
    root = f"/earlywarn-{uuid.uuid4().hex}"
    fs.put(str(local), root, recursive=True)
    try:
        raw, problems = read_raw(f"memory://{root}")
        assert not problems
        assert_same_raw(raw, read_raw(local)[0])
    finally:
        fs.rm(root, recursive=True)
