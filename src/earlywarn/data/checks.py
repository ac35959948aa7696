"""The contract's rules for one table, checked as vectorised masks; failures as Problems.

Each rule is a test that marks, for every row at once, whether the row keeps it. A column's
rules skip empty values (``must not be empty`` covers those) and values already reported as
unreadable; a broken rule becomes one :class:`Problem` per column and rule (per code for
unknown codes), naming every row that breaks it. Row lists and the values shown are built
only for the rows that fail, so a valid table costs a few passes over its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.data.code_hints import code_problems
from earlywarn.data.columns import (
    ASSISTANCE,
    COUNTY,
    END_DATE,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    ID_NUMBER,
    LINE,
    LINES,
    MAX_ABS_MONEY,
    MAX_HOUSEHOLD_SIZE,
    MEMBER_COUNTS,
    MIN_YEAR,
    PLACES,
    POVERTY_EXIT_YEAR,
    START_DATE,
    VILLAGE,
    YEAR,
)
from earlywarn.data.contract import CONTRACT, MONEY_COLUMNS, NON_NEGATIVE_MONEY, Kind
from earlywarn.data.cross_table import (
    HouseholdKeys,
    TableContext,
    duplicated_keys,
    empties,
    numbers,
)
from earlywarn.data.mapping import ALLOWED_CODES
from earlywarn.data.problems import Problem, describe_keys, found_at

#: A rule's test: which rows keep it (a boolean mask, or a boolean Series that may hold NA).
Test = Callable[[pd.Series], "pd.Series | np.ndarray"]
FrameTest = Callable[[pd.DataFrame], "pd.Series | np.ndarray"]


def table_problems(
    table: str,
    frame: pd.DataFrame,
    unreadable: Mapping[str, np.ndarray],
    context: TableContext,
) -> list[Problem]:
    """Every rule ``frame`` (parsed, 0-based rows) breaks, column by column in the contract's
    order, then the rules that span columns; values already reported as unreadable
    (``unreadable``: column -> boolean mask) are not reported again."""
    keys = HouseholdKeys(frame, context) if HOUSEHOLD_ID in frame.columns else None
    problems: list[Problem] = []
    for column in frame.columns:
        spec = CONTRACT[table][column]
        values = frame[column]
        skip = unreadable.get(column)
        if spec.kind in (Kind.INT, Kind.FLOAT):  # rules compare plain numpy arrays
            values = numbers(values)
            empty = empties(values)
        else:
            empty = values.isna().to_numpy(dtype=bool)
        if not spec.nullable:
            rows = _rows(empty if skip is None else empty & ~skip)
            if rows.size:
                problems.append(Problem(table, "must not be empty", column, _numbered(rows)))
        for rule in _column_rules(table, column, spec.kind, context, keys):
            broken = ~_keeps(rule.test(values), na=True) & ~empty
            rows = _rows(broken if skip is None else broken & ~skip)
            if not rows.size:
                continue
            if rule.allowed:
                problems += code_problems(table, column, frame, rows.tolist(), rule.allowed)
            else:
                found = found_at(frame, column, rows.tolist())
                problems.append(Problem(table, rule.text, column, _numbered(rows), found))
    for rule in _frame_rules(table, frame, context, keys):
        rows = _rows(~_keeps(rule.frame_test(frame), na=False))
        if not rows.size:
            continue
        if rule.key:
            found = describe_keys(frame.loc[rows, list(rule.key)])
            problems.append(Problem(table, rule.text, None, _numbered(rows), found))
        else:
            assert rule.column is not None
            found = found_at(frame, rule.column, rows.tolist())
            problems.append(Problem(table, rule.text, rule.column, _numbered(rows), found))
    return problems


def _keeps(result: pd.Series | np.ndarray, *, na: bool) -> np.ndarray:
    """A test's result as a numpy boolean mask, NA counted as ``na``."""
    if isinstance(result, np.ndarray):
        return result.astype(bool, copy=False)
    return result.to_numpy(dtype=bool, na_value=na)


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _numbered(rows: np.ndarray) -> tuple[int, ...]:
    """0-based positions as the 1-based data rows messages name."""
    return tuple((rows + 1).tolist())


@dataclass(frozen=True)
class _Rule:
    """One contract rule: its text and its test (of a column, or of the whole frame)."""

    text: str
    test: Test = lambda values: np.ones(len(values), dtype=bool)
    frame_test: FrameTest = lambda frame: np.ones(len(frame), dtype=bool)
    column: str | None = None  # frame-wide rules: the column the rule is about
    key: tuple[str, ...] = ()  # uniqueness rules: the key columns
    allowed: tuple[str, ...] = ()  # allowed-value rules


def _between(low: float, high: float) -> Test:
    return lambda values: (values >= low) & (values <= high)


