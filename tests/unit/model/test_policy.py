"""The flagging policy: top share, top N per village, threshold; ties and order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import PolicyConfig
from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID
from earlywarn.errors import ConfigError
from earlywarn.model.policy import flag, flag_rounds


@pytest.fixture
def risk():
    return pd.Series(
        [0.9, 0.1, 0.5, 0.5, np.nan, 0.7],
        index=pd.Index(["H1", "H2", "H3", "H4", "H5", "H6"], name=HOUSEHOLD_ID),
    )


@pytest.fixture
def households():
    return pd.DataFrame(
        {"village": ["A", "A", "A", "B", "B", "B"], "county": ["C"] * 6},
        index=["H1", "H2", "H3", "H4", "H5", "H6"],
    )


def test_top_share_flags_the_highest_and_breaks_ties_by_id(risk, households):
    flagged = flag(risk, households, PolicyConfig(kind="top_share", share=0.5))
    assert flagged[flagged].index.tolist() == ["H1", "H3", "H6"]


def test_flags_do_not_depend_on_row_order(risk, households):
    cfg = PolicyConfig(kind="top_share", share=0.5)
    shuffled = risk.sample(frac=1.0, random_state=3)
    pd.testing.assert_series_equal(
        flag(shuffled, households, cfg).sort_index(), flag(risk, households, cfg).sort_index()
    )


def test_top_n_per_village(risk, households):
    flagged = flag(risk, households, PolicyConfig(kind="top_n_per_group", n_per_group=1))
    assert flagged[flagged].index.tolist() == ["H1", "H6"]


def test_threshold_never_flags_missing_risk(risk, households):
    flagged = flag(risk, households, PolicyConfig(kind="threshold", threshold=0.5))
    assert sorted(flagged[flagged].index) == ["H1", "H3", "H4", "H6"]
    assert not flagged["H5"]


def test_group_policy_needs_the_group_column(risk):
    with pytest.raises(ConfigError, match="village"):
        flag(risk, None, PolicyConfig(kind="top_n_per_group"))


def test_capacity_applies_per_scoring_round(households):
    keys = pd.DataFrame(
        {
            HOUSEHOLD_ID: ["H1", "H2", "H1", "H2"],
            AS_OF: pd.to_datetime(["2024-01-01"] * 2 + ["2024-04-01"] * 2),
        }
    )
    flagged = flag_rounds(
        keys, np.array([0.2, 0.3, 0.9, 0.1]), households, PolicyConfig(kind="top_share", share=0.5)
    )
    assert flagged.tolist() == [False, True, True, False]
