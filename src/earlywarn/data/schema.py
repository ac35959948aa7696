"""Read a data directory against the data contract: parse, check every rule, report all problems.

``read_tables`` reads one file per table (:mod:`~earlywarn.data.directory`), parses every value
into the contract's types (:mod:`~earlywarn.data.contract`), checks every rule of
``../shared/data-contract.md`` as vectorised masks, collecting every failure
(:mod:`~earlywarn.data.checks`, :mod:`~earlywarn.data.cross_table`), and either returns
:class:`Tables`, personal columns split off (:mod:`~earlywarn.data.personal`), or raises one
:class:`SchemaError` listing every problem (:mod:`~earlywarn.data.problems`).

Row numbers in messages are 1-based data rows of the file as read: row 1 is the first row
after the CSV header (or the first row of the Parquet file). Messages name tables, columns,
rows, household IDs and offending codes or amounts, never personal data.

"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from earlywarn.data.checks import table_problems
from earlywarn.data.columns import (
    ASSISTANCE,
    EVENTS,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    LINES,
    PLACES,
    REQUIRED_TABLES,
)
from earlywarn.data.contract import (
    CONTRACT,
    EXPECTED,
    TABLES,
    Kind,
    empty_table,
    parse_column,
    to_canonical,
)
from earlywarn.data.cross_table import table_context
from earlywarn.data.directory import read_raw
from earlywarn.data.mapping import DEFAULT_MAPPING, ColumnMapping, resolve_mapping
from earlywarn.data.monitoring import MONITORING, VISITS
from earlywarn.data.monitoring_rules import monitoring_problems
from earlywarn.data.partitioned import as_location
from earlywarn.data.personal import split_personal
from earlywarn.data.problems import (
    Problem,
    contract_order,
    describe_values,
    format_problems,
    rows_where,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import SchemaError

log = logging.getLogger(__name__)

__all__ = ["read_tables", "tables_from_frames", "validate_tables"]


def read_tables(
    data_dir: Path | str,
    *,
    mapping: ColumnMapping | Path | str | None = None,
    today: date | None = None,
) -> Tables:
    """Read, check and return a data directory; raise one SchemaError listing every problem.

    ``mapping`` is a :class:`ColumnMapping` or the path of its YAML file. Personal columns are
    split off into ``Tables.personal``; columns outside the contract are dropped. Row numbers
    in messages are 1-based data rows of each file (row 1 follows the CSV header).
    """
    data_dir = as_location(data_dir)
    column_mapping = resolve_mapping(mapping)
    raw, problems = read_raw(data_dir, column_mapping)
    parsed, found = _check_tables(raw, column_mapping, _today(today))
    # a table that could not be read is reported once, not again as "missing"
    unread = {p.table for p in problems}
    problems += [p for p in found if not (p.table in unread and p.rule.startswith("required"))]
    if problems:
        raise SchemaError(format_problems(problems, f"{str(data_dir).rstrip('/')}/"))
    tables = _to_tables(parsed)
    log.info(
        "read %d households and %d survey rounds from %s",
        len(tables.households),
        len(tables.household_years),
        data_dir,
    )
    return tables


def validate_tables(
    raw: Mapping[str, pd.DataFrame],
    *,
    mapping: ColumnMapping | None = None,
    today: date | None = None,
) -> list[Problem]:
    """Every way ``raw`` (table name -> frame with contract column names) breaks the contract.

    Frames may hold any dtypes (text from a CSV, Parquet types); rows are numbered by
    position. ``mapping`` supplies the number conventions (thousands and decimal separators,
    date format); ``today`` (default: the day of the run) bounds every year and date.
    """
    _, problems = _check_tables(raw, mapping or DEFAULT_MAPPING, _today(today))
    return problems


def tables_from_frames(
    raw: Mapping[str, pd.DataFrame],
    *,
    mapping: ColumnMapping | None = None,
    today: date | None = None,
    source: str = "memory",
) -> Tables:
    """Validate frames already in memory and return :class:`Tables` (see ``read_tables``)."""
    parsed, problems = _check_tables(raw, mapping or DEFAULT_MAPPING, _today(today))
    if problems:
        raise SchemaError(format_problems(problems, source))
    return _to_tables(parsed)


def _today(today: date | None) -> pd.Timestamp:
    return pd.Timestamp(today or date.today()).normalize()


def _check_tables(
    raw: Mapping[str, pd.DataFrame], mapping: ColumnMapping, today: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Parse and check every table: frames in validated dtypes and every problem found, in
    the contract's order of tables and columns."""
    parsed: dict[str, _ParsedTable] = {}
    problems: list[Problem] = []
    for table in TABLES:
        if table in raw:
            parsed[table] = _parse_table(table, raw[table], mapping)
            problems.extend(parsed[table].problems)
        elif table in REQUIRED_TABLES:
            problems.append(Problem(table, "required table is missing"))
    frames = {table: parsed_table.values for table, parsed_table in parsed.items()}
    context = table_context(frames, today)
    for table, parsed_table in parsed.items():
        problems.extend(
            table_problems(table, parsed_table.values, parsed_table.unreadable, context)
        )
        problems.extend(monitoring_problems(table, parsed_table.values))
    return frames, sorted(problems, key=contract_order)


