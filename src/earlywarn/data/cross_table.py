"""Rules that span tables: every household_id is in households, every survey round has a line,
and keys that must be unique.

A table's checks see the other tables only through a :class:`TableContext`, built once from
every table that could be parsed; a rule whose other table could not be read is skipped
(that table's own problem is reported instead). Household ids are looked up by hash once per
run of equal ids (survey rounds and events come grouped by household), and turned into
integer codes that the key and line rules compare instead of text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from earlywarn.data.columns import (
    COUNTY,
    DEFAULT_LINES,
    HOUSEHOLD_ID,
    HOUSEHOLDS,
    LINE,
    LINES,
    YEAR,
)
from earlywarn.data.contract import arrow_text


@dataclass(frozen=True)
class TableContext:
    """What checks of one table need from the others, and the day of the run."""

    today: pd.Timestamp
    household_ids: pa.ChunkedArray | None  # households' ids in file order; None: unreadable
    sorted_ids: np.ndarray | None  # the same as bytes, if of one width and strictly ascending
    county_codes: np.ndarray | None  # per households row: its county's code (-1: none)
    general_line_years: frozenset[int]  # years with a line for every county
    county_line_years: frozenset[tuple[int, int]]  # (county code, year) with a county's line


def table_context(parsed: Mapping[str, pd.DataFrame], today: pd.Timestamp) -> TableContext:
    """The context from the parsed tables: household ids and counties, years with a line."""
    households = parsed.get(HOUSEHOLDS)
    household_ids = sorted_ids = county_codes = None
    counties = pd.Index([], dtype="str")
    if households is not None and HOUSEHOLD_ID in households.columns:
        household_ids = arrow_text(households[HOUSEHOLD_ID])
        sorted_ids = fixed_width(household_ids)
        if sorted_ids is not None and not np.all(sorted_ids[1:] > sorted_ids[:-1]):
            sorted_ids = None
        if COUNTY in households.columns:
            county_codes, counties = pd.factorize(households[COUNTY])
    general = set(DEFAULT_LINES)
    by_county: set[tuple[int, int]] = set()
    lines = parsed.get(LINES)
    if lines is not None and {YEAR, LINE} <= set(lines.columns):
        usable = lines.dropna(subset=[YEAR, LINE])
        county = usable[COUNTY] if COUNTY in usable.columns else pd.Series(pd.NA, usable.index)
        general |= {int(y) for y in usable.loc[county.isna(), YEAR]}
        codes = counties.get_indexer(county[county.notna()].astype("str"))
        years = usable.loc[county.notna(), YEAR]
        by_county |= {(int(c), int(y)) for c, y in zip(codes, years, strict=True) if c >= 0}
    return TableContext(
        today, household_ids, sorted_ids, county_codes, frozenset(general), frozenset(by_county)
    )


def numbers(values: pd.Series) -> np.ndarray:
    """A number column as a numpy array for rules to compare: whole numbers without empties
    as int64 (no copy), anything else as float64 with NaN where empty."""
    if pd.api.types.is_signed_integer_dtype(values.dtype) and not values.hasnans:
        return values.to_numpy(dtype=np.int64)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def empties(numbers: np.ndarray) -> np.ndarray:
    """Where an array from :func:`numbers` is empty."""
    return np.isnan(numbers) if numbers.dtype.kind == "f" else np.zeros(len(numbers), bool)


def _whole_codes(values: pd.Series) -> tuple[np.ndarray, int] | None:
    """Codes of whole numbers in a narrow range (years) without hashing: value - smallest
    (-1 empty), and how many codes there can be; None for anything else."""
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values):
        return None
    found = numbers(values)
    known = ~empties(found)
    if not known.any():
        return np.full(len(found), -1, dtype=np.int64), 1
    present = found[known] if found.dtype.kind == "f" else found
    low, high = present.min(), present.max()
    fractions = found.dtype.kind == "f" and bool(np.any(np.trunc(present) != present))
    if float(high) - float(low) >= 2**20 or fractions:
        return None
    return np.where(known, found - low, -1).astype(np.int64), int(high - low) + 1


def fixed_width(values: pa.ChunkedArray) -> np.ndarray | None:
    """Text of one width in bytes, none empty or null, as a numpy ``S<width>`` array (IDs such
    as ``H0000042``); None for anything else."""
    if values.null_count or len(values) == 0:
        return None
    parts, width = [], None
    for chunk in values.chunks:
        if len(chunk) == 0:
            continue
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        width = width or int(offsets[1] - offsets[0])
        if width == 0 or np.any(np.diff(offsets) != width):
            return None
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        parts.append(data.view(f"S{width}"))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _words(ids: np.ndarray) -> np.ndarray:
    """Fixed-width ids as rows of machine words, for fast equality."""
    width = ids.dtype.itemsize
    word = next(size for size in (8, 4, 2, 1) if width % size == 0)
    return ids.view(f"u{word}").reshape(len(ids), width // word)


def _sortable(ids: np.ndarray) -> np.ndarray:
    """Ids as keys that sort like the bytes: 8-byte ids as integers, others as they are."""
    return ids.view(">u8").astype(np.uint64) if ids.dtype.itemsize == 8 else ids


def _run_starts(values: pa.ChunkedArray) -> np.ndarray:
    """Positions where a run of equal values starts (a null starts its own run)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    same = pc.fill_null(pc.equal(values.slice(1), values.slice(0, n - 1)), False)
    return np.flatnonzero(np.concatenate([[True], ~same.to_numpy()]))


