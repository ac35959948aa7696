"""score_households, the catalog check, flags, ranks, partitioned tables; on a tiny hand-made
model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import PolicyConfig
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    RANK_IN_VILLAGE,
    REASONS,
    RISK,
    VILLAGE,
)
from earlywarn.errors import ModelError
from earlywarn.explain.glossary import load_glossary
from earlywarn.model.fit import fit_model
from earlywarn.scoring.score import check_catalog, partition_tables, score_households
from earlywarn.scoring.scores_file import SCORE_COLUMNS

AS_OF_DATE = pd.Timestamp("2024-03-01")
GLOSSARY = load_glossary()


def make_frames(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"H{i:05d}" for i in range(n)], name=HOUSEHOLD_ID)
    features = pd.DataFrame(
        {
            "net_income_per_capita_last_round": rng.lognormal(9, 0.5, n),
            "n_illness_events_12m": rng.poisson(0.5, n).astype(float),
            COUNTY: pd.Categorical(rng.choice(["c1", "c2"], n), categories=["c1", "c2"]),
        },
        index=ids,
    )
    features.iloc[::17, 0] = np.nan
    logit = -2 - (np.log(features.iloc[:, 0].fillna(8000)) - 9) * 2 + features.iloc[:, 1]
    y = pd.Series(rng.random(n) < 1 / (1 + np.exp(-logit)), index=ids)
    households = pd.DataFrame(
        {
            HOUSEHOLD_ID: ids.astype("str"),
            COUNTY: features[COUNTY].astype("str").to_numpy(),
            VILLAGE: [f"v{i % 7}" for i in range(n)],
        }
    )
    return features, y, households


@pytest.fixture(scope="module")
def frames():
    return make_frames()


@pytest.fixture(scope="module")
def model(frames):
    features, y, _ = frames
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5}
    fitted = fit_model(
        features, y, params, seed=0, num_threads=1, num_boost_round=20, catalog_hash="abc"
    )
    return replace(fitted, version="7")


def test_scores_have_one_row_per_household_and_the_contract_columns(model, frames):
    features, _, households = frames
    scores = score_households(
        model,
        features,
        as_of=AS_OF_DATE,
        policy_cfg=PolicyConfig(),
        households_frame=households,
        glossary=GLOSSARY,
    )
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert scores[HOUSEHOLD_ID].tolist() == sorted(features.index)
    assert scores[RISK].between(0, 1).all()
    assert (scores[AS_OF] == AS_OF_DATE).all()
    assert scores[FLAGGED].sum() == math.ceil(0.1 * len(features))
    assert (scores["model_version"] == "7").all()
    np.testing.assert_allclose(scores[RISK], model.predict_risk(features.sort_index()))


def test_reasons_only_for_the_flagged_unless_all(model, frames):
    features, _, households = frames
    kwargs = {
        "as_of": AS_OF_DATE,
        "policy_cfg": PolicyConfig(),
        "households_frame": households,
        "glossary": GLOSSARY,
    }
    scores = score_households(model, features, **kwargs)
    has_reasons = scores[REASONS].map(len) > 0
    assert not has_reasons[~scores[FLAGGED]].any()
    assert has_reasons[scores[FLAGGED]].all()
    for reasons in scores.loc[scores[FLAGGED], REASONS]:
        assert len(reasons) <= 3
        assert set(reasons[0]) == {"code", "text", "contribution"}
        contributions = [r["contribution"] for r in reasons]
        assert contributions == sorted(contributions, reverse=True)
        assert all(c > 0 for c in contributions)
    everyone = score_households(model, features, explain="all", **kwargs)
    assert (everyone[REASONS].map(len) > 0).sum() > has_reasons.sum()
    nobody = score_households(model, features, explain="none", **kwargs)
    assert (nobody[REASONS].map(len) == 0).all()


def test_row_order_changes_no_score(model, frames):
    features, _, households = frames
    kwargs = {
        "as_of": AS_OF_DATE,
        "policy_cfg": PolicyConfig(),
        "households_frame": households,
        "glossary": GLOSSARY,
    }
    expected = score_households(model, features, **kwargs)
    shuffled = features.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(score_households(model, shuffled, **kwargs), expected)


def test_rank_in_village_counts_from_the_highest_risk(model, frames):
    features, _, households = frames
    scores = score_households(
        model,
        features,
        as_of=AS_OF_DATE,
        policy_cfg=PolicyConfig(),
        households_frame=households,
        glossary=GLOSSARY,
        explain="none",
    )
    for _, village in scores.groupby([COUNTY, VILLAGE]):
        ordered = village.sort_values(RANK_IN_VILLAGE)
        assert ordered[RANK_IN_VILLAGE].tolist() == list(range(1, len(village) + 1))
        assert ordered[RISK].is_monotonic_decreasing


def test_top_n_per_village_policy(model, frames):
    features, _, households = frames
    policy = PolicyConfig(kind="top_n_per_group", n_per_group=2, group="village")
    scores = score_households(
        model,
        features,
        as_of=AS_OF_DATE,
        policy_cfg=policy,
        households_frame=households,
        glossary=GLOSSARY,
        explain="none",
    )
    assert (scores.loc[scores[FLAGGED], RANK_IN_VILLAGE] <= 2).all()
    assert scores[FLAGGED].sum() == 2 * households[VILLAGE].nunique()


def test_a_model_from_another_catalog_is_refused_naming_what_differs(model):
    names = ["net_income_per_capita_last_round", "county", "n_hospital_stays_12m"]
    with pytest.raises(ModelError, match=r"does not build: \['n_illness_events_12m'\]") as err:
        check_catalog(model, catalog_hash="def", catalog_names=names)
    assert "n_hospital_stays_12m" in str(err.value)
    check_catalog(model, catalog_hash="abc", catalog_names=names)  # same hash: accepted
    with pytest.raises(ModelError, match="definitions changed"):
        check_catalog(model, catalog_hash="xyz", catalog_names=list(model.feature_names))


def test_features_of_partitioned_tables_equal_features_of_the_whole(tables):
    from earlywarn.features.build import build_features
    from earlywarn.features.labels import population
    from earlywarn.features.place import place_rates

    as_of = pd.Timestamp("2024-03-01")
    ids = pd.Index(sorted(population(tables, as_of, population="all")), name=HOUSEHOLD_ID)
    chunks = [ids[i : i + 37] for i in range(0, len(ids), 37)]
    places = place_rates(tables, as_of)
    whole = build_features(tables, as_of=as_of, households=ids, places=places)
    parts = partition_tables(tables, chunks, places)
    assert len(parts) == len(chunks)
    for (sub, _), chunk in zip(parts, chunks, strict=True):
        assert set(sub.households[HOUSEHOLD_ID]) == set(chunk)
        assert set(sub.household_years[HOUSEHOLD_ID]) <= set(chunk)
    pieces = pd.concat(
        [
            build_features(sub, as_of=as_of, households=chunk, places=sub_places)
            for (sub, sub_places), chunk in zip(parts, chunks, strict=True)
        ]
    )
    pd.testing.assert_frame_equal(pieces, whole)
