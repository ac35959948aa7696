"""Village facts as a distributed aggregate: the parts of any split of the households,
combined, give the village figures of the whole tables, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.tables import Tables
from earlywarn.explain.village_facts import (
    VILLAGE_FACTS,
    combine_village_parts,
    village_facts,
    village_parts,
)
from feature_frames import random_tables
from household_slices import assert_bitwise_equal, households_of, split_of


@pytest.fixture(scope="module")
def random_world() -> Tables:
    return random_tables(n_households=40, seed=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.integers(0, 4), min_size=1, max_size=60),
    as_of=st.sampled_from(["2023-01-01", "2023-07-15", "2024-05-01", "2025-02-28"]),
)
def test_parts_of_any_split_give_the_facts_of_the_whole(random_world, pieces, as_of):
    whole = village_facts(random_world, as_of)
    slices = [households_of(random_world, ids) for ids in split_of(random_world, pieces)]
    assert_bitwise_equal(combine_village_parts(village_parts(s, as_of) for s in slices), whole)


def test_the_simulated_world_in_halves(tables):
    as_of = "2024-03-01"
    whole = village_facts(tables, as_of)
    ids = tables.households[HOUSEHOLD_ID].to_numpy(dtype=object)
    halves = [households_of(tables, ids[::2]), households_of(tables, ids[1::2])]
    parts = [village_parts(half, as_of) for half in halves]
    assert sum(map(len, parts)) == len(tables.households)
    assert_bitwise_equal(combine_village_parts(parts), whole)
    assert list(whole.columns) == list(VILLAGE_FACTS)
    assert whole.notna().all().all()
    # one half alone gives other medians: the combine is what makes them whole
    alone = village_facts(halves[0], as_of)
    assert not np.array_equal(alone.to_numpy(), whole.loc[alone.index].to_numpy())


def test_no_households_give_no_villages(random_world):
    nobody = households_of(random_world, np.array([], dtype=object))
    facts = combine_village_parts([village_parts(nobody, "2024-05-01")])
    assert facts.empty and list(facts.columns) == list(VILLAGE_FACTS)
    assert facts.dtypes.eq(np.dtype("float64")).all()
    pd.testing.assert_index_equal(facts.index, pd.Index([], dtype=object, name="village"))
