"""Every bad input ends with exit 2, a message naming what and where, no traceback, no output;
unusual but valid input is read; the reader never fails any other way (hypothesis)."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from corpus import BAD_INPUTS, UNUSUAL, VALID_DIR, make_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.data.schema import read_tables
from earlywarn.data.tables import Tables
from earlywarn.errors import SchemaError


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.name for case in BAD_INPUTS])
def test_validate_refuses_bad_input_clearly(case, tmp_path):
    data_dir = make_case(case.breaks, tmp_path / "data")
    before = listing(tmp_path)
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("SchemaError:"), result.output
    assert case.expected in result.output, result.output
    assert listing(tmp_path) == before


@pytest.mark.parametrize(("name", "change"), UNUSUAL, ids=[name for name, _ in UNUSUAL])
def test_unusual_but_valid_input_is_read(name, change, tmp_path):
    data_dir = make_case(change, tmp_path / "data")
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output


# --- fuzzing the reader --------------------------------------------------------------------

TABLE_NAMES = ("households", "household_years", "events", "assistance", "lines")
VALID_FRAMES = {name: pd.read_csv(VALID_DIR / f"{name}.csv", dtype="str") for name in TABLE_NAMES}

cell = st.one_of(
    st.none(),
    st.text(alphabet=string.printable + "户年男女是否疾病，；\ufeff\x00", max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "2023-05-01",
            "2999-12-31",
            "1899-01-01",
            "illness",
            "M",
            "H001",
            "H002",
            "true",
            "",
            " ",
            "NA",
            "12,000",
            "1e308",
            "-0",
        ]
    ),
)


def reads_or_refuses(data_dir: Path) -> None:
    try:
        tables = read_tables(data_dir)
    except SchemaError as err:
        assert str(err).splitlines()[0].endswith("(nothing was written)")
    else:
        assert isinstance(tables, Tables)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(TABLE_NAMES),
    edits=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 20), cell), max_size=8),
    drop_rows=st.booleans(),
)
def test_the_reader_returns_tables_or_a_schema_error_for_edited_cells(table, edits, drop_rows):
    frame = VALID_FRAMES[table].copy().astype(object)
    for row, column, value in edits:
        frame.iloc[row % len(frame), column % frame.shape[1]] = value
    if drop_rows:
        frame = frame.iloc[:1]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = make_case(
            lambda d: frame.to_csv(d / f"{table}.csv", index=False), Path(folder) / "data"
        )
        reads_or_refuses(data_dir)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(TABLE_NAMES),
    content=st.binary(max_size=300),
    suffix=st.sampled_from([".csv", ".parquet"]),
)
def test_the_reader_returns_tables_or_a_schema_error_for_any_bytes(table, content, suffix):
    def replace(folder: Path) -> None:
        (folder / f"{table}.csv").unlink()
        (folder / f"{table}{suffix}").write_bytes(content)

    with tempfile.TemporaryDirectory() as folder:
        reads_or_refuses(make_case(replace, Path(folder) / "data"))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=st.sampled_from(TABLE_NAMES),
    text=st.text(alphabet=string.printable + "户编号年份，；\u3000", max_size=400),
)
def test_the_reader_returns_tables_or_a_schema_error_for_any_text(table, text):
    def replace(folder: Path) -> None:
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")

    with tempfile.TemporaryDirectory() as folder:
        reads_or_refuses(make_case(replace, Path(folder) / "data"))
