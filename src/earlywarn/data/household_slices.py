"""Household-range slices of one partition of a partitioned data directory.

A county partition too large for one worker is scored in slices: slice ``k`` of ``n`` holds
the ``k``-th of ``n`` equal runs of the partition's households, sorted by id. A slice is named
after its partition (``county=C01#2/5``: a partition's name never holds ``#``, its value is
URL-quoted), so it travels wherever partition names do. Every worker computes the same runs
from the households table's id column; a household's rows are all in its slice, and rows of
ids missing from households are read by the first slice, so the checks find them as they
would in the whole partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from earlywarn.data.columns import HOUSEHOLD_ID, HOUSEHOLDS
from earlywarn.data.contract import CONTRACT, TABLES
from earlywarn.data.mapping import ColumnMapping
from earlywarn.data.partitioned import Location, dataset_files, is_dataset, is_url
from earlywarn.errors import EarlywarnError, SchemaError

SEPARATOR = "#"


@dataclass(frozen=True)
class HouseholdSlice:
    """Slice ``number`` (1-based) of ``of`` of the households of ``partition``."""

    partition: str
    number: int
    of: int

    @property
    def name(self) -> str:
        """``county=C01#2/5``."""
        return f"{self.partition}{SEPARATOR}{self.number}/{self.of}"


def slices_of(partition: str, n: int) -> list[str]:
    """The names of the ``n`` slices of ``partition``."""
    return [HouseholdSlice(partition, k, n).name for k in range(1, n + 1)]


def parse_slice(name: str) -> HouseholdSlice | None:
    """The slice a name stands for, or None for a whole partition."""
    if SEPARATOR not in name:
        return None
    partition, _, numbers = name.rpartition(SEPARATOR)
    number, _, of = numbers.partition("/")
    return HouseholdSlice(partition, int(number), int(of))


def partition_of(name: str) -> str:
    """The partition a slice (or a partition) name reads from."""
    found = parse_slice(name)
    return name if found is None else found.partition


def share_out(ids: Sequence[str], number: int, of: int) -> Sequence[str]:
    """Slice ``number`` of ``of`` of the sorted distinct ``ids``: the ``number``-th of ``of``
    runs of consecutive ids as equal as can be (the slices hold every id exactly once)."""
    return ids[((number - 1) * len(ids)) // of : (number * len(ids)) // of]


def slice_household_ids(data_dir: Location, mapping: ColumnMapping, name: str) -> list[str]:
    """The household ids of a slice, sorted: its share of the partition's households (by id);
    the first slice also takes every id of the partition's other tables that is missing from
    its households, so that the checks find those rows as they would in the whole partition.
    Slices are read from local or shared folders only (an EarlywarnError for a URL).
    """
    where = parse_slice(name)
    if where is None:
        raise ValueError(f"{name} is not a slice of a partition")
    if is_url(data_dir):
        raise EarlywarnError(
            f"{name}: household-range slices read local or shared folders only, not {data_dir}; "
            "score counties this large from a folder every worker mounts"
        )
    data_dir = Path(data_dir)
    households = _partition_ids(data_dir, mapping, HOUSEHOLDS, where.partition)
    known = pa.array([], pa.string()) if households is None else pc.unique(households.drop_null())
    mine = list(share_out(known.take(pc.sort_indices(known)).to_pylist(), where.number, where.of))
    if where.number == 1:
        for table in TABLES:
            ids = (
                None
                if table == HOUSEHOLDS
                else _partition_ids(data_dir, mapping, table, where.partition)
            )
            if ids is not None:
                others = pc.unique(ids.drop_null())
                mine.extend(others.filter(pc.invert(pc.is_in(others, value_set=known))).to_pylist())
    return sorted(set(mine))


def _partition_ids(
    data_dir: Path, mapping: ColumnMapping, table: str, partition: str
) -> pa.Array | None:
    """The household id column of one partition of a table kept as a dataset (as text), or
    None when the table is no dataset, has no such column or no such partition."""
    if HOUSEHOLD_ID not in CONTRACT[table]:
        return None
    folder = Path(data_dir) / mapping.file_stem(table)
    if not is_dataset(folder) or not (folder / partition).is_dir():
        return None
    table_mapping = mapping.table_mapping(table)
    renames = table_mapping.columns if table_mapping else {}
    column = next((src for src, dst in renames.items() if dst == HOUSEHOLD_ID), HOUSEHOLD_ID)
    files = [str(f) for f in dataset_files(folder / partition)]
    try:
        read = ds.dataset(files, format="parquet").to_table(columns=[column])
    except (OSError, ValueError, pa.ArrowException) as err:
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise SchemaError(
            f"{folder / partition} cannot be read as a Parquet dataset ({reason})"
        ) from err
    return pc.cast(read.column(column), pa.string()).combine_chunks()
