"""The scores file carries each household's monitoring status at its as_of."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from earlywarn.config import Config, config_hash
from earlywarn.errors import SchemaError
from earlywarn.features.monitoring import STATUS_COLUMNS, monitoring_status
from earlywarn.scoring.score import attach_monitoring_status
from earlywarn.scoring.scores_file import (
    HISTORY_COLUMNS,
    SCORE_COLUMNS,
    check_scores,
    read_scores,
    write_scores_parquet,
)

AS_OF = pd.Timestamp("2024-03-01")


@pytest.fixture(scope="module")
def scores(tables):
    ids = sorted(tables.households["household_id"])[:120]
    frame = pd.DataFrame(
        {
            "household_id": pd.array(ids, dtype="str"),
            "as_of": pd.Series(AS_OF, index=range(len(ids))).astype("datetime64[ms]"),
            "target_year": 2024,
            "county": "C",
            "village": "V",
            "risk": 0.1,
            "rank_in_village": range(1, len(ids) + 1),
            "flagged": False,
            "reasons": [[] for _ in ids],
            "model_version": "1",
        }
    )
    return attach_monitoring_status(frame, tables, verified_months=6)


def test_status_columns_follow_the_score_columns_and_equal_the_status(scores, tables):
    assert list(scores.columns) == [*SCORE_COLUMNS, *STATUS_COLUMNS]
    expected = monitoring_status(tables, AS_OF, scores["household_id"], verified_months=6)
    for column in STATUS_COLUMNS:
        pd.testing.assert_series_equal(
            scores[column].reset_index(drop=True),
            expected[column].reset_index(drop=True),
            check_names=False,
            check_dtype=False,
        )
    assert set(scores["monitoring_status"]) >= {"not_monitored", "monitored"}


def test_the_status_survives_the_scores_file(scores, tmp_path):
    path = tmp_path / "scores.parquet"
    write_scores_parquet(scores, path, metadata={})
    assert pq.read_schema(path).names == [*SCORE_COLUMNS, *STATUS_COLUMNS]
    again = read_scores(path)
    assert again["monitoring_status"].tolist() == scores["monitoring_status"].tolist()
    assert again["monitored_since"].isna().tolist() == scores["monitored_since"].isna().tolist()


def test_the_status_goes_before_the_history_columns(scores):
    with_history = scores.assign(
        previous_as_of=scores["as_of"], previous_risk=0.1, newly_flagged=False, risk_doubled=False
    )
    again = attach_monitoring_status(with_history.drop(columns=list(STATUS_COLUMNS)), _tables())
    assert list(again.columns) == [*SCORE_COLUMNS, *STATUS_COLUMNS, *HISTORY_COLUMNS]


def _tables():
    from earlywarn.simulator.households import simulate_tables

    return simulate_tables(n_households=30, seed=1, n_oracle_draws=0).tables


def test_an_unknown_status_is_a_scores_file_problem(scores):
    broken = scores.assign(monitoring_status="watched")
    with pytest.raises(SchemaError, match="monitoring_status, rows 1-120: must be one of"):
        check_scores(broken)


def test_the_monitoring_section_keeps_the_config_hash_at_its_defaults():
    default = Config()
    assert "monitoring" not in default.model_dump(mode="json")
    changed = Config(monitoring={"verified_months": 3})
    assert config_hash(changed) != config_hash(default)


def test_chunks_carry_their_own_spells_and_visits(tables):
    from earlywarn.scoring.score import partition_tables

    ids = sorted(tables.households["household_id"])
    chunks = [pd.Index(ids[:100]), pd.Index(ids[100:])]
    parts = partition_tables(tables, chunks)
    for (sub, _), chunk in zip(parts, chunks, strict=True):
        assert set(sub.monitoring["household_id"]) <= set(chunk)
        assert set(sub.visits["household_id"]) <= set(chunk)
    assert sum(len(sub.monitoring) for sub, _ in parts) == len(tables.monitoring)
    assert sum(len(sub.visits) for sub, _ in parts) == len(tables.visits)