class HouseholdKeys:
    """A table's household ids resolved against households, once, for several rules."""

    def __init__(self, frame: pd.DataFrame, context: TableContext) -> None:
        self._ids = frame[HOUSEHOLD_ID]
        self._context = context

    @property
    def checkable(self) -> bool:
        """Whether households could be read (else rules needing it are skipped)."""
        return self._context.household_ids is not None

    @cached_property
    def positions(self) -> np.ndarray:
        """Each row's first row in households (0-based), -1 if unknown or empty: one lookup
        per run of equal ids, by binary search when households' ids are of one width and in
        order (the usual export), else by hash."""
        assert self._context.household_ids is not None
        values = arrow_text(self._ids)
        ids, sorted_ids = fixed_width(values), self._context.sorted_ids
        if ids is not None and sorted_ids is not None and ids.dtype == sorted_ids.dtype:
            words = _words(ids)
            changes = np.any(words[1:] != words[:-1], axis=1)
            starts = np.flatnonzero(np.concatenate([[True], changes]))
            keys, table = _sortable(ids[starts]), _sortable(sorted_ids)
            found = np.minimum(np.searchsorted(table, keys), len(table) - 1)
            first = np.where(table[found] == keys, found, -1)
        else:
            starts = _run_starts(values)
            looked_up = pc.index_in(
                values.take(pa.array(starts)),
                value_set=self._context.household_ids,
                skip_nulls=True,
            )
            first = pc.fill_null(looked_up, -1).to_numpy().astype(np.int64)
        return np.repeat(first, np.diff(np.append(starts, len(values))))

    @cached_property
    def known(self) -> np.ndarray:
        """Which rows name a household in households (empty ids are not held against them)."""
        return (self.positions >= 0) | self._ids.isna().to_numpy(dtype=bool)

    def codes(self) -> tuple[np.ndarray, int]:
        """Integer codes of the ids (-1 empty) and how many codes there can be."""
        if not self.checkable:
            codes, uniques = pd.factorize(self._ids)
            return codes, len(uniques)
        assert self._context.household_ids is not None
        codes = self.positions.copy()
        n_households = len(self._context.household_ids)
        strangers = (codes < 0) & self._ids.notna().to_numpy(dtype=bool)
        if strangers.any():
            extra, uniques = pd.factorize(self._ids[strangers], sort=True)
            codes[strangers] = n_households + extra
            return codes, n_households + len(uniques)
        return codes, n_households

    def has_line(self, years: pd.Series) -> np.ndarray:
        """Which survey rounds have a poverty line: a default or general line for the year, or
        their county's own; a round whose county or year is unknown is not held against it."""
        context = self._context
        assert context.county_codes is not None
        year = numbers(years)
        county = np.append(context.county_codes, -1)[self.positions]  # -1: the appended none
        keeps = _in_years(year, context.general_line_years) | empties(year) | (county < 0)
        open_rows = np.flatnonzero(~keeps)
        if open_rows.size and context.county_line_years:
            pairs = pd.MultiIndex.from_arrays([county[open_rows], year[open_rows].astype(np.int64)])
            keeps[open_rows] = pairs.isin(list(context.county_line_years))
        return keeps


def _in_years(year: np.ndarray, years: frozenset[int]) -> np.ndarray:
    """Which whole ``year`` values are in ``years``, by a lookup table over their range."""
    if not years:
        return np.zeros(len(year), dtype=bool)
    low, high = min(years), max(years)
    if high - low > 100_000:  # a year far out (reported on its own): compare values
        return np.isin(year, list(years))
    table = np.zeros(high - low + 1, dtype=bool)
    table[[y - low for y in years]] = True
    inside = (year >= low) & (year <= high)
    return inside & table[np.where(inside, year - low, 0).astype(np.int64)]


def duplicated_keys(
    frame: pd.DataFrame, key: tuple[str, ...], keys: HouseholdKeys | None = None
) -> np.ndarray:
    """Rows whose ``key`` (no part empty) another row shares, compared as integer codes; rows
    already in key order are settled in one pass."""
    combined = np.zeros(len(frame), dtype=np.int64)
    empty = np.zeros(len(frame), dtype=bool)
    span = 1
    for column in key:
        if column == HOUSEHOLD_ID and keys is not None:
            codes, n = keys.codes()
        elif (whole := _whole_codes(frame[column])) is not None:
            codes, n = whole
        else:
            codes, uniques = pd.factorize(frame[column], sort=True)  # keeps sorted keys sorted
            n = len(uniques)
        span *= max(n, 1)
        if span >= 2**62:  # too many combinations for one int64: compare the values
            subset = frame[list(key)]
            return (~subset.isna().any(axis=1) & subset.duplicated(keep=False)).to_numpy()
        combined = combined * max(n, 1) + codes
        empty |= codes < 0
    valid = combined[~empty] if empty.any() else combined
    duplicated = np.zeros(len(frame), dtype=bool)
    if valid.size < 2 or bool(np.all(valid[1:] > valid[:-1])):
        return duplicated
    duplicated[~empty] = pd.Series(valid).duplicated(keep=False).to_numpy()
    return duplicated
