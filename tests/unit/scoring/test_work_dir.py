"""The work directory of a scoring run: chunks and reasons kept whole, read back as written."""

from __future__ import annotations

import pandas as pd
import pytest

from earlywarn.data.columns import HOUSEHOLD_ID, REASONS, RISK
from earlywarn.errors import OutputError
from earlywarn.scoring.work_dir import WorkDir, run_key

REASON = {"code": "income_low", "text": "Net income was 2,900 yuan", "contribution": 0.125}
RULE = {"code": "rule:serious_shock", "text": "病人住院", "contribution": None}


def chunk_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            RISK: [0.1, 0.7, 0.3],
            REASONS: [[REASON], [REASON, RULE], []],
            "net_income_per_capita_last_round": [5000.0, 2900.0, float("nan")],
        },
        index=pd.Index(["H1", "H2", "H3"], name=HOUSEHOLD_ID),
    )


def test_the_folder_is_named_after_the_output_and_the_inputs(tmp_path):
    key = run_key({"as_of": "2024-03-01", "inputs": {"events.csv": "abc"}})
    assert key == run_key({"inputs": {"events.csv": "abc"}, "as_of": "2024-03-01"})
    assert key != run_key({"as_of": "2024-03-02", "inputs": {"events.csv": "abc"}})
    work = WorkDir.open(tmp_path / "scores.parquet", key)
    assert work.path == tmp_path / f".scores.parquet.work-{key[:16]}"
    assert work.path.is_dir()


def test_a_chunk_reads_back_with_its_reasons_and_drift_counts(tmp_path):
    work = WorkDir.open(tmp_path / "scores.parquet", run_key({}))
    counts = {"n_rows": 3, "features": {"x": [1, 2, 0]}, "score": [3, 0], "unknown": {}}
    assert not work.has_chunk(4)
    work.write_chunk(4, chunk_frame(), counts)
    assert work.has_chunk(4) and not work.has_chunk(0)
    frame, read_counts = work.read_chunk(4)
    pd.testing.assert_frame_equal(frame, chunk_frame())
    assert read_counts == counts
    risks, _ = work.read_chunk(4, [HOUSEHOLD_ID, RISK])
    assert list(risks.columns) == [RISK] and list(risks.index) == ["H1", "H2", "H3"]


def test_features_of_some_households_come_back_in_the_order_asked(tmp_path):
    work = WorkDir.open(tmp_path / "scores.parquet", run_key({}))
    work.write_chunk(0, chunk_frame(), {"n_rows": 3})
    features = work.read_features(0, ["H3", "H1"])
    assert list(features.index) == ["H3", "H1"]
    assert list(features.columns) == ["net_income_per_capita_last_round"]
    assert features.loc["H1"].iloc[0] == 5000.0


def test_reasons_of_every_chunk_read_back_together(tmp_path):
    work = WorkDir.open(tmp_path / "scores.parquet", run_key({}))
    assert work.read_reasons(3).empty
    work.write_reasons(0, pd.Series([[REASON]], index=pd.Index(["H1"], name=HOUSEHOLD_ID)))
    work.write_reasons(2, pd.Series([[REASON, RULE]], index=pd.Index(["H9"], name=HOUSEHOLD_ID)))
    assert work.has_reasons(2) and not work.has_reasons(1)
    reasons = work.read_reasons(3)
    assert reasons.to_dict() == {"H1": [REASON], "H9": [REASON, RULE]}


def test_remove_all_takes_every_work_folder_of_the_output_and_nothing_else(tmp_path):
    out = tmp_path / "scores.parquet"
    WorkDir.open(out, run_key({"run": 1}))
    WorkDir.open(out, run_key({"run": 2}))
    other = WorkDir.open(tmp_path / "other.parquet", run_key({}))
    WorkDir.remove_all(out)
    assert [p.name for p in tmp_path.iterdir()] == [other.path.name]


def test_an_unwritable_place_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write"):
        WorkDir.open(blocker / "scores.parquet", run_key({}))
