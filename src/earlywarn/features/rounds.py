"""Household histories as arrays: household positions and closed survey rounds, latest first.

Labels and features work on numpy arrays indexed by a household's position in
``tables.households`` (its *code*), which keeps a million households and ten million rounds
fast. This module turns ids (and other text codes) into positions and survey rounds into
(household x round) matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from earlywarn.data.columns import EVENT_TYPE, EVENT_TYPES, HOUSEHOLD_ID, YEAR
from earlywarn.data.tables import Tables


def _arrow_strings(values: pd.Series | pd.Index | Sequence[str]) -> pa.Array:
    if (
        isinstance(values, pd.Series | pd.Index)
        and pd.api.types.is_string_dtype(values)
        and hasattr(values.array, "__arrow_array__")
    ):
        strings = pa.array(values.array)
    else:
        strings = pa.array(np.asarray(values, dtype=object))
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    return strings.cast(pa.large_string())


def positions_in(
    values: pd.Series | pd.Index, allowed: pd.Series | pd.Index | Sequence[str]
) -> np.ndarray:
    """Position of each value in ``allowed`` (int64), -1 where it is not there or null.

    Uses pyarrow's hash lookup (about 5x faster than ``Index.get_indexer`` on pandas 3 str
    columns). When equal values come in runs (a table sorted by household), only the first of
    each run is looked up.
    """
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    strings = _arrow_strings(values)
    value_set = _arrow_strings(allowed)
    if len(strings) > 100_000:
        changes = pc.not_equal(strings[1:], strings[:-1]).fill_null(True)
        starts = np.flatnonzero(np.r_[True, changes.to_numpy(zero_copy_only=False)])
        if len(starts) < len(strings) // 2:
            first = pc.index_in(strings.take(pa.array(starts)), value_set=value_set)
            first = np.asarray(first.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            return np.repeat(first, np.diff(np.r_[starts, len(strings)]))
    codes = pc.index_in(strings, value_set=value_set)
    return np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def household_codes(ids: pd.Series | pd.Index, household_ids: pd.Series | pd.Index) -> np.ndarray:
    """Position of each id in ``household_ids`` (int64), -1 where the id is not there."""
    return positions_in(ids, household_ids)


@dataclass(frozen=True)
class TableCodes:
    """Household positions (in tables.households) of every row of the dated tables."""

    household_years: np.ndarray
    events: np.ndarray
    assistance: np.ndarray
    event_types: np.ndarray  # position of each event's type in EVENT_TYPES (-1: not one)


def table_codes(tables: Tables) -> TableCodes:
    """Look every row's household up once; the feature families share the result."""
    ids = tables.households[HOUSEHOLD_ID]
    return TableCodes(
        household_years=household_codes(tables.household_years[HOUSEHOLD_ID], ids),
        events=household_codes(tables.events[HOUSEHOLD_ID], ids),
        assistance=household_codes(tables.assistance[HOUSEHOLD_ID], ids),
        event_types=positions_in(tables.events[EVENT_TYPE], EVENT_TYPES),
    )


def as_float(column: pd.Series) -> np.ndarray:
    """A numeric or boolean column as float64, NaN where null."""
    return column.to_numpy(dtype="float64", na_value=np.nan)


def group_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in a sorted array."""
    if len(sorted_codes) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])


@dataclass(frozen=True)
class Rounds:
    """Closed survey rounds (year <= ``last_year``) of ``n_households`` households.

    ``code``, ``year`` and ``rank`` have one entry per round, sorted by household then year
    descending; ``rank`` 0 is a household's most recent round, 1 the one before, and so on
    (ranks count surveyed rounds, so a skipped year is not a round). ``rows`` holds each
    round's position in the household_years frame it came from.
    """

    n_households: int
    last_year: int
    code: np.ndarray
    year: np.ndarray
    rank: np.ndarray
    rows: np.ndarray
    _recent: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def recent(self, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Rounds of rank < depth: their positions here and their flat (household, rank) cell
        in a (n_households, depth) matrix."""
        if depth not in self._recent:
            keep = np.flatnonzero(self.rank < depth)
            cell = self.code[keep].astype(np.int64) * depth + self.rank[keep]
            self._recent[depth] = (keep, cell)
        return self._recent[depth]

    def matrix(self, values: np.ndarray, depth: int) -> np.ndarray:
        """(n_households, depth) float matrix of per-round ``values`` (one per round, in this
        object's order); column r is rank r, NaN where there is no such round."""
        keep, cell = self.recent(depth)
        out = np.full(self.n_households * depth, np.nan)
        out[cell] = values[keep]
        return out.reshape(self.n_households, depth)

    def column_matrix(self, column: pd.Series, depth: int) -> np.ndarray:
        """Like ``matrix`` for a household_years column, reading only the rows it needs."""
        keep, cell = self.recent(depth)
        values = column.array.take(self.rows[keep]).to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(self.n_households * depth, np.nan)
        out[cell] = values
        return out.reshape(self.n_households, depth)


def closed_rounds(
    household_years: pd.DataFrame, codes: np.ndarray, n_households: int, last_year: int
) -> Rounds:
    """Rank the rounds of year <= ``last_year`` of each household, latest first.

    ``codes`` are the rounds' household positions (-1 rounds, of unknown households, are
    dropped).
    """
    year = household_years[YEAR].to_numpy(dtype=np.int64)
    rows = np.flatnonzero((year <= last_year) & (codes >= 0))
    span = np.int64(4096)  # more than any plausible number of years back (contract: >= 1900)
    key = codes[rows] * span + (last_year - year[rows])
    order = np.argsort(key, kind="stable")  # O(n) when the table is sorted by household
    del key
    rows = rows[order]
    del order
    code = codes[rows]
    starts = group_starts(code)
    rank = np.arange(len(code)) - np.repeat(starts, np.diff(np.r_[starts, len(code)]))
    small = np.int32  # halves the memory of ten million rounds
    return Rounds(
        n_households=n_households,
        last_year=last_year,
        code=code.astype(small),
        year=year[rows].astype(small),
        rank=rank.astype(small),
        rows=rows,
    )
