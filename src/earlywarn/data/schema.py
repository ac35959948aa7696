"""The data contract as code: read a data directory, check every rule, report all problems.

``read_tables`` reads one file per table (Parquet or CSV), applies a column mapping, parses
every value into the contract's types, checks every rule of ``../shared/data-contract.md``
with pandera (lazily, so all failures are collected) and either returns :class:`Tables`
(personal columns split off) or raises one :class:`SchemaError` listing every problem.

Row numbers in messages are 1-based data rows of the file as read: row 1 is the first row
after the CSV header (or the first row of the Parquet file). Messages name tables, columns,
rows, household IDs and offending codes or amounts, never personal data.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow_lib
from pandera.errors import SchemaErrors

from earlywarn.data.columns import (
    ASSISTANCE,
    COUNTY,
    DEFAULT_LINES,
    EVENT_TYPE,
    EVENTS,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HEAD_SEX,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    ID_NUMBER,
    LINE,
    LINES,
    MAX_ABS_MONEY,
    MAX_HOUSEHOLD_SIZE,
    MEASURE,
    MEMBER_COUNTS,
    MIN_YEAR,
    PERSONAL_COLUMNS,
    POVERTY_EXIT_YEAR,
    REQUIRED_TABLES,
    VILLAGE,
    YEAR,
)
from earlywarn.data.contract import (
    CONTRACT,
    EXPECTED,
    MONEY_COLUMNS,
    NON_NEGATIVE_MONEY,
    Kind,
    empty_table,
    parse_column,
    to_canonical,
)
from earlywarn.data.mapping import ALLOWED_CODES, DEFAULT_MAPPING, ColumnMapping, load_mapping
from earlywarn.data.storage import atomic_path
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError, SchemaError

log = logging.getLogger(__name__)

TABLES = tuple(CONTRACT)  # households, household_years, events, assistance, lines
SUFFIXES = (".parquet", ".csv")
_MAX_LISTED_ROWS = 5
_MAX_LISTED_VALUES = 3
_MAX_CODE_PROBLEMS = 8

# words people use for a contract code, for "did you mean" hints
_SYNONYMS = {
    EVENT_TYPE: {
        "flood": "disaster",
        "drought": "disaster",
        "earthquake": "disaster",
        "storm": "disaster",
        "hail": "disaster",
        "landslide": "disaster",
        "fire": "disaster",
        "sickness": "illness",
        "disease": "illness",
        "hospital": "illness",
        "hospitalisation": "illness",
        "hospitalization": "illness",
        "accident": "injury",
        "unemployment": "job_loss",
        "layoff": "job_loss",
        "lockdown": "epidemic_lockdown",
        "covid": "epidemic_lockdown",
        "harvest": "crop_failure",
        "疾病": "illness",
        "生病": "illness",
        "大病": "illness",
        "住院": "illness",
        "受伤": "injury",
        "意外": "injury",
        "残疾": "disability",
        "慢性病": "chronic_diagnosis",
        "死亡": "death",
        "失业": "job_loss",
        "歉收": "crop_failure",
        "减产": "crop_failure",
        "牲畜死亡": "livestock_loss",
        "灾害": "disaster",
        "自然灾害": "disaster",
        "洪涝": "disaster",
        "干旱": "disaster",
        "疫情": "epidemic_lockdown",
        "其他": "other",
    },
    MEASURE: {
        "dibao": "minimum_living_allowance",
        "subsidy": "minimum_living_allowance",
        "job": "employment",
        "training": "employment",
        "health": "medical",
        "school": "education",
        "产业": "industrial",
        "产业帮扶": "industrial",
        "就业": "employment",
        "医疗": "medical",
        "低保": "minimum_living_allowance",
        "教育": "education",
        "住房": "housing",
        "保险": "insurance",
        "其他": "other",
    },
    HEAD_SEX: {"男": "M", "女": "F", "male": "M", "female": "F", "m": "M", "f": "F"},
}
_CODE_NOUN = {EVENT_TYPE: "type", MEASURE: "measure", HEAD_SEX: "sex"}


# --- problems ------------------------------------------------------------------------------


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
    if len(texts) > _MAX_LISTED_ROWS:
        return f"rows {', '.join(texts[:_MAX_LISTED_ROWS])}, ... ({len(ordered):,} rows)"
    if len(texts) == 1:
        return f"rows {texts[0]}"
    return f"rows {', '.join(texts[:-1])} and {texts[-1]}"


def format_problems(problems: list[Problem], source: str) -> str:
    """The SchemaError message: a count line, then one indented line per problem."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{len(problems)} {noun} in the tables read from {source} (nothing was written)"]
    return "\n".join([*lines, *(f"  {problem}" for problem in problems)])


