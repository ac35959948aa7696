"""`earlywarn features` and `earlywarn catalog` end to end, into tmp_path."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.data.columns import HOUSEHOLD_ID, LABEL_POOR
from earlywarn.data.directory import write_tables
from earlywarn.features.catalog import FEATURE_NAMES, render_catalog_markdown
from earlywarn.features.labels import make_labels

runner = CliRunner()


def test_features_command_writes_population_features_and_label(simulation, tmp_path):
    data = tmp_path / "data"
    write_tables(simulation.tables, data)
    out = tmp_path / "features.parquet"
    result = runner.invoke(
        app, ["features", "--data", str(data), "--as-of", "2024-07-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    assert list(written.columns) == [HOUSEHOLD_ID, *FEATURE_NAMES, LABEL_POOR]
    expected = make_labels(simulation.tables, "2024-07-01")
    assert list(written[HOUSEHOLD_ID]) == list(expected.index)
    assert (
        written[LABEL_POOR]
        .astype("boolean")
        .equals(expected.reset_index(drop=True).rename(LABEL_POOR))
    )

    open_year = tmp_path / "open.csv"
    result = runner.invoke(
        app,
        [
            "features",
            "--data",
            str(data),
            "--as-of",
            "2026-02-01",
            "--out",
            str(open_year),
            "--population",
            "all",
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(open_year)[LABEL_POOR].isna().all()  # year 2026 not closed yet


def test_features_command_rejects_bad_options(tmp_path):
    result = runner.invoke(
        app,
        [
            "features",
            "--data",
            str(tmp_path),
            "--as-of",
            "2024-07-01",
            "--out",
            str(tmp_path / "f.parquet"),
            "--population",
            "some",
        ],
    )
    assert result.exit_code == 2
    result = runner.invoke(
        app,
        [
            "features",
            "--data",
            str(tmp_path / "missing"),
            "--as-of",
            "2024-07-01",
            "--out",
            str(tmp_path / "f.parquet"),
        ],
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_catalog_command_writes_the_docs(tmp_path):
    out = tmp_path / "docs" / "features.md"
    result = runner.invoke(app, ["catalog", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render_catalog_markdown() + "\n"
