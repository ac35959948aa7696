"""A corpus of broken data directories: every contract rule broken, and messy exports.

Each :class:`BadInput` changes a copy of the minimal valid directory (``tests/data/
contract_min``) in place; ``expected`` is text the error message must contain. Every command
that reads a data directory should meet each case with exit code 2, that message, no
traceback and nothing written. ``UNUSUAL`` cases are valid and must be read.

Other test modules can reuse it::

    from corpus import BAD_INPUTS, make_case   # with tests/badinput on sys.path
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

VALID_DIR = Path(__file__).parents[1] / "data" / "contract_min"
ZH_MAPPING = Path(__file__).parents[2] / "configs" / "column_mapping.zh.yaml"


@dataclass(frozen=True)
class BadInput:
    name: str
    expected: str  # text the error message must contain
    breaks: Callable[[Path], None]  # changes the data directory in place


def read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype="str")


def write(folder: Path, table: str, frame: pd.DataFrame, **kwargs: object) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False, **kwargs)  # type: ignore[arg-type]


def set_cell(table: str, column: str, row: int, value: str | None) -> Callable[[Path], None]:
    """Set one cell (1-based data row) of a table."""

    def breaks(folder: Path) -> None:
        frame = read(folder, table)
        frame.loc[row - 1, column] = value
        write(folder, table, frame)

    return breaks


def to_parquet(table: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        frame = read(folder, table)
        (folder / f"{table}.csv").unlink()
        frame.to_parquet(folder / f"{table}.parquet", index=False)

    return change


def truncated_parquet(folder: Path) -> None:
    to_parquet("household_years")(folder)
    path = folder / "household_years.parquet"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def csv_named_parquet(folder: Path) -> None:
    (folder / "households.csv").rename(folder / "households.parquet")


def empty_file(folder: Path) -> None:
    (folder / "events.csv").write_bytes(b"")


def header_only(folder: Path) -> None:
    write(folder, "households", read(folder, "households").iloc[:0])


def missing_table(folder: Path) -> None:
    (folder / "household_years.csv").unlink()


def gbk_without_mapping(folder: Path) -> None:
    frame = read(folder, "households")
    frame.loc[0, "village"] = "新村"
    write(folder, "households", frame, encoding="gbk")


def semicolons(folder: Path) -> None:
    write(folder, "household_years", read(folder, "household_years"), sep=";")


def thousands(folder: Path) -> None:
    frame = read(folder, "household_years")
    frame.loc[1, "wage_income"] = "32,000"
    write(folder, "household_years", frame)


def chinese_headers(folder: Path) -> None:
    frame = read(folder, "households")
    write(folder, "households", frame.rename(columns={"household_id": "户编号", "county": "县"}))


def duplicated_households(folder: Path) -> None:
    frame = read(folder, "households")
    write(folder, "households", pd.concat([frame, frame.iloc[[1]]], ignore_index=True))


def two_files_for_one_table(folder: Path) -> None:
    read(folder, "events").to_parquet(folder / "events.parquet", index=False)


def binary_garbage(folder: Path) -> None:
    (folder / "assistance.csv").write_bytes(bytes(range(256)) * 4)


def ragged_rows(folder: Path) -> None:
    path = folder / "events.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "H001,2023-01-01,illness,5,extra,more\n",
        encoding="utf-8",
    )


def missing_column(folder: Path) -> None:
    write(folder, "household_years", read(folder, "household_years").drop(columns=["year"]))


def excel_file(folder: Path) -> None:
    (folder / "events.csv").rename(folder / "events.xlsx")


BAD_INPUTS: tuple[BadInput, ...] = (
    # every contract rule
    BadInput(
        "empty household_id",
        "households.household_id, row 2: must not be empty",
        set_cell("households", "household_id", 2, None),
    ),
    BadInput(
        "duplicated household_id",
        "households: household_id duplicated at rows",
        duplicated_households,
    ),
    BadInput(
        "empty county",
        "households.county, row 1: must not be empty",
        set_cell("households", "county", 1, None),
    ),
    BadInput(
        "empty village",
        "households.village, row 3: must not be empty",
        set_cell("households", "village", 3, None),
    ),
    BadInput(
        "bad head_sex",
        "households.head_sex, row 1: 'X' is not an allowed sex",
        set_cell("households", "head_sex", 1, "X"),
    ),
    BadInput(
        "birth year before 1900",
        "households.head_birth_year, row 1: must be a year",
        set_cell("households", "head_birth_year", 1, "1850"),
    ),
    BadInput(
        "education 30 years",
        "households.head_education_years, row 2: must be from 0 to 22",
        set_cell("households", "head_education_years", 2, "30"),
    ),
    BadInput(
        "ethnic_minority not a flag",
        "households.ethnic_minority, row 1: cannot be read",
        set_cell("households", "ethnic_minority", 1, "sometimes"),
    ),
    BadInput(
        "exit year in the future",
        "households.poverty_exit_year, row 1: must be a year",
        set_cell("households", "poverty_exit_year", 1, "2999"),
    ),
    BadInput(
        "id_number too short",
        "households.id_number, row 1: must be 18 characters",
        set_cell("households", "id_number", 1, "5301"),
    ),
    BadInput(
        "survey round of an unknown household",
        "household_years.household_id, row 1: not in households, found 'H999'",
        set_cell("household_years", "household_id", 1, "H999"),
    ),
    BadInput(
        "duplicated household-year",
        "household_years: (household_id, year) duplicated",
        set_cell("household_years", "year", 2, "2022"),
    ),
    BadInput(
        "round from the future",
        "household_years.year, row 5: must be a year from 1900",
        set_cell("household_years", "year", 5, "2999"),
    ),
    BadInput(
        "year without a poverty line",
        "household_years.year, row 1: has no poverty line",
        set_cell("household_years", "year", 1, "2010"),
    ),
    BadInput(
        "household of 0",
        "household_years.household_size, row 3: must be >= 1, found 0",
        set_cell("household_years", "household_size", 3, "0"),
    ),
    BadInput(
        "household of 500",
        "household_years.household_size, row 3: must be <= 50",
        set_cell("household_years", "household_size", 3, "500"),
    ),
    BadInput(
        "negative member count",
        "household_years.n_elderly, row 1: must be >= 0",
        set_cell("household_years", "n_elderly", 1, "-2"),
    ),
    BadInput(
        "more children than members",
        "household_years.n_children, row 4: must be <= household_size",
        set_cell("household_years", "n_children", 4, "3"),
    ),
    BadInput(
        "income 1e15",
        "household_years.wage_income, row 2: must be between",
        set_cell("household_years", "wage_income", 2, "1e15"),
    ),
    BadInput(
        "negative medical expense",
        "household_years.medical_expense, row 1: must be >= 0",
        set_cell("household_years", "medical_expense", 1, "-100"),
    ),
    BadInput(
        "flag not a flag",
        "household_years.housing_safe, row 2: cannot be read",
        set_cell("household_years", "housing_safe", 2, "mostly"),
    ),
    BadInput(
        "event of an unknown household",
        "events.household_id, row 1: not in households",
        set_cell("events", "household_id", 1, "H404"),
    ),
    BadInput(
        "event in the future",
        "events.date, row 1: must be a date from 1900-01-01",
        set_cell("events", "date", 1, "2999-01-01"),
    ),
    BadInput(
        "event before 1900",
        "events.date, row 1: must be a date from 1900-01-01",
        set_cell("events", "date", 1, "1899-06-30"),
    ),
    BadInput(
        "event in year 0",
        "events.date, row 1: cannot be read as a date (YYYY-MM-DD), found '/0'",
        set_cell("events", "date", 1, "/0"),
    ),
    BadInput(
        "event before year 1",
        "events.date, row 2: cannot be read as a date (YYYY-MM-DD), found '0000-01-01'",
        set_cell("events", "date", 2, "0000-01-01"),
    ),
    BadInput(
        "event date not a date",
        "events.date, row 2: cannot be read as a date",
        set_cell("events", "date", 2, "yesterday"),
    ),
    BadInput(
        "unknown event type",
        "events.event_type, row 2: 'flood' is not an allowed type; did you mean 'disaster'?",
        set_cell("events", "event_type", 2, "flood"),
    ),
    BadInput(
        "negative event cost",
        "events.cost, row 1: must be >= 0",
        set_cell("events", "cost", 1, "-1"),
    ),
    BadInput(
        "unknown measure",
        "assistance.measure, row 1: 'cash' is not an allowed measure",
        set_cell("assistance", "measure", 1, "cash"),
    ),
    BadInput(
        "assistance ends before it starts",
        "assistance.end_date, row 1: must not be before start_date",
        set_cell("assistance", "end_date", 1, "2020-01-01"),
    ),
    BadInput(
        "absurd allowance",
        "assistance.amount, row 2: must be between",
        set_cell("assistance", "amount", 2, "5e8"),
    ),
    BadInput(
        "poverty line of 0", "lines.line, row 1: must be > 0", set_cell("lines", "line", 1, "0")
    ),
    BadInput("missing column", "household_years: missing column(s) year", missing_column),
    # messy files
    BadInput(
        "truncated parquet", "household_years.parquet cannot be read as Parquet", truncated_parquet
    ),
    BadInput(
        "CSV named .parquet", "households.parquet cannot be read as Parquet", csv_named_parquet
    ),
    BadInput("empty file", "events.csv is empty", empty_file),
    BadInput("header only", "households: has no rows", header_only),
    BadInput("required table missing", "household_years: required table is missing", missing_table),
    BadInput("GBK without a mapping", "declare `encoding: gbk`", gbk_without_mapping),
    BadInput("semicolons", "declare `separator: ';'`", semicolons),
    BadInput("thousands separators", "declare `thousands: ','`", thousands),
    BadInput("Chinese headers without a mapping", "column_mapping.zh.yaml", chinese_headers),
    BadInput("two files for one table", "two files for one table", two_files_for_one_table),
    BadInput("binary garbage", "assistance.csv", binary_garbage),
    BadInput("ragged rows", "events.csv cannot be read as CSV", ragged_rows),
    BadInput("Excel file", "found events.xlsx: save it as CSV or Parquet", excel_file),
)


def bom(folder: Path) -> None:
    path = folder / "households.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def extra_columns(folder: Path) -> None:
    write(folder, "events", read(folder, "events").assign(remarks="phoned in", source="clinic"))


def all_parquet(folder: Path) -> None:
    for table in ("households", "household_years", "events", "assistance", "lines"):
        to_parquet(table)(folder)


def shuffled_columns_and_spaces(folder: Path) -> None:
    frame = read(folder, "household_years")
    frame = frame[list(reversed(frame.columns))]
    frame["household_id"] = " " + frame["household_id"] + " "
    write(folder, "household_years", frame)


def chinese_flags(folder: Path) -> None:
    frame = read(folder, "household_years")
    frame["housing_safe"] = frame["housing_safe"].map({"true": "是", "false": "否"})
    write(folder, "household_years", frame)


def no_optional_tables(folder: Path) -> None:
    for table in ("events", "assistance", "lines"):
        (folder / f"{table}.csv").unlink()


#: Valid but unusual inputs: these must be read, not refused.
UNUSUAL: tuple[tuple[str, Callable[[Path], None]], ...] = (
    ("UTF-8 byte-order mark", bom),
    ("extra columns", extra_columns),
    ("all Parquet", all_parquet),
    ("shuffled columns, padded ids", shuffled_columns_and_spaces),
    ("是/否 flags", chinese_flags),
    ("no optional tables", no_optional_tables),
)


def make_case(breaks: Callable[[Path], None], folder: Path) -> Path:
    """A copy of the valid directory at ``folder``, changed by ``breaks``."""
    shutil.copytree(VALID_DIR, folder)
    breaks(folder)
    return folder