def _scalar(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return f"'{value.year:04d}-{value.month:02d}-{value.day:02d}'"
    if isinstance(value, float | np.floating):
        number = float(value)
        if np.isfinite(number) and number == int(number) and abs(number) < 1e12:
            return f"{int(number)}"
        return f"{number:g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _values(values: Iterable[Any]) -> str:
    distinct = list(dict.fromkeys(v for v in values if not pd.isna(v)))
    shown = ", ".join(_scalar(v) for v in distinct[:_MAX_LISTED_VALUES])
    return shown + (", ..." if len(distinct) > _MAX_LISTED_VALUES else "")


def _rows(mask: pd.Series) -> tuple[int, ...]:
    """1-based data rows where ``mask`` holds (frames keep a 0-based RangeIndex)."""
    return tuple(int(i) + 1 for i in np.flatnonzero(mask.to_numpy(dtype=bool)))


# --- reading files -------------------------------------------------------------------------


def _coerce_mapping(mapping: ColumnMapping | Path | str | None) -> ColumnMapping:
    if mapping is None:
        return DEFAULT_MAPPING
    if isinstance(mapping, ColumnMapping):
        return mapping
    return load_mapping(Path(mapping))


def _csv_dtypes(path: Path, table: str, mapping: ColumnMapping, **options: Any) -> dict[str, str]:
    """Read as text every CSV column that is not a number, flag or date (keeps ids' zeros)."""
    headers = pd.read_csv(path, nrows=0, **options).columns
    table_mapping = mapping.tables.get(table)  # type: ignore[call-overload]
    renames = table_mapping.columns if table_mapping else {}
    specs = CONTRACT[table]
    return {
        str(header): "str"
        for header in headers
        if (name := renames.get(str(header).strip(), str(header).strip())) not in specs
        or specs[name].kind is Kind.TEXT
    }


def _read_file(path: Path, table: str, mapping: ColumnMapping) -> pd.DataFrame:
    """One table file as read (text, or numbers where pandas reads them); raises SchemaError."""
    if path.stat().st_size == 0:
        raise SchemaError(f"{path} is empty (not even a header row)")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError, TypeError, pyarrow_lib.ArrowException) as err:
            reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            raise SchemaError(
                f"{path} cannot be read as Parquet (truncated or not a Parquet file: {reason})"
            ) from err
        return frame.rename(columns=str).reset_index(drop=True)
    options: dict[str, Any] = {
        "sep": mapping.separator,
        "encoding": mapping.python_encoding,
        "engine": "python" if len(mapping.separator) > 1 else "c",
        "thousands": mapping.thousands,
        "decimal": mapping.decimal,
    }
    try:
        frame = pd.read_csv(path, dtype=_csv_dtypes(path, table, mapping, **options), **options)
    except UnicodeDecodeError as err:
        hint = (
            "; if it is GBK (e.g. exported from Excel in China), declare `encoding: gbk` "
            "in the column mapping (--mapping)"
            if mapping.python_encoding == "utf-8-sig"
            else ""
        )
        raise SchemaError(
            f"{path} is not {mapping.encoding} text (byte {err.object[err.start : err.start + 1]!r}"
            f" at position {err.start}){hint}"
        ) from err
    except pd.errors.EmptyDataError as err:
        raise SchemaError(f"{path} is empty (not even a header row)") from err
    except (pd.errors.ParserError, ValueError, OSError) as err:
        reason = str(err).strip().splitlines()[-1][:200] if str(err) else type(err).__name__
        raise SchemaError(f"{path} cannot be read as CSV: {reason}") from err
    headers = [str(column).replace("\ufeff", "").strip() for column in frame.columns]
    return frame.set_axis(headers, axis="columns")


