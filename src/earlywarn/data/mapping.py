"""Column mappings: read an export with other headers, codes or CSV conventions unchanged.

A mapping is a small YAML file (see ``configs/column_mapping.example.yaml`` and
``configs/column_mapping.zh.yaml``) that says, per table, which header in the file is which
contract column, which file holds the table if it is not named after it, how codes such as
``疾病`` or ``男`` translate to the contract's values, and how the CSV files are written
(encoding, separator, thousands and decimal separators, date format).
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from earlywarn.config import read_yaml_mapping, validate_model
from earlywarn.data import monitoring
from earlywarn.data.columns import (
    ASSISTANCE,
    EVENT_TYPE,
    EVENT_TYPES,
    EVENTS,
    HEAD_SEX,
    HOUSEHOLDS,
    MEASURE,
    MEASURES,
)
from earlywarn.data.contract import CONTRACT

TableName = Literal[
    "households", "household_years", "events", "assistance", "lines", "monitoring", "visits"
]
CodedColumn = Literal[
    "event_type",
    "measure",
    "head_sex",
    # the monitoring cycle: single codes, then code lists (each code translated)
    "category",
    "exit_reason",
    "outcome",
    "risk_types",
    "risk_types_found",
    "measures_agreed",
]

#: The values each coded column may take after mapping (code lists: see MAPPED_CODES).
ALLOWED_CODES: dict[str, tuple[str, ...]] = {
    EVENT_TYPE: EVENT_TYPES,
    MEASURE: MEASURES,
    HEAD_SEX: ("M", "F"),
    **monitoring.SINGLE_CODES,
}
#: Every column whose codes a mapping may translate, with the codes it may translate to.
MAPPED_CODES: dict[str, tuple[str, ...]] = {**ALLOWED_CODES, **monitoring.CODE_LISTS}
#: The table each coded column lives in.
CODED_TABLE: dict[str, str] = {
    EVENT_TYPE: EVENTS,
    MEASURE: ASSISTANCE,
    HEAD_SEX: HOUSEHOLDS,
    **monitoring.CODED_TABLE,
}

# encodings people name that have a strict superset we can read with instead
_ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TableMapping(_Frozen):
    """How one table appears in the export."""

    file: str | None = Field(default=None, description="file stem if not the table's name")
    columns: dict[str, str] = Field(default_factory=dict, description="header -> column")


class ColumnMapping(_Frozen):
    """Headers, codes and CSV conventions of an export; the default maps nothing."""

    encoding: str = "utf-8"
    separator: str = Field(default=",", min_length=1)
    thousands: str | None = None
    decimal: str = Field(default=".", min_length=1, max_length=1)
    date_format: str | None = None
    tables: dict[TableName, TableMapping] = Field(default_factory=dict)
    codes: dict[CodedColumn, dict[str, str]] = Field(default_factory=dict)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError as err:
            raise ValueError(f"unknown encoding {encoding!r}") from err
        return encoding

    @model_validator(mode="after")
    def _targets_exist(self) -> ColumnMapping:
        for table, table_mapping in self.tables.items():
            known = set(CONTRACT[table])
            unknown = sorted(set(table_mapping.columns.values()) - known)
            if unknown:
                raise ValueError(
                    f"tables.{table}.columns maps to {', '.join(map(repr, unknown))}, not "
                    f"columns of {table}; allowed: {', '.join(CONTRACT[table])}"
                )
        for column, codes in self.codes.items():
            bad = sorted({value for value in codes.values()} - set(MAPPED_CODES[column]))
            if bad:
                raise ValueError(
                    f"codes.{column} maps to {', '.join(map(repr, bad))}; allowed: "
                    f"{', '.join(MAPPED_CODES[column])}"
                )
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self

    @property
    def python_encoding(self) -> str:
        """The codec to read CSV files with (UTF-8 accepts a byte-order mark)."""
        name = codecs.lookup(self.encoding).name
        if name == "utf-8":
            return "utf-8-sig"
        return _ENCODING_ALIASES.get(self.encoding.lower(), self.encoding)

    def table_mapping(self, table: str) -> TableMapping | None:
        """How ``table`` appears in the export; None when it appears as the contract says."""
        return next((mapping for name, mapping in self.tables.items() if name == table), None)

    def file_stem(self, table: str) -> str:
        """The file stem that holds ``table`` in the data directory."""
        table_mapping = self.table_mapping(table)
        return table_mapping.file if table_mapping and table_mapping.file else table

    def rename(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with headers renamed to contract columns and codes translated."""
        table_mapping = self.table_mapping(table)
        renamed = frame.rename(columns=table_mapping.columns) if table_mapping else frame
        for column, codes in self.codes.items():
            if CODED_TABLE[column] == table and column in renamed.columns and codes:
                values = renamed[column]
                stripped = values.where(values.isna(), values.astype("str").str.strip())
                if column in monitoring.CODE_LISTS:
                    translated = monitoring.translate_code_list(stripped, codes)
                else:
                    translated = stripped.replace(codes)
                renamed = renamed.assign(**{column: translated})
        return renamed


DEFAULT_MAPPING = ColumnMapping()


def load_mapping(path: Path) -> ColumnMapping:
    """Read and validate a column mapping YAML file."""
    path = Path(path)
    raw = read_yaml_mapping(path, "column mapping")
    return validate_model(ColumnMapping, raw, "column mapping", path)


def resolve_mapping(mapping: ColumnMapping | Path | str | None) -> ColumnMapping:
    """A mapping given as itself, as the path of its YAML file, or None (the default)."""
    if mapping is None:
        return DEFAULT_MAPPING
    if isinstance(mapping, ColumnMapping):
        return mapping
    return load_mapping(Path(mapping))


__all__ = [
    "ALLOWED_CODES",
    "DEFAULT_MAPPING",
    "ColumnMapping",
    "TableMapping",
    "load_mapping",
    "resolve_mapping",
]
