"""Fixtures the bad-input tests share: a tiny real model, and a scores file made by
`earlywarn score` from the corpus's valid directory (for `report` and `explain`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from corpus import VALID_DIR
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.model.model_file import save_model

AS_OF = "2024-03-01"


@pytest.fixture(scope="session")
def model_dir(tiny_model, tmp_path_factory) -> Path:
    model = replace(tiny_model, version="badinput-1")
    return save_model(model, tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="session")
def scores_file(model_dir, tmp_path_factory) -> Path:
    """Scores of the valid directory (every household not poor last year: one, flagged),
    with the metadata and sidecar `earlywarn score` writes."""
    out = tmp_path_factory.mktemp("scored") / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(VALID_DIR),
            "--as-of",
            AS_OF,
            "--model",
            str(model_dir),
            "--out",
            str(out),
            "--population",
            "all",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out)
    assert list(scores["household_id"]) == ["H003"] and scores["flagged"].all()
    return out
