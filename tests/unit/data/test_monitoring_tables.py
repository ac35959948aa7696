"""The monitoring and visits tables in the contract: one failing case per rule, codes via the
mapping, read and written with the other tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from earlywarn.data.directory import write_tables
from earlywarn.data.mapping import ColumnMapping, load_mapping
from earlywarn.data.schema import read_tables, tables_from_frames, validate_tables

TODAY = date(2026, 6, 1)
VALID_DIR = Path(__file__).parents[2] / "data" / "contract_min"
ZH_MAPPING = Path(__file__).parents[3] / "configs" / "column_mapping.zh.yaml"
TABLE_NAMES = ("households", "household_years", "events", "assistance", "lines")


@pytest.fixture
def raw() -> dict[str, pd.DataFrame]:
    """The minimal valid directory plus a valid monitoring and visits table, as text."""
    frames = {name: pd.read_csv(VALID_DIR / f"{name}.csv", dtype="str") for name in TABLE_NAMES}
    frames["monitoring"] = pd.DataFrame(
        {
            "household_id": ["H001", "H001", "H002"],
            "entered": ["2021-03-01", "2023-05-10", "2022-07-01"],
            "category": ["unstable", "unstable", "sudden_hardship"],
            "risk_types": ["illness;disability", "illness", "disaster"],
            "exited": ["2022-04-01", None, None],
            "exit_reason": ["risk_eliminated", None, None],
        }
    )
    frames["visits"] = pd.DataFrame(
        {
            "household_id": ["H001", "H002", "H003"],
            "visit_date": ["2023-05-02", "2022-06-20", "2024-02-01"],
            "outcome": ["confirmed", "confirmed", "unreachable"],
            "risk_types_found": ["illness", "disaster;housing", None],
            "measures_agreed": ["medical;insurance", "housing", None],
        }
    )
    return frames


def with_value(raw, table: str, column: str, row: int, value: object):
    frame = raw[table].astype(object)
    frame.loc[row - 1, column] = value
    return {**raw, table: frame}


def messages(raw) -> str:
    return "\n".join(map(str, validate_tables(raw, today=TODAY)))


def test_the_valid_tables_are_valid_and_read_in_canonical_dtypes(raw):
    assert validate_tables(raw, today=TODAY) == []
    tables = tables_from_frames(raw, today=TODAY)
    assert str(tables.monitoring["entered"].dtype).startswith("datetime64")
    assert tables.monitoring["exited"].isna().tolist() == [False, True, True]
    assert tables.visits["outcome"].tolist() == ["confirmed", "confirmed", "unreachable"]


def test_absent_tables_are_empty_with_the_contract_columns(raw):
    tables = tables_from_frames({n: raw[n] for n in TABLE_NAMES}, today=TODAY)
    assert list(tables.monitoring.columns) == [
        "household_id",
        "entered",
        "category",
        "risk_types",
        "exited",
        "exit_reason",
    ]
    assert len(tables.monitoring) == 0 and len(tables.visits) == 0


# (table, column, row, value, text the message must contain)
BROKEN_RULES = [
    ("monitoring", "household_id", 1, "H999", "not in households, found 'H999'"),
    ("monitoring", "household_id", 1, None, "must not be empty"),
    ("monitoring", "entered", 3, None, "must not be empty"),
    ("monitoring", "entered", 3, "2031-01-01", "must be a date from 1900-01-01 to 2026-06-01"),
    ("monitoring", "entered", 3, "soon", "cannot be read as a date"),
    ("monitoring", "category", 3, None, "must not be empty"),
    ("monitoring", "category", 3, "poor", "'poor' is not an allowed value"),
    ("monitoring", "category", 3, "突发严重困难户", "codes of an export go under codes.category"),
    ("monitoring", "risk_types", 1, "illness;flood", "'flood' is not an allowed code"),
    ("monitoring", "exited", 1, "2020-01-01", "must not be before entered, found '2020-01-01'"),
    ("monitoring", "exited", 1, "2027-01-01", "must be a date from 1900-01-01 to 2026-06-01"),
    ("monitoring", "exit_reason", 1, "bored", "'bored' is not an allowed value"),
    ("monitoring", "exit_reason", 3, "risk_eliminated", "must be empty while exited is empty"),
    ("monitoring", "entered", 2, "2022-01-01", "starts before the household's previous spell"),
    ("visits", "household_id", 2, "H404", "not in households, found 'H404'"),
    ("visits", "visit_date", 1, None, "must not be empty"),
    ("visits", "visit_date", 1, "2099-01-01", "must be a date from 1900-01-01 to 2026-06-01"),
    ("visits", "outcome", 1, None, "must not be empty"),
    ("visits", "outcome", 1, "maybe", "'maybe' is not an allowed value"),
    ("visits", "risk_types_found", 2, "disaster，lazy", "'lazy' is not an allowed code"),
    ("visits", "measures_agreed", 1, "medical;dibao", "'dibao' is not an allowed code"),
    ("visits", "risk_types_found", 3, "illness", "must be empty when outcome is unreachable"),
    ("visits", "measures_agreed", 3, "medical", "must be empty when outcome is unreachable"),
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
    assert line.startswith(f"{table}.{column}, row"), line
    assert f"row {row}" in line or f"rows {row}" in line or f"-{row}" in line, line


def test_a_second_open_spell_is_an_overlap(raw):
    text = messages(with_value(raw, "monitoring", "exited", 1, None))
    assert "monitoring.exit_reason, row 1: must be empty while exited is empty" in text
    assert "monitoring.entered, row 2: starts before" in text and "'H001'" in text


def test_one_household_cannot_enter_twice_on_one_day(raw):
    text = messages(with_value(raw, "monitoring", "entered", 2, "2021-03-01"))
    assert "monitoring: (household_id, entered) duplicated at rows 1-2" in text


def test_every_problem_of_both_tables_is_reported_at_once(raw):
    broken = with_value(raw, "monitoring", "category", 1, "poor")
    broken = with_value(broken, "visits", "outcome", 2, "maybe")
    text = messages(broken)
    assert "monitoring.category" in text and "visits.outcome" in text


def test_chinese_headers_and_codes_are_read_through_the_mapping(raw, tmp_path):
    mapping = load_mapping(ZH_MAPPING)
    headers = {
        "monitoring": {v: k for k, v in mapping.tables["monitoring"].columns.items()},
        "visits": {v: k for k, v in mapping.tables["visits"].columns.items()},
    }
    monitoring = raw["monitoring"].assign(
        category=["脱贫不稳定户", "脱贫不稳定户", "突发严重困难户"],
        risk_types=["因病、因残", "因病", "因灾"],
        exit_reason=["风险消除", None, None],
    )
    visits = raw["visits"].assign(
        outcome=["确认有风险", "确认有风险", "联系不上"],
        risk_types_found=["因病", "因灾;住房出现安全问题", None],
        measures_agreed=["医疗救助;保险", "住房保障", None],
    )
    data_dir = tmp_path / "zh"
    data_dir.mkdir()
    for name in TABLE_NAMES:
        raw[name].to_csv(data_dir / f"{name}.csv", index=False)
    for name, frame in (("monitoring", monitoring), ("visits", visits)):
        frame.rename(columns=headers[name]).to_csv(data_dir / f"{name}.csv", index=False)
    # the minimal directory has English headers: map only the new tables
    only_new = mapping.model_copy(
        update={"tables": {t: mapping.tables[t] for t in ("monitoring", "visits")}}
    )
    tables = read_tables(data_dir, mapping=only_new, today=TODAY)
    expected = tables_from_frames(raw, today=TODAY)
    pd.testing.assert_frame_equal(tables.monitoring, expected.monitoring)
    pd.testing.assert_frame_equal(tables.visits, expected.visits)


def test_a_mapping_cannot_translate_to_a_code_the_contract_lacks():
    with pytest.raises(ValueError, match=r"codes\.risk_types maps to 'sickness'"):
        ColumnMapping(codes={"risk_types": {"因病": "sickness"}})
    with pytest.raises(ValueError, match=r"codes\.category maps to 'poor'"):
        ColumnMapping(codes={"category": {"贫困户": "poor"}})


def test_the_tables_survive_a_write_and_read(raw, tmp_path):
    tables = tables_from_frames(raw, today=TODAY)
    out = write_tables(tables, tmp_path / "out")
    assert (out / "monitoring.parquet").exists() and (out / "visits.parquet").exists()
    again = read_tables(out, today=TODAY)
    pd.testing.assert_frame_equal(again.monitoring, tables.monitoring)
    pd.testing.assert_frame_equal(again.visits, tables.visits)


def test_a_directory_without_them_writes_no_empty_files(raw, tmp_path):
    tables = tables_from_frames({n: raw[n] for n in TABLE_NAMES}, today=TODAY)
    out = write_tables(tables, tmp_path / "out")
    assert not (out / "monitoring.parquet").exists()
