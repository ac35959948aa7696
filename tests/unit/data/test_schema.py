"""The data contract in code: one failing case per rule, all problems at once, reading files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from earlywarn.data.columns import HOUSEHOLD_ID, PERSONAL_COLUMNS
from earlywarn.data.directory import write_tables
from earlywarn.data.problems import Problem, format_rows
from earlywarn.data.schema import read_tables, tables_from_frames, validate_tables
from earlywarn.data.summary import summarize
from earlywarn.errors import EarlywarnError, SchemaError

TODAY = date(2026, 6, 1)
VALID_DIR = Path(__file__).parents[2] / "data" / "contract_min"
TABLE_NAMES = ("households", "household_years", "events", "assistance", "lines")


@pytest.fixture
def raw() -> dict[str, pd.DataFrame]:
    """The minimal valid data directory as text frames, as a CSV export would give them."""
    return {name: pd.read_csv(VALID_DIR / f"{name}.csv", dtype="str") for name in TABLE_NAMES}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the minimal valid data directory that a test may change."""
    return Path(shutil.copytree(VALID_DIR, tmp_path / "data"))


def with_value(
    raw: dict[str, pd.DataFrame], table: str, column: str, row: int, value: object
) -> dict[str, pd.DataFrame]:
    """``raw`` with one cell changed; ``row`` is the 1-based data row."""
    frame = raw[table].astype(object)
    frame.loc[row - 1, column] = value
    return {**raw, table: frame}


def messages(raw: dict[str, pd.DataFrame]) -> str:
    return "\n".join(map(str, validate_tables(raw, today=TODAY)))


def test_the_minimal_directory_is_valid(raw):
    assert validate_tables(raw, today=TODAY) == []


# (table, column, row, value, text the message must contain)
BROKEN_RULES = [
    ("households", "household_id", 2, None, "must not be empty"),
    ("households", "county", 3, "  ", "must not be empty"),
    ("households", "village", 1, None, "must not be empty"),
    ("households", "head_sex", 2, "X", "'X' is not an allowed sex"),
    ("households", "head_birth_year", 1, "1850", "must be a year from 1900 to 2026, found 1850"),
    ("households", "head_birth_year", 1, "2031", "must be a year from 1900 to 2026, found 2031"),
    ("households", "head_birth_year", 1, "1962.5", "cannot be read as a whole number"),
    ("households", "head_education_years", 2, "23", "must be from 0 to 22 years, found 23"),
    ("households", "head_education_years", 2, "-1", "must be from 0 to 22 years, found -1"),
    ("households", "ethnic_minority", 3, "maybe", "cannot be read as true or false"),
    ("households", "poverty_exit_year", 2, "2099", "must be a year from 1900 to 2026"),
    ("households", "id_number", 2, "5301021975", "must be 18 characters, found 10 characters"),
    ("household_years", "household_id", 4, "H999", "not in households, found 'H999'"),
    ("household_years", "year", 5, "2030", "must be a year from 1900 to 2026, found 2030"),
    ("household_years", "year", 5, "2024a", "cannot be read as a whole number, found '2024a'"),
    ("household_years", "year", 5, None, "must not be empty"),
    ("household_years", "household_size", 3, "0", "must be >= 1, found 0"),
    ("household_years", "household_size", 3, "500", "must be <= 50, found 500"),
    ("household_years", "n_labor", 1, "-1", "must be >= 0, found -1"),
    ("household_years", "n_children", 2, "5", "must be <= household_size, found 5"),
    ("household_years", "wage_income", 2, "1e15", "must be between -100,000,000 and"),
    ("household_years", "business_income", 2, "-2e8", "must be between -100,000,000 and"),
    ("household_years", "wage_income", 2, "12,000", "cannot be read as a number, found '12,000'"),
    ("household_years", "medical_expense", 1, "-5", "must be >= 0, found -5"),
    ("household_years", "education_expense", 1, "-5", "must be >= 0, found -5"),
    ("household_years", "water_safe", 4, "perhaps", "cannot be read as true or false"),
    ("events", "household_id", 1, "H404", "not in households, found 'H404'"),
    ("events", "date", 2, "2099-01-01", "must be a date from 1900-01-01 to 2026-06-01"),
    ("events", "date", 2, "1899-12-31", "must be a date from 1900-01-01 to 2026-06-01"),
    ("events", "date", 2, "not a date", "cannot be read as a date"),
    ("events", "date", 2, None, "must not be empty"),
    ("events", "event_type", 1, "flood", "'flood' is not an allowed type; did you mean 'disaster'"),
    ("events", "event_type", 1, "ilness", "did you mean 'illness'?"),
    ("events", "cost", 1, "-10", "must be >= 0, found -10"),
    ("events", "cost", 1, "2e9", "must be between -100,000,000 and"),
    ("assistance", "household_id", 2, "H777", "not in households"),
    ("assistance", "start_date", 1, "2030-01-01", "must be a date from 1900-01-01"),
    ("assistance", "end_date", 1, "2023-01-01", "must not be before start_date"),
    ("assistance", "measure", 2, "dibao", "did you mean 'minimum_living_allowance'?"),
    ("assistance", "amount", 1, "1e12", "must be between -100,000,000 and"),
    ("lines", "line", 1, "0", "must be > 0, found 0"),
    ("lines", "year", 1, "1800", "must be a year from 1900"),
]


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "expected"),
    BROKEN_RULES,
    ids=[f"{t}.{c}={v}" for t, c, _, v, _ in BROKEN_RULES],
)
def test_each_broken_rule_is_named_with_table_column_and_row(
    raw, table, column, row, value, expected
):
    text = messages(with_value(raw, table, column, row, value))
    line = next((m for m in text.splitlines() if expected in m), None)
    assert line is not None, text
    assert line.startswith(f"{table}.{column}, row {row}:"), line