def read_raw(
    data_dir: Path, mapping: ColumnMapping = DEFAULT_MAPPING
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Every table file of ``data_dir``, renamed and recoded by ``mapping``, values as read.

    Returns the frames found and the problems met reading them (a missing required table, an
    unreadable file). Nothing is validated yet.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise SchemaError(f"data directory {data_dir} does not exist or is not a directory")
    raw: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table in TABLES:
        stem = mapping.file_stem(table)
        paths = sorted(
            path
            for path in data_dir.iterdir()
            if path.is_file() and path.stem == stem and path.suffix.lower() in SUFFIXES
        )
        if not paths:
            others = sorted(p.name for p in data_dir.iterdir() if p.is_file() and p.stem == stem)
            hint = f"found {', '.join(others)}: save it as CSV or Parquet" if others else ""
            if table in REQUIRED_TABLES or others:
                kind = "required table is missing" if table in REQUIRED_TABLES else "not read"
                problems.append(
                    Problem(
                        table, f"{kind}: no {stem}.parquet or {stem}.csv in {data_dir}", hint=hint
                    )
                )
            continue
        if len(paths) > 1:
            names = " and ".join(path.name for path in paths)
            problems.append(Problem(table, f"two files for one table ({names}); keep one"))
            continue
        try:
            frame = _read_file(paths[0], table, mapping)
        except SchemaError as err:
            problems.append(Problem(table, str(err)))
            continue
        raw[table] = mapping.rename(table, frame)
    return raw, problems


# --- parsing and checking ------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """What a pandera check stands for, so a failure becomes one of our messages."""

    text: str
    column: str | None = None  # frame-wide checks: the column the rule is about
    key: tuple[str, ...] = ()  # uniqueness checks: the key columns
    allowed: tuple[str, ...] = ()  # allowed-value checks


@dataclass
class _Checks:
    """Builds pandera checks and remembers the rule behind each one's error text."""

    rules: dict[str, _Rule] = field(default_factory=dict)

    def column(self, rule: _Rule, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
        self.rules[rule.text] = rule
        return pa.Check(test, error=rule.text)

    def frame(self, rule: _Rule, test: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
        error = f"{rule.column or ', '.join(rule.key)}: {rule.text}"
        self.rules[error] = rule
        return pa.Check(test, error=error, ignore_na=False)


@dataclass(frozen=True)
class _Context:
    """What checks of one table need from the others, and the day of the run."""

    today: pd.Timestamp
    household_ids: pd.Index | None  # None: households could not be read
    county_of: pd.Series | None  # household_id -> county
    general_line_years: frozenset[int]
    county_line_years: frozenset[tuple[str, int]]


def _between(low: float, high: float) -> Callable[[pd.Series], pd.Series]:
    return lambda values: (values >= low) & (values <= high)


def _column_checks(
    table: str, column: str, kind: Kind, context: _Context, checks: _Checks
) -> list[pa.Check]:
    """The contract's rules for one column."""
    this_year = context.today.year
    found: list[pa.Check] = []
    if kind is Kind.INT and column in (YEAR, HEAD_BIRTH_YEAR, POVERTY_EXIT_YEAR):
        text = f"must be a year from {MIN_YEAR} to {this_year}"
        found.append(checks.column(_Rule(text), _between(MIN_YEAR, this_year)))
    if kind is Kind.DATE:
        text = f"must be a date from {MIN_YEAR}-01-01 to {context.today:%Y-%m-%d} (today)"
        tomorrow = context.today + pd.Timedelta(days=1)
        found.append(
            checks.column(
                _Rule(text), lambda d: (d >= pd.Timestamp(MIN_YEAR, 1, 1)) & (d < tomorrow)
            )
        )
    if column == HEAD_EDUCATION_YEARS:
        found.append(checks.column(_Rule("must be from 0 to 22 years"), _between(0, 22)))
    if table == HOUSEHOLD_YEARS and column == HOUSEHOLD_SIZE:
        found.append(checks.column(_Rule("must be >= 1"), lambda s: s >= 1))
        found.append(
            checks.column(
                _Rule(f"must be <= {MAX_HOUSEHOLD_SIZE}"), lambda s: s <= MAX_HOUSEHOLD_SIZE
            )
        )
    if table == HOUSEHOLD_YEARS and column in MEMBER_COUNTS:
        found.append(checks.column(_Rule("must be >= 0"), lambda s: s >= 0))
    if column in MONEY_COLUMNS.get(table, ()):
        text = f"must be between {-MAX_ABS_MONEY:,.0f} and {MAX_ABS_MONEY:,.0f} yuan"
        found.append(checks.column(_Rule(text), _between(-MAX_ABS_MONEY, MAX_ABS_MONEY)))
    if column in NON_NEGATIVE_MONEY.get(table, ()):
        found.append(checks.column(_Rule("must be >= 0"), lambda s: s >= 0))
    if table == LINES and column == LINE:
        found.append(checks.column(_Rule("must be > 0"), lambda s: s > 0))
    if column in ALLOWED_CODES and (table, column) != (LINES, COUNTY):
        allowed = ALLOWED_CODES[column]
        found.append(
            checks.column(
                _Rule(f"not an allowed {column}", allowed=allowed), lambda s: s.isin(allowed)
            )
        )
    if column == ID_NUMBER:
        found.append(checks.column(_Rule("must be 18 characters"), lambda s: s.str.len() == 18))
    if column == HOUSEHOLD_ID and table != HOUSEHOLDS and context.household_ids is not None:
        ids = context.household_ids
        found.append(
            checks.column(  # a hash lookup: Series.isin on str is slow
                _Rule("not in households"),
                lambda s: pd.Series(ids.get_indexer(s) >= 0, index=s.index),
            )
        )
    return found


def _frame_checks(
    table: str, frame: pd.DataFrame, context: _Context, checks: _Checks
) -> list[pa.Check]:
    """The contract's rules that span columns: keys, member counts, dates, poverty lines."""
    present = set(frame.columns)
    found: list[pa.Check] = []

    def unique(key: tuple[str, ...]) -> None:
        if set(key) <= present:
            text = f"({', '.join(key)}) duplicated" if len(key) > 1 else f"{key[0]} duplicated"
            found.append(
                checks.frame(
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
                    checks.frame(
                        _Rule(f"must be <= {HOUSEHOLD_SIZE}", column=count), _at_most_size(count)
                    )
                )
        if {HOUSEHOLD_ID, YEAR} <= present and context.county_of is not None:
            found.append(
                checks.frame(
                    _Rule(
                        "has no poverty line (neither a default nor in the lines table)",
                        column=YEAR,
                    ),
                    lambda f: _has_line(f, context),
                )
            )
    if table == ASSISTANCE and {"start_date", "end_date"} <= present:
        found.append(
            checks.frame(
                _Rule("must not be before start_date", column="end_date"),
                lambda f: ~(f["end_date"] < f["start_date"]).fillna(False),
            )
        )
    if table == LINES:
        unique((YEAR, COUNTY) if COUNTY in present else (YEAR,))
    return found


def _at_most_size(count: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Members counted in ``count`` fit the household (an impossible size is reported alone)."""

    def test(household_years: pd.DataFrame) -> pd.Series:
        size = household_years[HOUSEHOLD_SIZE]
        too_many = (household_years[count] > size).fillna(False)
        return ~too_many | ~size.between(1, MAX_HOUSEHOLD_SIZE)

    return test


def _has_line(household_years: pd.DataFrame, context: _Context) -> pd.Series:
    assert context.county_of is not None
    county = household_years[HOUSEHOLD_ID].map(context.county_of)
    year = household_years[YEAR]
    general = year.isin(context.general_line_years)
    pairs = pd.MultiIndex.from_arrays([county.fillna(""), year.fillna(-1).astype("int64")])
    by_county = pd.Series(pairs.isin(list(context.county_line_years)), index=year.index)
    return general | by_county | county.isna() | year.isna()


def _context(parsed: Mapping[str, pd.DataFrame], today: pd.Timestamp) -> _Context:
    households = parsed.get(HOUSEHOLDS)
    household_ids = county_of = None
    if households is not None and HOUSEHOLD_ID in households.columns:
        household_ids = pd.Index(households[HOUSEHOLD_ID].dropna().unique())
        if COUNTY in households.columns:
            known = households.dropna(subset=[HOUSEHOLD_ID]).drop_duplicates(HOUSEHOLD_ID)
            county_of = known.set_index(HOUSEHOLD_ID)[COUNTY]
    general = set(DEFAULT_LINES)
    by_county: set[tuple[str, int]] = set()
    lines = parsed.get(LINES)
    if lines is not None and {YEAR, LINE} <= set(lines.columns):
        usable = lines.dropna(subset=[YEAR, LINE])
        county = usable[COUNTY] if COUNTY in usable.columns else pd.Series(pd.NA, usable.index)
        general |= {int(y) for y in usable.loc[county.isna(), YEAR]}
        by_county |= {
            (str(c), int(y))
            for c, y in zip(county[county.notna()], usable.loc[county.notna(), YEAR], strict=True)
        }
    return _Context(today, household_ids, county_of, frozenset(general), frozenset(by_county))


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


def _parse_table(
    table: str, frame: pd.DataFrame, mapping: ColumnMapping
) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Contract columns parsed into validated dtypes, the unreadable mask, and problems."""
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
    parsed: dict[str, pd.Series] = {}
    unreadable: dict[str, pd.Series] = {}
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
        parsed[column], unreadable[column] = result.values, result.unreadable
        if result.unreadable.any():
            bad = frame[column].reset_index(drop=True)[result.unreadable]
            hint = ""
            if any("," in str(v) for v in bad) and spec.kind in (Kind.INT, Kind.FLOAT):
                hint = "if ',' separates thousands, declare `thousands: ','` in the mapping"
            problems.append(
                Problem(
                    table,
                    f"cannot be read as {EXPECTED[spec.kind]}",
                    column,
                    _rows(result.unreadable),
                    _values(str(v) for v in bad),
                    hint,
                )
            )
    index = pd.RangeIndex(len(frame))
    return (
        pd.DataFrame(parsed, index=index),
        pd.DataFrame(unreadable, index=index, dtype=bool),
        problems,
    )


def _suggest(column: str, value: str, allowed: tuple[str, ...]) -> str:
    synonyms = _SYNONYMS.get(column, {})
    synonym = synonyms.get(value.strip().lower()) or synonyms.get(value.strip())
    close = difflib.get_close_matches(value.lower(), allowed, n=1, cutoff=0.6)
    guess = synonym or (close[0] if close else None)
    if guess is not None:
        return f"did you mean {guess!r}?"
    return f"allowed: {', '.join(allowed)}"


def _code_problems(
    table: str, column: str, frame: pd.DataFrame, rows: list[int], allowed: tuple[str, ...]
) -> list[Problem]:
    """One problem per unknown code (``'flood' is not an allowed type; did you mean ...``)."""
    values = frame[column]
    bad = values.iloc[rows]
    problems = []
    distinct = list(dict.fromkeys(bad))
    noun = _CODE_NOUN.get(column, "value")
    for value in distinct[:_MAX_CODE_PROBLEMS]:
        positions = _rows(values == value)
        hint = _suggest(column, str(value), allowed)
        if not str(value).isascii():
            hint += f" (codes of an export go under codes.{column} in the column mapping)"
        problems.append(
            Problem(table, f"{value!r} is not an allowed {noun}; {hint}", column, positions)
        )
    if len(distinct) > _MAX_CODE_PROBLEMS:
        rest = bad[~bad.isin(distinct[:_MAX_CODE_PROBLEMS])]
        problems.append(
            Problem(
                table,
                f"{len(distinct) - _MAX_CODE_PROBLEMS} more values that are not an allowed "
                f"{noun}; allowed: {', '.join(allowed)}",
                column,
                tuple(int(i) + 1 for i in rest.index),
            )
        )
    return problems


def _failures_to_problems(
    table: str,
    frame: pd.DataFrame,
    unreadable: pd.DataFrame,
    failure_cases: pd.DataFrame,
    checks: _Checks,
) -> list[Problem]:
    problems: list[Problem] = []
    cases = failure_cases.dropna(subset=["index"])
    for (context, column, check), group in cases.groupby(
        ["schema_context", "column", "check"], sort=False, dropna=False
    ):
        if context == "DataFrameSchema":
            continue  # frame-wide checks are handled below, once per check
        column = str(column)
        rows = sorted({int(i) for i in group["index"]})
        if column in unreadable.columns:
            rows = [r for r in rows if not unreadable[column].iat[r]]  # reported already
        if not rows:
            continue
        rule = checks.rules.get(str(check))
        if rule is not None and rule.allowed:
            problems.extend(_code_problems(table, column, frame, rows, rule.allowed))
            continue
        text = "must not be empty" if check == "not_nullable" else str(check)
        found = "" if check == "not_nullable" else _found(frame, column, rows)
        problems.append(Problem(table, text, column, tuple(r + 1 for r in rows), found))
    wide = cases[cases["schema_context"] == "DataFrameSchema"]
    for check, group in wide.groupby("check", sort=False):
        rule = checks.rules[str(check)]
        rows = sorted({int(i) for i in group["index"]})
        positions = tuple(r + 1 for r in rows)
        if rule.key:
            keys = [
                _scalar(k[0]) if len(k) == 1 else "(" + ", ".join(_scalar(v) for v in k) + ")"
                for k in frame.loc[rows, list(rule.key)].drop_duplicates().itertuples(index=False)
            ]
            found = ", ".join(keys[:_MAX_LISTED_VALUES])
            if len(keys) > _MAX_LISTED_VALUES:
                found += f", ... ({len(keys):,} keys)"
            problems.append(Problem(table, rule.text, None, positions, found))
        else:
            assert rule.column is not None
            found = _found(frame, rule.column, rows)
            problems.append(Problem(table, rule.text, rule.column, positions, found))
    return problems


def _found(frame: pd.DataFrame, column: str, rows: list[int]) -> str:
    """What was found at ``rows``; personal columns show only their length."""
    values = frame[column].iloc[rows]
    if column in PERSONAL_COLUMNS:
        lengths = sorted({len(str(v)) for v in values.dropna()})
        return ", ".join(f"{n} characters" for n in lengths[:_MAX_LISTED_VALUES])
    return _values(values)


def _check_tables(
    raw: Mapping[str, pd.DataFrame], mapping: ColumnMapping, today: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Parse and check every table: frames in validated dtypes and every problem found."""
    parsed: dict[str, pd.DataFrame] = {}
    unreadable: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table in TABLES:
        if table in raw:
            parsed[table], unreadable[table], found = _parse_table(table, raw[table], mapping)
            problems.extend(found)
        elif table in REQUIRED_TABLES:
            problems.append(Problem(table, "required table is missing"))
    context = _context(parsed, today)
    for table, frame in parsed.items():
        checks = _Checks()
        schema = pa.DataFrameSchema(
            {
                column: pa.Column(
                    CONTRACT[table][column].validated_dtype,
                    _column_checks(table, column, CONTRACT[table][column].kind, context, checks),
                    nullable=CONTRACT[table][column].nullable,
                )
                for column in frame.columns
            },
            checks=_frame_checks(table, frame, context, checks),
            name=table,
        )
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as err:
            problems.extend(
                _failures_to_problems(table, frame, unreadable[table], err.failure_cases, checks)
            )
    return parsed, sorted(problems, key=_position)


def _position(problem: Problem) -> tuple[int, int, tuple[int, ...]]:
    """Order problems as the contract lists tables and columns, then by first row."""
    columns = list(CONTRACT[problem.table])
    column = columns.index(problem.column) if problem.column in columns else -1
    return TABLES.index(problem.table), column, problem.rows[:1]


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


def _today(today: date | None) -> pd.Timestamp:
    return pd.Timestamp(today or date.today()).normalize()


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
    data_dir = Path(data_dir)
    column_mapping = _coerce_mapping(mapping)
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


def _to_tables(parsed: Mapping[str, pd.DataFrame]) -> Tables:
    frames = {
        table: to_canonical(table, parsed[table]) if table in parsed else empty_table(table)
        for table in TABLES
    }
    households = frames[HOUSEHOLDS]
    personal_columns = [c for c in PERSONAL_COLUMNS if c in households.columns]
    personal = households[[HOUSEHOLD_ID, *personal_columns]].set_index(HOUSEHOLD_ID)
    return Tables(
        households=households.drop(columns=personal_columns),
        household_years=frames[HOUSEHOLD_YEARS],
        events=frames[EVENTS],
        assistance=frames[ASSISTANCE],
        lines=frames[LINES],
        personal=personal,
    )


# --- summary and writing -------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What a data directory holds, in counts (no data rows)."""

    n_households: int
    n_counties: int
    n_villages: int
    n_rounds: int
    first_year: int | None
    last_year: int | None
    rounds_by_year: dict[int, int]
    events_by_type: dict[str, int]
    assistance_by_measure: dict[str, int]
    n_line_overrides: int
    personal_columns: tuple[str, ...]


def summarize(tables: Tables) -> Summary:
    """Counts of households, survey rounds per year, events by type, assistance by measure."""
    years = tables.household_years[YEAR]
    return Summary(
        n_households=len(tables.households),
        n_counties=int(tables.households[COUNTY].nunique()),
        n_villages=int(tables.households[[COUNTY, VILLAGE]].drop_duplicates().shape[0]),
        n_rounds=len(tables.household_years),
        first_year=int(years.min()) if len(years) else None,
        last_year=int(years.max()) if len(years) else None,
        rounds_by_year={int(y): int(n) for y, n in years.value_counts().sort_index().items()},
        events_by_type={
            str(k): int(v) for k, v in tables.events[EVENT_TYPE].value_counts().items()
        },
        assistance_by_measure={
            str(k): int(v) for k, v in tables.assistance[MEASURE].value_counts().items()
        },
        n_line_overrides=len(tables.lines),
        personal_columns=tuple(str(c) for c in tables.personal.columns),
    )


def contract_frames(tables: Tables) -> dict[str, pd.DataFrame]:
    """The tables as a data directory holds them: personal columns back in households."""
    households = tables.households
    if len(tables.personal.columns):
        households = households.merge(
            tables.personal, left_on=HOUSEHOLD_ID, right_index=True, how="left"
        )
    return {
        HOUSEHOLDS: households,
        HOUSEHOLD_YEARS: tables.household_years,
        EVENTS: tables.events,
        ASSISTANCE: tables.assistance,
        LINES: tables.lines,
    }


def write_tables(
    tables: Tables,
    out_dir: Path | str,
    *,
    fmt: Literal["parquet", "csv"] = "parquet",
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write ``tables`` as a contract-shaped data directory, atomically; return its path.

    ``extra`` frames (e.g. ``{"truth": truth}``) are written beside the tables as
    ``<name>.parquet`` in the same atomic step. The directory is replaced in one rename; an
    existing directory holding anything but files earlywarn writes there is refused, so no
    unrelated file is lost.
    """
    out_dir = Path(out_dir)
    ours = {*TABLES, *(extra or {})}
    if out_dir.exists():
        strangers = [
            p.name
            for p in out_dir.iterdir()
            if not (p.is_file() and p.stem in ours and p.suffix in SUFFIXES)
        ]
        if strangers or not out_dir.is_dir():
            raise EarlywarnError(
                f"{out_dir} exists and holds other files ({', '.join(strangers[:3])}); "
                "choose an empty or new directory"
            )
    with atomic_path(out_dir) as staged:
        staged.mkdir()
        for table, frame in contract_frames(tables).items():
            path = staged / f"{table}.{fmt}"
            if fmt == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        for name, frame in (extra or {}).items():
            frame.to_parquet(staged / f"{name}.parquet", index=False)
    return out_dir
