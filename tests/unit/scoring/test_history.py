"""The score history: runs kept by date and model version, the last earlier run found, the
comparison with it."""

from __future__ import annotations

import json
import math

import pandas as pd

from earlywarn.data.columns import AS_OF, FLAGGED, HOUSEHOLD_ID, MODEL_VERSION, RISK
from earlywarn.scoring.history import (
    KEPT_COLUMNS,
    append_run,
    compare_with_previous,
    previous_run,
)
from earlywarn.scoring.scores_file import (
    NEWLY_FLAGGED,
    PREVIOUS_AS_OF,
    PREVIOUS_RISK,
    RISK_DOUBLED,
)


def run_scores(as_of: str, risks: list[float], version: str = "7") -> pd.DataFrame:
    n = len(risks)
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: [f"H{i}" for i in range(n)],
            AS_OF: pd.Series(pd.Timestamp(as_of), index=range(n)).astype("datetime64[ms]"),
            RISK: risks,
            FLAGGED: [risk > 0.5 for risk in risks],
            MODEL_VERSION: version,
            "reasons": [[] for _ in range(n)],  # not kept
        }
    )


def keep(history, as_of: str, risks: list[float], *, version: str = "7", created: str = "1"):
    return append_run(
        history,
        run_scores(as_of, risks, version),
        as_of=pd.Timestamp(as_of),
        model_version=version,
        created_at=f"2025-01-0{created}T00:00:00+00:00",
    )


def test_a_run_is_kept_by_date_and_model_version(tmp_path):
    folder = keep(tmp_path, "2024-03-01", [0.2, 0.7], version="models:/ew@champion")
    assert folder == tmp_path / "as_of=2024-03-01" / "model_version=models__ew@champion"
    kept = pd.read_parquet(folder / "scores.parquet")
    assert list(kept.columns) == list(KEPT_COLUMNS)
    assert kept[RISK].tolist() == [0.2, 0.7]
    run = json.loads((folder / "run.json").read_text())
    assert run["as_of"] == "2024-03-01" and run["n_households"] == 2
    assert run["model_version"] == "models:/ew@champion"


def test_the_previous_run_is_the_last_one_before_the_date(tmp_path):
    assert previous_run(tmp_path / "none-yet", pd.Timestamp("2024-03-01")) is None
    keep(tmp_path, "2022-03-01", [0.1, 0.1])
    keep(tmp_path, "2023-03-01", [0.2, 0.2], version="7", created="1")
    keep(tmp_path, "2023-03-01", [0.3, 0.3], version="8", created="2")  # same date, later
    keep(tmp_path, "2024-03-01", [0.9, 0.9])  # the date itself is not before it
    keep(tmp_path, "2025-03-01", [0.9, 0.9])
    previous = previous_run(tmp_path, pd.Timestamp("2024-03-01"))
    assert previous is not None
    assert previous[RISK].tolist() == [0.3, 0.3]
    assert (previous[MODEL_VERSION] == "8").all()
    assert previous_run(tmp_path, pd.Timestamp("2022-03-01")) is None


def test_compare_with_previous_calls_out_new_flags_and_doubled_risk():
    scores = pd.DataFrame(
        {HOUSEHOLD_ID: ["a", "b", "c"], RISK: [0.4, 0.1, 0.3], FLAGGED: [True, False, True]}
    )
    previous = pd.DataFrame(
        {
            HOUSEHOLD_ID: ["a", "b"],
            AS_OF: pd.to_datetime(["2023-03-01"] * 2),
            RISK: [0.2, 0.3],
            FLAGGED: [True, True],
        }
    )
    out = compare_with_previous(scores, previous)
    assert out[NEWLY_FLAGGED].tolist() == [False, False, True]
    assert out[RISK_DOUBLED].tolist() == [True, False, False]
    assert math.isnan(out[PREVIOUS_RISK].iloc[2])
    first = compare_with_previous(scores, None)
    assert first[NEWLY_FLAGGED].tolist() == [True, False, True]
    assert not first[RISK_DOUBLED].any()


def test_a_kept_run_is_compared_with_as_the_next_run_reads_it(tmp_path):
    keep(tmp_path, "2023-03-01", [0.2, 0.6])
    now = run_scores("2024-03-01", [0.5, 0.7]).assign(**{FLAGGED: [True, True]})
    out = compare_with_previous(now, previous_run(tmp_path, pd.Timestamp("2024-03-01")))
    assert out[PREVIOUS_AS_OF].tolist() == [pd.Timestamp("2023-03-01")] * 2
    assert out[PREVIOUS_RISK].tolist() == [0.2, 0.6]
    assert out[NEWLY_FLAGGED].tolist() == [True, False]
    assert out[RISK_DOUBLED].tolist() == [True, False]