def test_household_ids_must_be_unique(raw):
    text = messages(with_value(raw, "households", "household_id", 3, "H002"))
    assert "households: household_id duplicated at rows 2-3: 'H002'" in text


def test_household_years_keys_must_be_unique(raw):
    text = messages(with_value(raw, "household_years", "year", 2, "2022"))
    assert "household_years: (household_id, year) duplicated at rows 1-2: ('H001', 2022)" in text


def test_lines_must_not_repeat_a_year_and_county(raw):
    lines = pd.concat([raw["lines"], raw["lines"]], ignore_index=True)
    assert "lines: (year, county) duplicated at rows 1-2: (2023, 'C02')" in messages(
        {**raw, "lines": lines}
    )


def test_a_year_without_a_poverty_line_is_an_error(raw):
    text = messages(with_value(raw, "household_years", "year", 1, "2013"))
    assert "household_years.year, row 1: has no poverty line" in text and "found 2013" in text


def test_the_lines_table_adds_years_for_all_counties_or_one(raw):
    early = with_value(raw, "household_years", "year", 1, "2013")
    county_only = {
        **early,
        "lines": pd.DataFrame({"year": ["2013"], "line": ["2700"], "county": ["C02"]}),
    }
    assert "has no poverty line" in messages(county_only)  # H001 lives in C01
    for county in ("C01", None):
        lines = pd.DataFrame({"year": ["2013"], "line": ["2700"], "county": [county]})
        assert validate_tables({**early, "lines": lines}, today=TODAY) == []


def test_a_missing_column_is_named(raw):
    text = messages({**raw, "events": raw["events"].drop(columns=["cost"])})
    assert "events: missing column(s) cost" in text


def test_a_missing_required_table_is_named(raw):
    without = {k: v for k, v in raw.items() if k != "household_years"}
    assert "household_years: required table is missing" in messages(without)


def test_an_empty_required_table_is_an_error(raw):
    text = messages({**raw, "households": raw["households"].iloc[:0]})
    assert "households: has no rows" in text


