"""The data contract's columns, their kinds and canonical dtypes, and how raw values are parsed.

Parsing turns whatever a file holds (text from a CSV, any Parquet type) into one validated
dtype per kind and marks the values that cannot be read; :mod:`earlywarn.data.checks` then
checks the contract's rules as vectorised masks, and :mod:`earlywarn.data.schema` reports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow as pa

from earlywarn.data.columns import (
    AMOUNT,
    ASSISTANCE,
    COST,
    COUNTY,
    COUNTY_NAME,
    DATE,
    END_DATE,
    ETHNIC_MINORITY,
    EVENT_TYPE,
    EVENTS,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HEAD_SEX,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    INCOME_SOURCES,
    LINE,
    LINES,
    MEASURE,
    MEMBER_COUNTS,
    PERSONAL_COLUMNS,
    PLACES,
    POVERTY_EXIT_YEAR,
    RIGID_EXPENSES,
    SAFETY_FLAGS,
    START_DATE,
    VILLAGE,
    VILLAGE_NAME,
    YEAR,
)
from earlywarn.data.monitoring import (
    CATEGORY,
    ENTERED,
    EXIT_REASON,
    EXITED,
    MEASURES_AGREED,
    MONITORING,
    OUTCOME,
    RISK_TYPES,
    RISK_TYPES_FOUND,
    VISIT_DATE,
    VISITS,
)


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column: its kind, whether nulls are allowed, whether it may be absent."""

    kind: Kind
    nullable: bool = True
    optional: bool = False

    @property
    def canonical_dtype(self) -> str:
        """The dtype stages may rely on (see :class:`earlywarn.data.tables.Tables`)."""
        if self.kind is Kind.INT:
            return "Int64" if self.nullable else "int64"
        return _VALIDATED_DTYPE[self.kind]

    @property
    def validated_dtype(self) -> str:
        """The dtype while validating: whole numbers read from text or floats are float64 (so
        1e15 can be reported); columns of signed integers keep their integer dtype."""
        return _VALIDATED_DTYPE[self.kind]


_VALIDATED_DTYPE = {
    Kind.TEXT: "str",
    Kind.INT: "float64",
    Kind.FLOAT: "float64",
    Kind.BOOL: "boolean",
    Kind.DATE: "datetime64[us]",
}

_ID = ColumnSpec(Kind.TEXT, nullable=False)
_TEXT = ColumnSpec(Kind.TEXT)
_INT = ColumnSpec(Kind.INT)
_MONEY = ColumnSpec(Kind.FLOAT)
_FLAG = ColumnSpec(Kind.BOOL)

#: Every contract column of every table, in the contract's order.
CONTRACT: dict[str, dict[str, ColumnSpec]] = {
    HOUSEHOLDS: {
        HOUSEHOLD_ID: _ID,
        COUNTY: _ID,
        VILLAGE: _ID,
        HEAD_SEX: _TEXT,
        HEAD_BIRTH_YEAR: _INT,
        HEAD_EDUCATION_YEARS: _INT,
        ETHNIC_MINORITY: _FLAG,
        POVERTY_EXIT_YEAR: _INT,
        **{column: ColumnSpec(Kind.TEXT, optional=True) for column in PERSONAL_COLUMNS},
    },
    HOUSEHOLD_YEARS: {
        HOUSEHOLD_ID: _ID,
        YEAR: ColumnSpec(Kind.INT, nullable=False),
        HOUSEHOLD_SIZE: ColumnSpec(Kind.INT, nullable=False),
        **{column: _INT for column in MEMBER_COUNTS},
        **{column: _MONEY for column in (*INCOME_SOURCES, *RIGID_EXPENSES)},
        **{column: _FLAG for column in SAFETY_FLAGS},
    },
    EVENTS: {
        HOUSEHOLD_ID: _ID,
        DATE: ColumnSpec(Kind.DATE, nullable=False),
        EVENT_TYPE: ColumnSpec(Kind.TEXT, nullable=False),
        COST: _MONEY,
    },
    ASSISTANCE: {
        HOUSEHOLD_ID: _ID,
        START_DATE: ColumnSpec(Kind.DATE, nullable=False),
        END_DATE: ColumnSpec(Kind.DATE),
        MEASURE: ColumnSpec(Kind.TEXT, nullable=False),
        AMOUNT: _MONEY,
    },
    LINES: {
        YEAR: ColumnSpec(Kind.INT, nullable=False),
        LINE: ColumnSpec(Kind.FLOAT, nullable=False),
        COUNTY: ColumnSpec(Kind.TEXT, optional=True),
    },
    PLACES: {  # one row per village: the names the sheets print instead of the codes
        COUNTY: _ID,
        VILLAGE: _ID,
        COUNTY_NAME: _TEXT,
        VILLAGE_NAME: _TEXT,
    },
    # the monitoring cycle (issue 14; rules beyond single columns in data/monitoring_rules.py)
    MONITORING: {
        HOUSEHOLD_ID: _ID,
        ENTERED: ColumnSpec(Kind.DATE, nullable=False),
        CATEGORY: ColumnSpec(Kind.TEXT, nullable=False),
        RISK_TYPES: _TEXT,
        EXITED: ColumnSpec(Kind.DATE),
        EXIT_REASON: _TEXT,
    },
    VISITS: {
        HOUSEHOLD_ID: _ID,
        VISIT_DATE: ColumnSpec(Kind.DATE, nullable=False),
        OUTCOME: ColumnSpec(Kind.TEXT, nullable=False),
        RISK_TYPES_FOUND: _TEXT,
        MEASURES_AGREED: _TEXT,
    },
}
#: The tables in the contract's order: households, household_years, events, assistance, lines,
#: places, monitoring, visits.
TABLES: tuple[str, ...] = tuple(CONTRACT)