@dataclass(frozen=True)
class _ParsedTable:
    """Contract columns in their validated dtypes (0-based rows), which values could not be
    read (column -> boolean mask), and the problems met parsing them."""

    values: pd.DataFrame
    unreadable: dict[str, np.ndarray]
    problems: list[Problem]


def _parse_table(table: str, frame: pd.DataFrame, mapping: ColumnMapping) -> _ParsedTable:
    """``frame``'s contract columns parsed by kind; unreadable values become problems."""
    specs = CONTRACT[table]
    frame, problems = _check_headers(table, frame)
    parsed: dict[str, pd.Series] = {}
    unreadable: dict[str, np.ndarray] = {}
    for column, spec in specs.items():
        if column not in frame.columns:
            continue
        result = parse_column(
            frame[column],
            spec,
            thousands=mapping.thousands,
            decimal=mapping.decimal,
            date_format=mapping.date_format,
        )
        parsed[column] = result.values
        unreadable[column] = result.unreadable.to_numpy(dtype=bool)
        if unreadable[column].any():
            bad = frame[column].reset_index(drop=True)[unreadable[column]]
            hint = ""
            if any("," in str(v) for v in bad) and spec.kind in (Kind.INT, Kind.FLOAT):
                hint = "if ',' separates thousands, declare `thousands: ','` in the mapping"
            problems.append(
                Problem(
                    table,
                    f"cannot be read as {EXPECTED[spec.kind]}",
                    column,
                    rows_where(result.unreadable),
                    describe_values(str(v) for v in bad),
                    hint,
                )
            )
    values = pd.DataFrame(parsed, index=pd.RangeIndex(len(frame)), copy=False)
    return _ParsedTable(values, unreadable, problems)


def _check_headers(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """``frame`` with duplicated columns dropped, and the problems of its headers and size:
    columns twice, contract columns missing, a required table without rows."""
    specs = CONTRACT[table]
    problems: list[Problem] = []
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if duplicated:
        problems.append(Problem(table, f"column(s) {', '.join(duplicated)} appear twice"))
        frame = frame.loc[:, ~frame.columns.duplicated()]
    missing = [c for c, spec in specs.items() if not spec.optional and c not in frame.columns]
    if missing:
        problems.append(
            Problem(table, f"missing column(s) {', '.join(missing)}{_headers_hint(frame, table)}")
        )
    extra = [str(c) for c in frame.columns if c not in specs]
    if extra:
        log.info("%s: ignoring %d columns not in the data contract", table, len(extra))
    if table in REQUIRED_TABLES and len(frame) == 0:
        problems.append(Problem(table, "has no rows; at least one is required"))
    return frame, problems


def _headers_hint(frame: pd.DataFrame, table: str) -> str:
    """Why contract columns may be missing: another separator, or headers needing a mapping."""
    columns = [str(c) for c in frame.columns]
    if len(columns) == 1:
        for separator in (";", "\t", "|"):
            if separator in columns[0]:
                return (
                    f"; the file has one column whose header contains {separator!r}: "
                    f"declare `separator: {separator!r}` in the column mapping (--mapping)"
                )
    foreign = [c for c in columns if c not in CONTRACT[table] and not c.isascii()]
    if foreign:
        shown = ", ".join(map(repr, foreign[:3]))
        return (
            f"; the file has headers such as {shown}: map them to contract columns with "
            "--mapping (see configs/column_mapping.zh.yaml)"
        )
    return ""


def _to_tables(parsed: Mapping[str, pd.DataFrame]) -> Tables:
    """Validated frames as :class:`Tables`: canonical dtypes, absent optional tables empty,
    personal columns split off households."""
    frames = {
        table: to_canonical(table, parsed[table]) if table in parsed else empty_table(table)
        for table in TABLES
    }
    households, personal = split_personal(frames[HOUSEHOLDS])
    return Tables(
        households=households,
        household_years=frames[HOUSEHOLD_YEARS],
        events=frames[EVENTS],
        assistance=frames[ASSISTANCE],
        lines=frames[LINES],
        personal=personal,
        places=frames[PLACES],
        monitoring=frames[MONITORING],
        visits=frames[VISITS],
    )
