"""Shared fixtures: small, seeded, offline data from the simulator."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@pytest.fixture(scope="session")
def simulation():
    """A small simulated world (300 households, seed 0): tables and the oracle's truth."""
    from earlywarn.simulate import simulate_tables

    return simulate_tables(n_households=300, seed=0)


@pytest.fixture(scope="session")
def tables(simulation):
    """The simulated input tables (validated, personal columns split off)."""
    return simulation.tables