#: Money columns per table: every amount must lie within the plausibility limit.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    HOUSEHOLD_YEARS: (*INCOME_SOURCES, *RIGID_EXPENSES),
    EVENTS: (COST,),
    ASSISTANCE: (AMOUNT,),
    LINES: (LINE,),
}
#: Amounts that cannot be negative (a business loss can).
NON_NEGATIVE_MONEY: dict[str, tuple[str, ...]] = {  # business_income may be a loss
    HOUSEHOLD_YEARS: RIGID_EXPENSES,
    EVENTS: (COST,),
}

_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "有", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "无", "没有", "假"}

#: What a value of each kind must look like, for messages.
EXPECTED = {
    Kind.INT: "a whole number",
    Kind.FLOAT: "a number",
    Kind.BOOL: "true or false",
    Kind.DATE: "a date (YYYY-MM-DD)",
}


@dataclass(frozen=True)
class ParsedColumn:
    """A column in its validated dtype, and which input values could not be read."""

    values: pd.Series
    unreadable: pd.Series  # boolean mask: present in the file but not readable as the kind


def parse_column(
    raw: pd.Series,
    spec: ColumnSpec,
    *,
    thousands: str | None = None,
    decimal: str = ".",
    date_format: str | None = None,
) -> ParsedColumn:
    """Read ``raw`` (text from a CSV or any Parquet type) as ``spec.kind``; columns already
    of the kind (a Parquet file's numbers, flags, dates and clean text) pass through."""
    raw = raw.reset_index(drop=True)
    if spec.kind is Kind.TEXT:
        return ParsedColumn(_parse_text(raw), pd.Series(False, index=raw.index))
    if pd.api.types.is_string_dtype(raw.dtype) or pd.api.types.is_object_dtype(raw.dtype):
        text = raw.astype("str").str.strip()
        present = raw.notna() & (text != "")
    else:
        present = raw.notna()
    if spec.kind is Kind.INT and _is_signed_int(raw.dtype):
        return ParsedColumn(raw, pd.Series(False, index=raw.index))  # nothing to read
    if spec.kind in (Kind.INT, Kind.FLOAT):
        values = _parse_number(raw, thousands=thousands, decimal=decimal)
        unreadable = present & values.isna()
        if spec.kind is Kind.INT:
            numbers = values.to_numpy()
            infinite = np.isinf(numbers)
            fractional = np.isfinite(numbers) & (np.trunc(numbers) != numbers)
            if infinite.any() or fractional.any():
                unreadable = unreadable | fractional | infinite
                values = values.mask(fractional | infinite)
        return ParsedColumn(values, unreadable)
    if spec.kind is Kind.BOOL:
        values = _parse_bool(raw)
        return ParsedColumn(values, present & values.isna())
    values = _parse_date(raw, date_format=date_format)
    return ParsedColumn(values, present & values.isna())


def _is_signed_int(dtype: object) -> bool:
    """Whether ``dtype`` holds signed whole numbers (numpy ``int64`` or nullable ``Int64``...)."""
    return pd.api.types.is_signed_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