def _column_rules(
    table: str, column: str, kind: Kind, context: TableContext, keys: HouseholdKeys | None
) -> list[_Rule]:
    """The contract's rules for one column, cheapest first as the contract lists them."""
    this_year = context.today.year
    found: list[_Rule] = []
    if kind is Kind.INT and column in (YEAR, HEAD_BIRTH_YEAR, POVERTY_EXIT_YEAR):
        found.append(
            _Rule(f"must be a year from {MIN_YEAR} to {this_year}", _between(MIN_YEAR, this_year))
        )
    if kind is Kind.DATE:
        text = f"must be a date from {MIN_YEAR}-01-01 to {context.today:%Y-%m-%d} (today)"
        found.append(_Rule(text, _date_between(pd.Timestamp(MIN_YEAR, 1, 1), context.today)))
    if column == HEAD_EDUCATION_YEARS:
        found.append(_Rule("must be from 0 to 22 years", _between(0, 22)))
    if table == HOUSEHOLD_YEARS and column == HOUSEHOLD_SIZE:
        found.append(_Rule("must be >= 1", lambda s: s >= 1))
        found.append(_Rule(f"must be <= {MAX_HOUSEHOLD_SIZE}", lambda s: s <= MAX_HOUSEHOLD_SIZE))
    if table == HOUSEHOLD_YEARS and column in MEMBER_COUNTS:
        found.append(_Rule("must be >= 0", lambda s: s >= 0))
    if column in MONEY_COLUMNS.get(table, ()):
        text = f"must be between {-MAX_ABS_MONEY:,.0f} and {MAX_ABS_MONEY:,.0f} yuan"
        found.append(_Rule(text, _between(-MAX_ABS_MONEY, MAX_ABS_MONEY)))
    if column in NON_NEGATIVE_MONEY.get(table, ()):
        found.append(_Rule("must be >= 0", lambda s: s >= 0))
    if table == LINES and column == LINE:
        found.append(_Rule("must be > 0", lambda s: s > 0))
    if column in ALLOWED_CODES and (table, column) != (LINES, COUNTY):
        allowed = ALLOWED_CODES[column]
        found.append(_Rule(f"not an allowed {column}", lambda s: s.isin(allowed), allowed=allowed))
    if column == ID_NUMBER:
        found.append(_Rule("must be 18 characters", lambda s: s.str.len() == 18))
    if column == HOUSEHOLD_ID and table != HOUSEHOLDS and keys is not None and keys.checkable:
        found.append(_Rule("not in households", lambda _: keys.known))
    return found


def _date_between(first: pd.Timestamp, today: pd.Timestamp) -> Test:
    """Dates from ``first`` to ``today`` (compared as int64 microseconds)."""
    low = np.datetime64(first.to_datetime64(), "us").astype(np.int64)
    high = np.datetime64((today + pd.Timedelta(days=1)).to_datetime64(), "us").astype(np.int64)

    def test(dates: pd.Series) -> np.ndarray:
        micros = dates.to_numpy(dtype="datetime64[us]").view(np.int64)
        return (micros >= low) & (micros < high)  # NaT is the smallest int64: empty, skipped

    return test


def _frame_rules(
    table: str, frame: pd.DataFrame, context: TableContext, keys: HouseholdKeys | None
) -> list[_Rule]:
    """The contract's rules that span columns: keys, member counts, dates, poverty lines."""
    present = set(frame.columns)
    found: list[_Rule] = []

    def unique(key: tuple[str, ...]) -> None:
        if set(key) <= present:
            text = f"({', '.join(key)}) duplicated" if len(key) > 1 else f"{key[0]} duplicated"
            found.append(_Rule(text, frame_test=lambda f: ~duplicated_keys(f, key, keys), key=key))

    if table == HOUSEHOLDS:
        unique((HOUSEHOLD_ID,))
    if table == HOUSEHOLD_YEARS:
        unique((HOUSEHOLD_ID, YEAR))
        counts = [count for count in MEMBER_COUNTS if count in present]
        if counts and HOUSEHOLD_SIZE in present:
            at_most = _at_most_size(frame[HOUSEHOLD_SIZE])
            found += [
                _Rule(f"must be <= {HOUSEHOLD_SIZE}", frame_test=at_most(count), column=count)
                for count in counts
            ]
        lines_known = keys is not None and context.county_codes is not None
        if {HOUSEHOLD_ID, YEAR} <= present and keys is not None and lines_known:
            found.append(
                _Rule(
                    "has no poverty line (neither a default nor in the lines table)",
                    frame_test=_has_line(keys),
                    column=YEAR,
                )
            )
    if table == ASSISTANCE and {START_DATE, END_DATE} <= present:
        found.append(
            _Rule(
                "must not be before start_date",
                frame_test=lambda f: ~(f[END_DATE] < f[START_DATE]).fillna(False),
                column=END_DATE,
            )
        )
    if table == LINES:
        unique((YEAR, COUNTY) if COUNTY in present else (YEAR,))
    if table == PLACES:
        unique((COUNTY, VILLAGE))
    return found


def _has_line(keys: HouseholdKeys) -> FrameTest:
    """Survey rounds with a poverty line for their year and county."""
    return lambda household_years: keys.has_line(household_years[YEAR])


def _at_most_size(size: pd.Series) -> Callable[[str], FrameTest]:
    """Tests that members counted in a column fit the household (an impossible size is
    reported alone); the sizes are read once for every count."""
    sizes = numbers(size)
    impossible = ~((sizes >= 1) & (sizes <= MAX_HOUSEHOLD_SIZE))

    def at_most(count: str) -> FrameTest:
        return lambda household_years: ~(numbers(household_years[count]) > sizes) | impossible

    return at_most
