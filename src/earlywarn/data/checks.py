"""The contract's rules for one table as a pandera schema, run lazily; failures as Problems.

Each pandera check carries the text of our rule as its error, so a failure case maps back
to the rule (and, for codes, to the allowed values) and becomes one :class:`Problem` per
column and rule, naming every row that breaks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

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
from earlywarn.data.cross_table import TableContext, has_line, is_known_household
from earlywarn.data.mapping import ALLOWED_CODES
from earlywarn.data.problems import Problem, describe_keys, found_at


def table_problems(
    table: str, frame: pd.DataFrame, unreadable: pd.DataFrame, context: TableContext
) -> list[Problem]:
    """Every rule ``frame`` (parsed, 0-based rows) breaks; values already reported as
    unreadable (``unreadable``, one mask column per column) are not reported again."""
    rules = _RuleBook()
    schema = pa.DataFrameSchema(
        {
            column: pa.Column(
                CONTRACT[table][column].validated_dtype,
                _column_checks(table, column, CONTRACT[table][column].kind, context, rules),
                nullable=CONTRACT[table][column].nullable,
            )
            for column in frame.columns
        },
        checks=_frame_checks(table, frame, context, rules),
        name=table,
    )
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        return _failures_to_problems(table, frame, unreadable, err.failure_cases, rules)
    return []


@dataclass(frozen=True)
class _Rule:
    """What a pandera check stands for, so a failure becomes one of our messages."""

    text: str
    column: str | None = None  # frame-wide checks: the column the rule is about
    key: tuple[str, ...] = ()  # uniqueness checks: the key columns
    allowed: tuple[str, ...] = ()  # allowed-value checks


@dataclass
class _RuleBook:
    """Builds pandera checks and remembers the rule behind each one's error text."""

    by_error: dict[str, _Rule] = field(default_factory=dict)

    def column(self, rule: _Rule, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
        self.by_error[rule.text] = rule
        return pa.Check(test, error=rule.text)

    def frame(self, rule: _Rule, test: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
        error = f"{rule.column or ', '.join(rule.key)}: {rule.text}"
        self.by_error[error] = rule
        return pa.Check(test, error=error, ignore_na=False)


def _between(low: float, high: float) -> Callable[[pd.Series], pd.Series]:
    return lambda values: (values >= low) & (values <= high)


def _column_checks(
    table: str, column: str, kind: Kind, context: TableContext, rules: _RuleBook
) -> list[pa.Check]:
    """The contract's rules for one column."""
    this_year = context.today.year
    found: list[pa.Check] = []
    if kind is Kind.INT and column in (YEAR, HEAD_BIRTH_YEAR, POVERTY_EXIT_YEAR):
        text = f"must be a year from {MIN_YEAR} to {this_year}"
        found.append(rules.column(_Rule(text), _between(MIN_YEAR, this_year)))
    if kind is Kind.DATE:
        text = f"must be a date from {MIN_YEAR}-01-01 to {context.today:%Y-%m-%d} (today)"
        tomorrow = context.today + pd.Timedelta(days=1)
        found.append(
            rules.column(
                _Rule(text), lambda d: (d >= pd.Timestamp(MIN_YEAR, 1, 1)) & (d < tomorrow)
            )
        )
    if column == HEAD_EDUCATION_YEARS:
        found.append(rules.column(_Rule("must be from 0 to 22 years"), _between(0, 22)))
    if table == HOUSEHOLD_YEARS and column == HOUSEHOLD_SIZE:
        found.append(rules.column(_Rule("must be >= 1"), lambda s: s >= 1))
        found.append(
            rules.column(
                _Rule(f"must be <= {MAX_HOUSEHOLD_SIZE}"), lambda s: s <= MAX_HOUSEHOLD_SIZE
            )
        )
    if table == HOUSEHOLD_YEARS and column in MEMBER_COUNTS:
        found.append(rules.column(_Rule("must be >= 0"), lambda s: s >= 0))
    if column in MONEY_COLUMNS.get(table, ()):
        text = f"must be between {-MAX_ABS_MONEY:,.0f} and {MAX_ABS_MONEY:,.0f} yuan"
        found.append(rules.column(_Rule(text), _between(-MAX_ABS_MONEY, MAX_ABS_MONEY)))
    if column in NON_NEGATIVE_MONEY.get(table, ()):
        found.append(rules.column(_Rule("must be >= 0"), lambda s: s >= 0))
    if table == LINES and column == LINE:
        found.append(rules.column(_Rule("must be > 0"), lambda s: s > 0))
    if column in ALLOWED_CODES and (table, column) != (LINES, COUNTY):
        allowed = ALLOWED_CODES[column]
        found.append(
            rules.column(
                _Rule(f"not an allowed {column}", allowed=allowed), lambda s: s.isin(allowed)
            )
        )
    if column == ID_NUMBER:
        found.append(rules.column(_Rule("must be 18 characters"), lambda s: s.str.len() == 18))
    if column == HOUSEHOLD_ID and table != HOUSEHOLDS and context.household_ids is not None:
        ids = context.household_ids
        found.append(rules.column(_Rule("not in households"), lambda s: is_known_household(s, ids)))
    return found


def _frame_checks(
    table: str, frame: pd.DataFrame, context: TableContext, rules: _RuleBook
) -> list[pa.Check]:
    """The contract's rules that span columns: keys, member counts, dates, poverty lines."""
    present = set(frame.columns)
    found: list[pa.Check] = []

    def unique(key: tuple[str, ...]) -> None:
        if set(key) <= present:
            text = f"({', '.join(key)}) duplicated" if len(key) > 1 else f"{key[0]} duplicated"
            found.append(
                rules.frame(
                    _Rule(text, key=key),
                    lambda f: (
                        f[list(key)].isna().any(axis=1) | ~f.duplicated(list(key), keep=False)
                    ),
                )
            )

    if table == HOUSEHOLDS:
        unique((HOUSEHOLD_ID,))
    if table == HOUSEHOLD_YEARS:
        unique((HOUSEHOLD_ID, YEAR))
        for count in MEMBER_COUNTS:
            if {count, HOUSEHOLD_SIZE} <= present:
                found.append(
                    rules.frame(
                        _Rule(f"must be <= {HOUSEHOLD_SIZE}", column=count), _at_most_size(count)
                    )
                )
        if {HOUSEHOLD_ID, YEAR} <= present and context.county_of is not None:
            found.append(
                rules.frame(
                    _Rule(
                        "has no poverty line (neither a default nor in the lines table)",
                        column=YEAR,
                    ),
                    lambda f: has_line(f, context),
                )
            )
    if table == ASSISTANCE and {START_DATE, END_DATE} <= present:
        found.append(
            rules.frame(
                _Rule("must not be before start_date", column=END_DATE),
                lambda f: ~(f[END_DATE] < f[START_DATE]).fillna(False),
            )
        )
    if table == LINES:
        unique((YEAR, COUNTY) if COUNTY in present else (YEAR,))
    if table == PLACES:
        unique((COUNTY, VILLAGE))
    return found


def _at_most_size(count: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Members counted in ``count`` fit the household (an impossible size is reported alone)."""

    def test(household_years: pd.DataFrame) -> pd.Series:
        size = household_years[HOUSEHOLD_SIZE]
        too_many = (household_years[count] > size).fillna(False)
        return ~too_many | ~size.between(1, MAX_HOUSEHOLD_SIZE)

    return test


def _failures_to_problems(
    table: str,
    frame: pd.DataFrame,
    unreadable: pd.DataFrame,
    failure_cases: pd.DataFrame,
    rules: _RuleBook,
) -> list[Problem]:
    """pandera's failure cases as Problems: per column and rule (or unknown code) first, then
    per frame-wide rule."""
    cases = failure_cases.dropna(subset=["index"])
    wide = cases["schema_context"] == "DataFrameSchema"
    return [
        *_column_failures(table, frame, unreadable, cases[~wide], rules),
        *_frame_failures(table, frame, cases[wide], rules),
    ]


def _column_failures(
    table: str,
    frame: pd.DataFrame,
    unreadable: pd.DataFrame,
    cases: pd.DataFrame,
    rules: _RuleBook,
) -> list[Problem]:
    problems: list[Problem] = []
    by_rule = cases.groupby(["schema_context", "column", "check"], sort=False, dropna=False)
    for (_, column, check), group in by_rule:
        column = str(column)
        rows = sorted({int(i) for i in group["index"]})
        if column in unreadable.columns:
            rows = [r for r in rows if not unreadable[column].iat[r]]  # reported already
        if not rows:
            continue
        rule = rules.by_error.get(str(check))
        if rule is not None and rule.allowed:
            problems.extend(code_problems(table, column, frame, rows, rule.allowed))
            continue
        text = "must not be empty" if check == "not_nullable" else str(check)
        found = "" if check == "not_nullable" else found_at(frame, column, rows)
        problems.append(Problem(table, text, column, tuple(r + 1 for r in rows), found))
    return problems


def _frame_failures(
    table: str, frame: pd.DataFrame, cases: pd.DataFrame, rules: _RuleBook
) -> list[Problem]:
    problems: list[Problem] = []
    for check, group in cases.groupby("check", sort=False):
        rule = rules.by_error[str(check)]
        rows = sorted({int(i) for i in group["index"]})
        positions = tuple(r + 1 for r in rows)
        if rule.key:
            found = describe_keys(frame.loc[rows, list(rule.key)])
            problems.append(Problem(table, rule.text, None, positions, found))
        else:
            assert rule.column is not None
            found = found_at(frame, rule.column, rows)
            problems.append(Problem(table, rule.text, rule.column, positions, found))
    return problems
