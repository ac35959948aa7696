"""The oracle's two engines and two estimators: the compiled months live the same world as
``run_months``, the kernel estimate is a probability, and the plain path is unchanged."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from test_golden import GOLDEN_SEED_11_COUNTED, fingerprints

import earlywarn.simulator.households as households
from earlywarn.config import SimulateConfig
from earlywarn.simulator import compiled_random as rand
from earlywarn.simulator.oracle import poverty_probability, share_below
from earlywarn.simulator.world import TODAY

N_DRAWS = 400


@pytest.fixture(scope="module")
def as_of_states():
    """The oracle's inputs at each as-of date of a 400-household world, by (year, month)."""
    calls = {}

    def record(state, year, first_month, n_draws, seed, **kwargs):
        calls[year, first_month] = (state, kwargs["n_counties"])
        return np.zeros(len(state))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(households, "poverty_probability", record)
        households.simulate_tables(400, seed=5, n_oracle_draws=1)
    return calls


def _both_engines(state, year, month, n_counties, settings=TODAY):
    seed = np.random.SeedSequence(3)
    run = partial(
        poverty_probability, state, year, month, N_DRAWS, seed, n_counties=n_counties,
        settings=settings, estimator="count",
    )  # fmt: skip
    return run(engine="compiled"), run(engine="numpy")


@pytest.mark.parametrize(("year", "month"), [(2020, 1), (2022, 7), (2025, 1)])
def test_the_compiled_months_live_the_same_world(as_of_states, year, month):
    state, n_counties = as_of_states[year, month]
    compiled, plain = _both_engines(state, year, month, n_counties)
    assert abs(compiled.mean() - plain.mean()) < 0.006
    assert np.corrcoef(compiled, plain)[0, 1] > 0.95
    # one household's probability differs only by Monte Carlo noise (0.035 at p = 0.5)
    assert np.abs(compiled - plain).max() < 0.2


def test_the_compiled_months_know_the_harsh_year(as_of_states):
    state, n_counties = as_of_states[2021, 1]
    harsh = SimulateConfig(harsh_year=2021)
    compiled, plain = _both_engines(state, 2021, 1, n_counties, harsh)
    today, _ = _both_engines(state, 2021, 1, n_counties)
    assert compiled.mean() > today.mean() + 0.02  # droughts and lockdowns make it harsh
    assert abs(compiled.mean() - plain.mean()) < 0.01


def test_compiled_oracle_is_reproducible_and_leaves_its_input(as_of_states):
    state, n_counties = as_of_states[2023, 7]
    before = state.copy()
    run = partial(poverty_probability, state, 2023, 7, 20, n_counties=n_counties)
    first = run(np.random.SeedSequence(1))
    np.testing.assert_array_equal(first, run(np.random.SeedSequence(1)))
    assert not np.array_equal(first, run(np.random.SeedSequence(2)))
    np.testing.assert_array_equal(state.medical, before.medical)
    np.testing.assert_array_equal(state.n_labor, before.n_labor)


def test_share_below_smooths_only_near_the_line():
    rng = np.random.default_rng(0)
    draws = rng.normal(5_000.0, 1_000.0, (3, 200))
    draws[1] += 20_000.0  # far above the line
    draws[2] = 3_000.0  # no spread: the plain count
    share = share_below(draws, 4_000.0)
    counted = (draws < 4_000.0).mean(axis=1)
    assert abs(share[0] - counted[0]) < 0.03
    assert share[1] == 0.0 and share[2] == 1.0
    assert (share_below(draws, 4_500.0) >= share).all()  # a higher line, more below it
    one_draw = draws[:, :1]
    np.testing.assert_array_equal(share_below(one_draw, 4_000.0), (one_draw < 4_000.0).mean(axis=1))


def test_counting_with_numpy_reproduces_the_pinned_truth():
    counted = partial(poverty_probability, estimator="count", engine="numpy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(households, "poverty_probability", counted)
        simulation = households.simulate_tables(250, seed=11, n_oracle_draws=30)
    assert fingerprints(simulation)["truth"] == GOLDEN_SEED_11_COUNTED


def test_compiled_draws_have_their_distributions():
    st = rand.new_state(7)
    uniform = rand.sample(st, 0, 200_000, 0.0, 0.0)
    assert uniform.min() >= 0.0 and uniform.max() < 1.0
    assert abs(uniform.mean() - 0.5) < 0.005 and abs(uniform.var() - 1 / 12) < 0.002
    normal = rand.sample(st, 1, 200_000, 0.0, 0.0)
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1.0) < 0.01
    lognormal = rand.sample(st, 2, 200_000, 3_000.0, 0.8)
    assert abs(np.median(lognormal) / 3_000.0 - 1.0) < 0.02
    geometric = rand.sample(st, 3, 200_000, 0.25, 0.0)
    assert geometric.min() == 1 and abs(geometric.mean() - 4.0) < 0.05
    between = rand.sample(st, 4, 200_000, 0.3, 0.85)
    assert between.min() >= 0.3 and between.max() < 0.85
    np.testing.assert_array_equal(rand.sample(rand.new_state(7), 0, 5, 0.0, 0.0), uniform[:5])