def test_every_problem_is_reported_at_once(raw):
    broken = with_value(raw, "household_years", "wage_income", 3, "-1e9")
    broken = with_value(broken, "events", "event_type", 2, "flood")
    broken = with_value(broken, "household_years", "year", 2, "2022")
    broken = with_value(broken, "households", "head_sex", 1, "Q")
    with pytest.raises(SchemaError) as caught:
        tables_from_frames(broken, today=TODAY, source="data/")
    message = str(caught.value)
    assert message.startswith("4 problems in the tables read from data/ (nothing was written)")
    assert "household_years.wage_income, row 3: must be between" in message
    assert "household_years: (household_id, year) duplicated at rows 1-2" in message
    assert "events.event_type, row 2: 'flood' is not an allowed type" in message
    assert "households.head_sex, row 1: 'Q' is not an allowed sex" in message


def test_many_rows_are_listed_compactly():
    assert format_rows([8]) == "row 8"
    assert format_rows([14, 97]) == "rows 14 and 97"
    assert format_rows([210, 211]) == "rows 210-211"
    assert format_rows(range(1, 1205, 2)) == "rows 1, 3, 5, 7, 9, ... (602 rows)"
    assert str(Problem("events", "must be >= 0", "cost", (3,), "-1")) == (
        "events.cost, row 3: must be >= 0, found -1"
    )


def test_messages_never_show_personal_data(raw):
    broken = with_value(raw, "households", "id_number", 1, "53010219620101")
    broken = with_value(broken, "households", "county", 1, None)
    text = messages(broken)
    assert "id_number" in text
    for value in ("53010219620101", "Test Name One", "13800000001", "1 Test Road"):
        assert value not in text


# --- reading a directory ------------------------------------------------------------------


def test_read_tables_gives_canonical_dtypes_and_splits_personal_columns(data_dir):
    tables = read_tables(data_dir, today=TODAY)
    households, years = tables.households, tables.household_years
    assert not set(PERSONAL_COLUMNS) & set(households.columns)
    assert list(tables.personal.columns) == list(PERSONAL_COLUMNS)
    assert tables.personal.index.name == HOUSEHOLD_ID
    assert tables.personal.loc["H002", "id_number"] == "53010219750202567X"
    assert pd.api.types.is_string_dtype(households["household_id"])
    assert str(years["year"].dtype) == "int64" and str(years["household_size"].dtype) == "int64"
    assert str(years["n_labor"].dtype) == "Int64"
    assert str(households["poverty_exit_year"].dtype) == "Int64"
    assert str(years["wage_income"].dtype) == "float64"
    assert str(years["has_medical_insurance"].dtype) == "boolean"
    assert years["has_medical_insurance"].isna().sum() == 1
    assert pd.api.types.is_datetime64_any_dtype(tables.events["date"])
    assert tables.assistance["end_date"].isna().sum() == 1
    assert list(tables.lines.columns) == ["year", "line", "county"]


def test_absent_optional_tables_are_empty_frames_with_contract_columns(data_dir):
    for name in ("events", "assistance", "lines"):
        (data_dir / f"{name}.csv").unlink()
    tables = read_tables(data_dir, today=TODAY)
    assert tables.events.empty and list(tables.events.columns) == [
        "household_id",
        "date",
        "event_type",
        "cost",
    ]
    assert pd.api.types.is_datetime64_any_dtype(tables.assistance["start_date"])
    assert tables.lines.empty and "county" in tables.lines.columns


def test_extra_columns_are_accepted_and_dropped(data_dir):
    path = data_dir / "household_years.csv"
    frame = pd.read_csv(path, dtype="str").assign(enumerator="A. Person", remarks="ok")
    frame.to_csv(path, index=False)
    tables = read_tables(data_dir, today=TODAY)
    assert "enumerator" not in tables.household_years.columns


def test_a_utf8_byte_order_mark_is_accepted(data_dir):
    path = data_dir / "households.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(read_tables(data_dir, today=TODAY).households) == 3


def test_parquet_and_csv_read_the_same(data_dir, tmp_path):
    tables = read_tables(data_dir, today=TODAY)
    out = write_tables(tables, tmp_path / "as_parquet")
    again = read_tables(out, today=TODAY)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(tables, name))
    pd.testing.assert_frame_equal(again.personal, tables.personal)


