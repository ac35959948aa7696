"""Place rates as a distributed aggregate: the counts of any split of the households, added
up, give every household the rates of the whole tables, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, VILLAGE
from earlywarn.data.tables import Tables
from earlywarn.features.place import (
    combine_place_counts,
    place_counts,
    place_rates,
    rates_from_counts,
)
from feature_frames import random_tables
from household_slices import assert_bitwise_equal, households_of, split_of


@pytest.fixture(scope="module")
def random_world() -> Tables:
    return random_tables(n_households=40, seed=3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.integers(0, 4), min_size=1, max_size=60),
    as_of=st.sampled_from(["2023-01-01", "2023-07-15", "2024-05-01", "2025-02-28"]),
)
def test_counts_of_any_split_give_the_rates_of_the_whole(random_world, pieces, as_of):
    whole = place_rates(random_world, as_of)
    parts = split_of(random_world, pieces)
    slices = [households_of(random_world, ids) for ids in parts]
    counts = combine_place_counts(place_counts(piece, as_of) for piece in slices)
    assert_bitwise_equal(counts, combine_place_counts([place_counts(random_world, as_of)]))
    for piece in slices:
        ids = piece.households[HOUSEHOLD_ID]
        assert_bitwise_equal(rates_from_counts(piece.households, counts), whole.loc[ids])


def test_the_simulated_world_split_by_county_and_in_halves(tables):
    as_of = "2024-03-01"
    whole = place_rates(tables, as_of)
    ids = tables.households.sort_values(HOUSEHOLD_ID)[HOUSEHOLD_ID].to_numpy(dtype=object)
    halves = [
        households_of(tables, ids[: len(ids) // 2]),
        households_of(tables, ids[len(ids) // 2 :]),
    ]
    counts = combine_place_counts(place_counts(half, as_of) for half in halves)
    assert counts.index.names == [COUNTY, VILLAGE]
    assert counts["n_households"].sum() == len(tables.households)
    for half in halves:
        assert_bitwise_equal(
            rates_from_counts(half.households, counts), whole.loc[half.households[HOUSEHOLD_ID]]
        )
    # a half alone gives other rates: the aggregate is what makes them whole
    alone = place_rates(halves[0], as_of)
    assert not np.array_equal(alone.to_numpy(), whole.loc[alone.index].to_numpy(), equal_nan=True)


def test_a_village_without_counts_is_an_error(random_world):
    counts = place_counts(random_world, "2024-05-01").iloc[1:]
    with pytest.raises(ValueError, match="no place counts for village"):
        rates_from_counts(random_world.households, counts)


def test_no_households_give_no_rates(random_world):
    nobody = households_of(random_world, np.array([], dtype=object))
    counts = combine_place_counts([place_counts(nobody, "2024-05-01")])
    assert counts.empty
    assert rates_from_counts(nobody.households, counts).shape[0] == 0
    assert list(rates_from_counts(nobody.households, counts).columns) == list(
        place_rates(random_world, "2024-05-01").columns
    )
