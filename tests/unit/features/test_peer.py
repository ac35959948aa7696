"""The harness's plain peer (tests/peer.py): point in time, plain, and fitted as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_features import OPERATIONS, _future_changes

from earlywarn.data.columns import HOUSEHOLD_ID
from feature_frames import make_tables, random_tables
from peer import PEER_TREES, fit_peer, peer_examples, peer_feature_names, peer_features

RANDOM_WORLD = random_tables(n_households=40, seed=5)


def ids(tables) -> pd.Index:
    return pd.Index(tables.households[HOUSEHOLD_ID], name=HOUSEHOLD_ID)


@settings(
    deadline=None, max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.integers(min_value=0, max_value=365 * 6 + 200),
    operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_nothing_dated_on_or_after_as_of_changes_the_peer(days, operations, seed):
    as_of = pd.Timestamp("2019-01-01") + pd.Timedelta(days=days)
    changed = _future_changes(RANDOM_WORLD, as_of, operations, seed)
    expected = peer_features(RANDOM_WORLD, as_of, ids(RANDOM_WORLD))
    actual = peer_features(changed, as_of, ids(RANDOM_WORLD))
    pd.testing.assert_frame_equal(actual, expected)


def test_plain_values_of_one_household():
    tables = make_tables(
        households=[
            {
                "household_id": "A",
                "county": "C",
                "village": "V",
                "poverty_exit_year": 2019,
                "head_birth_year": 1970,
                "head_education_years": 6,
            },
        ],
        household_years=[
            {"household_id": "A", "year": 2021, "household_size": 2, "wage_income": 12000.0},
            {"household_id": "A", "year": 2023, "household_size": 2, "wage_income": 27600.0},
            {"household_id": "A", "year": 2024, "household_size": 2, "wage_income": 99999.0},
        ],
        events=[
            {"household_id": "A", "date": "2023-03-01", "event_type": "illness", "cost": 1.0},
            {"household_id": "A", "date": "2024-01-15", "event_type": "illness", "cost": 1.0},
            {"household_id": "A", "date": "2024-02-29", "event_type": "illness", "cost": 1.0},
            {"household_id": "A", "date": "2024-03-01", "event_type": "disaster", "cost": 1.0},
        ],
    )
    row = peer_features(tables, pd.Timestamp("2024-03-01"), pd.Index(["A"])).loc["A"]
    assert list(row.index) == peer_feature_names() and len(row) >= 50
    assert row["income_over_line_lag1"] == 13800.0 / 6900.0  # 2023: 27,600 / 2 over 6,900
    assert np.isnan(row["income_over_line_lag2"])  # no round in 2022
    assert row["income_over_line_lag3"] == 6000.0 / 6000.0
    assert row["income_over_line_min3"] == 1.0
    assert row["last_wage_income"] == 27600.0 and row["last_household_size"] == 2.0
    assert row["illness_365d"] == 2.0 and row["illness_ytd"] == 2.0  # 2023-03-01 is 366 days back
    assert row["illness_days_since"] == 1.0
    assert row["disaster_365d"] == 0.0 and np.isnan(row["disaster_days_since"])  # on as_of
    assert row["years_since_exit"] == 5.0 and row["head_age"] == 54.0
    assert row["head_schooling"] == 6.0


def test_peer_fits_default_models_and_predicts_probabilities():
    dates = [pd.Timestamp(f"{year}-{month:02d}-01") for year in (2019, 2020) for month in (1, 7)]
    examples = peer_examples(RANDOM_WORLD, dates, population="all")
    assert set(examples.keys["target_year"]) == {2019, 2020}
    peer = fit_peer(examples.features, examples.labels, seed=0)
    assert 0 < peer.booster.num_trees() <= PEER_TREES  # default size; tiny data stop early
    scores = peer.predict(examples.features)
    assert set(scores) == {"peer_lgbm", "peer_logistic"}
    for score in scores.values():
        assert len(score) == len(examples.labels) and ((score > 0) & (score < 1)).all()
