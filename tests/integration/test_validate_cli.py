"""`earlywarn validate --data DIR`: exit 0 and a summary when clean, exit 2 and every
problem when not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app

VALID_DIR = Path(__file__).parents[1] / "data" / "contract_min"
ZH_MAPPING = Path(__file__).parents[2] / "configs" / "column_mapping.zh.yaml"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(VALID_DIR, tmp_path / "data"))


def listing(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


def test_a_clean_directory_exits_0_with_a_summary(data_dir):
    before = listing(data_dir.parent)
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "households" in result.output and "3" in result.output
    assert "events: illness" in result.output
    assert "2022-2024" in result.output
    assert listing(data_dir.parent) == before


def test_a_broken_directory_exits_2_listing_every_problem(data_dir):
    path = data_dir / "household_years.csv"
    frame = pd.read_csv(path, dtype="str")
    frame.loc[2, "household_size"] = "0"
    frame.loc[4, "year"] = "2099"
    frame.to_csv(path, index=False)
    events = data_dir / "events.csv"
    events.write_text(events.read_text().replace("disaster", "flood"))
    before = listing(data_dir.parent)
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "SchemaError:" in result.output and "(nothing was written)" in result.output
    assert "household_years.household_size, row 3: must be >= 1, found 0" in result.output
    assert "household_years.year, row 5: must be a year from 1900" in result.output
    assert "events.event_type, row 2: 'flood' is not an allowed type; did you mean 'disaster'?" in (
        result.output
    )
    assert listing(data_dir.parent) == before


def test_validate_with_a_mapping(data_dir, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n  events:\n    columns:\n      kind: event_type\n", encoding="utf-8"
    )
    events = data_dir / "events.csv"
    events.write_text(events.read_text().replace("event_type", "kind"))
    assert CliRunner().invoke(app, ["validate", "--data", str(data_dir)]).exit_code == 2
    result = CliRunner().invoke(
        app, ["validate", "--data", str(data_dir), "--mapping", str(mapping)]
    )
    assert result.exit_code == 0, result.output


def test_a_bad_mapping_exits_2(data_dir, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("encoding: nonsense\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["validate", "--data", str(data_dir), "--mapping", str(mapping)]
    )
    assert result.exit_code == 2
    assert "ConfigError" in result.output and "unknown encoding" in result.output


def test_a_simulated_directory_is_valid_and_round_trips(tables, tmp_path):
    from earlywarn.data.directory import write_tables
    from earlywarn.data.schema import read_tables

    data_dir = write_tables(tables, tmp_path / "simulated")
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    again = read_tables(data_dir)
    for name in ("households", "household_years", "events", "assistance", "lines", "personal"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(tables, name))


def test_validate_takes_the_mapping_from_a_config(data_dir, tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "tables:\n  events:\n    columns:\n      kind: event_type\n", encoding="utf-8"
    )
    config = tmp_path / "config.yaml"
    config.write_text(f"data:\n  mapping: {mapping}\n", encoding="utf-8")
    events = data_dir / "events.csv"
    events.write_text(events.read_text().replace("event_type", "kind"))
    result = CliRunner().invoke(app, ["validate", "--data", str(data_dir), "--config", str(config)])
    assert result.exit_code == 0, result.output
