"""Broken contract rules as :class:`Problem` objects, and the SchemaError message that lists them.

Row numbers are 1-based data rows of the file as read: row 1 is the first row after the CSV
header (or the first row of the Parquet file). Messages name tables, columns, rows, household
IDs and offending codes or amounts, never personal data: a personal column shows only the
length of what was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.data.columns import PERSONAL_COLUMNS
from earlywarn.data.contract import CONTRACT, TABLES

MAX_LISTED_ROWS = 5
MAX_LISTED_VALUES = 3


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (table, column, 1-based data rows) and what (rule, found)."""

    table: str
    rule: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    found: str = ""
    hint: str = ""  # how to fix it, e.g. "declare `thousands: ','` in the column mapping"

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        hint = f"; {self.hint}" if self.hint else ""
        if not self.rows:
            return f"{where}: {self.rule}{hint}"
        rows = format_rows(self.rows)
        if self.column is None:
            found = f": {self.found}" if self.found else ""
            return f"{where}: {self.rule} at {rows}{found}{hint}"
        found = f", found {self.found}" if self.found else ""
        return f"{where}, {rows}: {self.rule}{found}{hint}"


def format_rows(rows: Iterable[int]) -> str:
    """``row 8``, ``rows 14 and 97``, ``rows 210-211``, ``rows 3, 5, ... (1,204 rows)``."""
    ordered = sorted(set(rows))
    runs: list[tuple[int, int]] = []
    for row in ordered:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    texts = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs]
    if len(ordered) == 1:
        return f"row {texts[0]}"
    if len(texts) > MAX_LISTED_ROWS:
        return f"rows {', '.join(texts[:MAX_LISTED_ROWS])}, ... ({len(ordered):,} rows)"
    if len(texts) == 1:
        return f"rows {texts[0]}"
    return f"rows {', '.join(texts[:-1])} and {texts[-1]}"


def format_problems(problems: list[Problem], source: str) -> str:
    """The SchemaError message: a count line, then one indented line per problem."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{len(problems)} {noun} in the tables read from {source} (nothing was written)"]
    return "\n".join([*lines, *(f"  {problem}" for problem in problems)])


def contract_order(problem: Problem) -> tuple[int, int, tuple[int, ...]]:
    """Sort key: tables and columns in the contract's order, then the first row."""
    columns = list(CONTRACT[problem.table])
    column = columns.index(problem.column) if problem.column in columns else -1
    return TABLES.index(problem.table), column, problem.rows[:1]


def describe_value(value: object) -> str:
    """One value as a message shows it: dates as ``'2024-03-01'``, whole amounts without
    ``.0``, text quoted."""
    if isinstance(value, pd.Timestamp):
        return f"'{value.year:04d}-{value.month:02d}-{value.day:02d}'"
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        value = float(value)  # whole numbers read as integers show as if read as floats
    if isinstance(value, float | np.floating):
        number = float(value)
        if np.isfinite(number) and number == int(number) and abs(number) < 1e12:
            return f"{int(number)}"
        return f"{number:g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def describe_values(values: Iterable[object]) -> str:
    """The first few distinct non-null values, then ``...`` if there are more."""
    distinct = list(dict.fromkeys(v for v in values if not pd.isna(v)))
    shown = ", ".join(describe_value(v) for v in distinct[:MAX_LISTED_VALUES])
    return shown + (", ..." if len(distinct) > MAX_LISTED_VALUES else "")


def describe_keys(keys: pd.DataFrame) -> str:
    """The first few distinct keys (one column: ``'H0042'``; more: ``('H0042', 2023)``)."""
    distinct = [
        describe_value(key[0])
        if len(key) == 1
        else "(" + ", ".join(describe_value(v) for v in key) + ")"
        for key in keys.drop_duplicates().itertuples(index=False)
    ]
    shown = ", ".join(distinct[:MAX_LISTED_VALUES])
    return shown + (f", ... ({len(distinct):,} keys)" if len(distinct) > MAX_LISTED_VALUES else "")


def found_at(frame: pd.DataFrame, column: str, rows: list[int]) -> str:
    """What ``column`` holds at 0-based ``rows``; personal columns show only their length."""
    values = frame[column].iloc[rows]
    if column in PERSONAL_COLUMNS:
        lengths = sorted({len(str(v)) for v in values.dropna()})
        return ", ".join(f"{n} characters" for n in lengths[:MAX_LISTED_VALUES])
    return describe_values(values)


def rows_where(mask: pd.Series) -> tuple[int, ...]:
    """1-based data rows where ``mask`` holds (frames keep a 0-based RangeIndex)."""
    return tuple(int(i) + 1 for i in np.flatnonzero(mask.to_numpy(dtype=bool)))