def test_write_tables_writes_csv_that_reads_back(data_dir, tmp_path):
    tables = read_tables(data_dir, today=TODAY)
    out = write_tables(tables, tmp_path / "as_csv", fmt="csv")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in TABLE_NAMES)
    again = read_tables(out, today=TODAY)
    pd.testing.assert_frame_equal(again.household_years, tables.household_years)
    assert "head_name" in pd.read_csv(out / "households.csv").columns


def test_write_tables_refuses_a_folder_with_other_files(data_dir, tmp_path):
    tables = read_tables(data_dir, today=TODAY)
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(EarlywarnError, match="holds other files"):
        write_tables(tables, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"PAR1\x00\x00garbage", "cannot be read as Parquet"),
    ],
)
def test_unreadable_parquet_names_the_file(data_dir, content, expected):
    (data_dir / "events.csv").unlink()
    (data_dir / "events.parquet").write_bytes(content)
    with pytest.raises(SchemaError, match=expected) as caught:
        read_tables(data_dir, today=TODAY)
    assert "events.parquet" in str(caught.value)


def test_a_truncated_parquet_file_names_the_file(data_dir, tmp_path):
    tables = read_tables(data_dir, today=TODAY)
    out = write_tables(tables, tmp_path / "pq")
    path = out / "household_years.parquet"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(SchemaError, match=r"household_years\.parquet cannot be read as Parquet"):
        read_tables(out, today=TODAY)


def test_gbk_without_a_mapping_says_how_to_declare_it(data_dir):
    path = data_dir / "households.csv"
    text = path.read_text(encoding="utf-8").replace("Test Name One", "张三")
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(SchemaError, match="encoding: gbk"):
        read_tables(data_dir, today=TODAY)


def test_a_missing_required_file_and_a_broken_one_are_reported_together(data_dir):
    (data_dir / "household_years.csv").unlink()
    (data_dir / "events.csv").write_text('household_id,date\n"H001,2023\n', encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        read_tables(data_dir, today=TODAY)
    message = str(caught.value)
    assert "household_years: required table is missing: no household_years.parquet" in message
    assert "events.csv cannot be read as CSV" in message


def test_a_directory_that_does_not_exist(tmp_path):
    with pytest.raises(SchemaError, match="does not exist"):
        read_tables(tmp_path / "nowhere")


def test_summarize_counts_households_years_and_events(data_dir):
    summary = summarize(read_tables(data_dir, today=TODAY))
    assert summary.n_households == 3
    assert (summary.first_year, summary.last_year) == (2022, 2024)
    assert summary.rounds_by_year == {2022: 1, 2023: 3, 2024: 1}
    assert summary.events_by_type == {"illness": 1, "disaster": 1, "job_loss": 1}
    assert summary.assistance_by_measure == {"medical": 1, "minimum_living_allowance": 1}
    assert summary.n_line_overrides == 1


def test_without_personal_columns_personal_is_an_empty_frame_by_household(data_dir):
    path = data_dir / "households.csv"
    pd.read_csv(path, dtype="str").drop(columns=list(PERSONAL_COLUMNS)).to_csv(path, index=False)
    tables = read_tables(data_dir, today=TODAY)
    assert tables.personal.columns.empty
    assert tables.personal.index.tolist() == ["H001", "H002", "H003"]


def test_two_headers_mapped_to_one_column_are_named(data_dir):
    from earlywarn.data.mapping import ColumnMapping

    mapping = ColumnMapping.model_validate(
        {"tables": {"events": {"columns": {"kind": "event_type"}}}}
    )
    path = data_dir / "events.csv"
    pd.read_csv(path, dtype="str").assign(kind="illness").to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"events: column\(s\) event_type appear twice"):
        read_tables(data_dir, mapping=mapping, today=TODAY)


def test_ids_and_codes_keep_leading_zeros(data_dir):
    for name in ("households", "household_years", "events", "assistance"):
        path = data_dir / f"{name}.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("H00", "00"), encoding="utf-8")
    path = data_dir / "households.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("C01", "0530"), encoding="utf-8")
    tables = read_tables(data_dir, today=TODAY)
    assert tables.households["household_id"].tolist() == ["001", "002", "003"]
    assert tables.households["county"].iloc[0] == "0530"
