"""Model files are checked against their recorded hash before use, and loading one never
unpickles anything (the booster is LightGBM text, the sidecar JSON)."""

from __future__ import annotations

import pickle
import shutil

import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.data.directory import write_tables
from earlywarn.errors import ModelError
from earlywarn.model.model_file import BOOSTER_FILE, load_model
from earlywarn.tracking import resolve_model

pytestmark = pytest.mark.slow


def forbid_unpickling(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_loading_a_model_unpickles_nothing(model_dir, monkeypatch):
    forbid_unpickling(monkeypatch)
    assert resolve_model(str(model_dir)).feature_names == load_model(model_dir).feature_names


def test_a_changed_booster_is_refused_everywhere(tables, model_dir, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(model_dir, changed)
    booster = changed / BOOSTER_FILE
    booster.write_text(booster.read_text().replace("learning_rate", "learning_rate ", 1))
    with pytest.raises(ModelError, match="does not match the hash recorded"):
        load_model(changed)
    with pytest.raises(ModelError, match="does not match the hash recorded"):
        resolve_model(str(changed))

    data = tmp_path / "data"
    write_tables(tables, data)
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(data),
            "--as-of",
            "2024-03-01",
            "--model",
            str(changed),
            "--out",
            str(out),
            "--no-progress",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "refusing to use a model file that changed" in result.output
    assert "Traceback" not in result.output and not out.exists()