#: pandas' default text dtype, stored as Arrow strings
_ARROW_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """A text column as Arrow large strings (no copy for pandas' Arrow-backed ``str``)."""
    array = pa.array(values.array, from_pandas=True)
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array])
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def _is_clean_text(raw: pd.Series) -> bool:
    """Whether every value of an Arrow-backed ``str`` column is already what parsing makes of
    it: not empty, and no space, control or non-ASCII byte (maybe a wide space) at either end.
    Looks at two bytes per value in the Arrow buffers, copying nothing."""
    if raw.dtype != _ARROW_STR:
        return False
    for chunk in arrow_text(raw).chunks:
        if chunk.null_count == len(chunk) or not pa.types.is_large_string(chunk.type):
            return chunk.null_count == len(chunk)
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            starts, ends = starts[valid], ends[valid]
        if np.any(ends <= starts):
            return False
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        edges = np.concatenate([data[starts], data[ends - 1]])
        if np.any((edges <= 0x20) | (edges >= 0x7F)):
            return False
    return True


def _as_text(raw: pd.Series) -> pd.Series:
    """Any column as stripped ``str``; whole floats lose their ``.0`` (IDs stored as numbers)."""
    if pd.api.types.is_float_dtype(raw.dtype):
        whole = raw.notna() & np.isfinite(raw) & (raw % 1 == 0) & (raw.abs() < 2**53)
        as_int = raw.where(whole).astype("Int64").astype("str")
        text = raw.astype("str").mask(whole, as_int)
    else:
        text = raw.astype("str")
    return text.where(raw.notna()).astype("str").str.strip()


def _parse_text(raw: pd.Series) -> pd.Series:
    if _is_clean_text(raw):
        return raw
    text = _as_text(raw)
    return text.mask(text == "")


def _parse_number(raw: pd.Series, *, thousands: str | None, decimal: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return pd.Series(np.nan, index=raw.index, dtype="float64")  # true/false is no amount
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.astype("float64")
    text = _as_text(raw)
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    text = text.mask(text == "")
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _parse_bool(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    text = _as_text(raw).str.lower()
    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[text.isin(_TRUE).to_numpy()] = True
    values[text.isin(_FALSE).to_numpy()] = False
    return values


# Dates Python's own datetime can hold; "/0" parses to year 0, which nothing downstream can print.
_FIRST_DATE, _LAST_DATE = pd.Timestamp("0001-01-01"), pd.Timestamp("9999-12-31")
_FIRST_MICROS, _LAST_MICROS = (
    np.datetime64(d.to_datetime64(), "us").astype(np.int64) for d in (_FIRST_DATE, _LAST_DATE)
)


def _parse_date(raw: pd.Series, *, date_format: str | None) -> pd.Series:
    """Dates as ``datetime64[us]``; unreadable or outside years 1..9999 become NaT."""
    parsed = _to_datetime(raw, date_format=date_format).astype("datetime64[us]")
    micros = parsed.to_numpy().view(np.int64)
    known = micros[micros != np.iinfo(np.int64).min]  # NaT
    if known.size == 0 or (known.min() >= _FIRST_MICROS and known.max() <= _LAST_MICROS):
        return parsed
    return parsed.where(parsed.between(_FIRST_DATE, _LAST_DATE))


def _to_datetime(raw: pd.Series, *, date_format: str | None) -> pd.Series:
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        raw = raw.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return raw
    text = _as_text(raw)
    if date_format:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    else:
        text = (
            text.str.replace(r"[/.年月]", "-", regex=True)
            .str.replace("日", "", regex=False)
            .str.strip()
        )
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed


def empty_table(table: str) -> pd.DataFrame:
    """An empty frame with ``table``'s required columns in their canonical dtypes."""
    columns = {
        column: pd.Series(dtype=spec.canonical_dtype)
        for column, spec in CONTRACT[table].items()
        if not spec.optional or table == LINES
    }
    return pd.DataFrame(columns)


def to_canonical(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A validated frame in the canonical dtypes, contract columns only, in contract order."""
    specs = CONTRACT[table]
    columns = [column for column in specs if column in frame.columns]
    if table == LINES and COUNTY not in frame.columns:
        frame = frame.assign(**{COUNTY: pd.Series(pd.NA, index=frame.index, dtype="str")})
        columns.append(COUNTY)
    return frame[columns].astype({c: specs[c].canonical_dtype for c in columns})
