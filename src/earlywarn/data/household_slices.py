"""Household-range slices of one partition of a partitioned data directory.

A county partition too large for one worker is scored in slices: slice ``k`` of ``n`` holds the
households whose ids fall in the ``k``-th of ``n`` equal ranges of the partition's sorted
household ids. A slice is named after its partition (``county=C01#2/5``: a partition's name
never holds ``#``, its value is URL-quoted), so it travels wherever partition names do. Every
worker computes the same ranges from the households table's ids; a household's rows are all
in one slice, and rows of ids missing from households are read by the slice whose range holds
them, so the checks see them as they would see the whole partition.
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
from earlywarn.data.partitioned import dataset_files, is_dataset
from earlywarn.errors import SchemaError

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


def slice_bounds(ids: Sequence[str], number: int, of: int) -> tuple[str | None, str | None]:
    """The id range ``[low, high)`` of slice ``number`` of ``of`` over the sorted distinct
    ``ids`` (None: no bound); the ranges of slices ``1..of`` cover every string exactly once
    (with no ids at all, slice 1 covers everything and the others nothing)."""
    if not ids:
        return (None, None) if number == 1 else ("", "")
    cuts = [ids[(i * len(ids)) // of] for i in range(1, of)]
    low = cuts[number - 2] if number > 1 else None
    high = cuts[number - 1] if number < of else None
    return low, high


def slice_household_ids(data_dir: Path, mapping: ColumnMapping, name: str) -> list[str]:
    """The household ids of a slice, sorted: the partition's distinct ids, from every table
    kept as a dataset, within the slice's range of the households table's ids."""
    where = parse_slice(name)
    if where is None:
        raise ValueError(f"{name} is not a slice of a partition")
    households = _partition_ids(data_dir, mapping, HOUSEHOLDS, where.partition)
    known = pa.array([], pa.string()) if households is None else pc.unique(households.drop_null())
    ordered = known.take(pc.sort_indices(known)).to_pylist()
    low, high = slice_bounds(ordered, where.number, where.of)
    found: set[str] = set()
    for table in TABLES:
        ids = _partition_ids(data_dir, mapping, table, where.partition)
        if ids is None:
            continue
        inside = ids.drop_null()
        if low is not None:
            inside = inside.filter(pc.greater_equal(inside, low))
        if high is not None:
            inside = inside.filter(pc.less(inside, high))
        found.update(pc.unique(inside).to_pylist())
    return sorted(found)


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
