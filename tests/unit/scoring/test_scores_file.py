"""The scores file: written byte for byte the same, read back and checked, its metadata."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from earlywarn.data.columns import AS_OF, FLAGGED, HOUSEHOLD_ID, MODEL_VERSION, REASONS, RISK
from earlywarn.errors import SchemaError
from earlywarn.scoring.history import compare_with_previous
from earlywarn.scoring.scores_file import (
    HISTORY_COLUMNS,
    SCORE_COLUMNS,
    check_scores,
    read_scores,
    read_scores_metadata,
    scores_schema,
    sidecar_path,
    write_scores_parquet,
)

REASON = {"code": "income_low", "text": "Net income fell", "contribution": 0.1}
METADATA = {
    "earlywarn.as_of": "2024-03-01",
    "earlywarn.model_version": "7",
    "earlywarn.input_fingerprints": json.dumps({"events.csv": "a" * 64}),
}


def scores_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: ["H1", "H2"],
            AS_OF: pd.Series(pd.Timestamp("2024-03-01"), index=[0, 1]).astype("datetime64[ms]"),
            "target_year": [2024, 2024],
            "county": ["c1", "c1"],
            "village": ["v1", "v2"],
            RISK: [0.7, 0.1],
            "rank_in_village": [1, 1],
            FLAGGED: [True, False],
            REASONS: [[REASON], []],
            MODEL_VERSION: ["7", "7"],
        }
    )


def test_the_same_scores_write_the_same_bytes_and_read_back(tmp_path):
    scores = compare_with_previous(scores_frame(), None)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_scores_parquet(scores, first, metadata=METADATA)
    write_scores_parquet(scores, second, metadata=dict(reversed(METADATA.items())))
    assert first.read_bytes() == second.read_bytes()
    assert pq.read_schema(first).names == list(SCORE_COLUMNS + HISTORY_COLUMNS)
    read = read_scores(first)
    assert read[RISK].tolist() == [0.7, 0.1]
    assert [list(r) for r in read[REASONS]] == [[REASON], []]
    without_history = tmp_path / "c.parquet"
    write_scores_parquet(scores_frame(), without_history, metadata=METADATA)
    assert pq.read_schema(without_history).names == scores_schema(with_history=False).names


def test_the_check_names_every_problem_at_once():
    scores = scores_frame()
    scores.loc[1, RISK] = 1.5
    scores.loc[1, HOUSEHOLD_ID] = " "
    scores[FLAGGED] = ["yes", False]
    with pytest.raises(SchemaError) as err:
        check_scores(scores, "the scores file s.parquet")
    message = str(err.value)
    assert message.startswith("3 problems in the scores file s.parquet (nothing was written)")
    assert "must be a probability from 0 to 1" in message and "1.5" in message
    assert "household_id" in message and "'yes'" in message
    with pytest.raises(SchemaError, match="missing column"):
        check_scores(scores.drop(columns=[REASONS]))


def test_every_row_carries_the_recorded_date_and_model():
    scores = scores_frame()
    check_scores(scores, recorded={AS_OF: "2024-03-01", MODEL_VERSION: "7"})
    with pytest.raises(SchemaError, match="must be 2025-03-01, the date the file records"):
        check_scores(scores, recorded={AS_OF: "2025-03-01"})
    with pytest.raises(SchemaError, match="must be '8', the model the file records"):
        check_scores(scores, recorded={MODEL_VERSION: "8"})
    with pytest.raises(SchemaError, match="which is not a date"):
        check_scores(scores, recorded={AS_OF: "soon"})


def test_metadata_is_completed_by_the_sidecar(tmp_path):
    path = tmp_path / "scores.parquet"
    write_scores_parquet(scores_frame(), path, metadata=METADATA)
    meta = read_scores_metadata(path)
    assert meta["earlywarn.input_fingerprints"] == {"events.csv": "a" * 64}
    assert "glossary_sha256" not in meta
    sidecar = {"data_dir": "/data", "lang": "en", "glossary_sha256": "f" * 64, "n_flagged": 1}
    sidecar_path(path).write_text(json.dumps(sidecar))
    assert sidecar_path(path).name == "scores.parquet.meta.json"
    meta = read_scores_metadata(path)
    assert meta["data_dir"] == "/data" and meta["glossary_sha256"] == "f" * 64
    assert "n_flagged" not in meta


def test_metadata_without_fingerprints_is_refused(tmp_path):
    path = tmp_path / "scores.parquet"
    write_scores_parquet(scores_frame(), path, metadata={"earlywarn.as_of": "2024-03-01"})
    with pytest.raises(SchemaError, match="records no input fingerprints"):
        read_scores_metadata(path)
