"""Shared fixtures: small, seeded, offline data from the simulator."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI replays the same examples every run (a red build is reproducible, never a dice roll);
# HYPOTHESIS_PROFILE=fuzz searches ten times as many fresh ones for new failures.
settings.register_profile("ci", max_examples=40, derandomize=True, print_blob=True)
settings.register_profile("fuzz", max_examples=400, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@pytest.fixture(scope="session", autouse=True)
def audit_log(tmp_path_factory):
    """Every command run by the tests appends its audit record here, not in the repo."""
    path = tmp_path_factory.mktemp("audit") / "earlywarn-runs.jsonl"
    previous = os.environ.get("EARLYWARN_AUDIT_LOG")
    os.environ["EARLYWARN_AUDIT_LOG"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("EARLYWARN_AUDIT_LOG", None)
    else:
        os.environ["EARLYWARN_AUDIT_LOG"] = previous


@pytest.fixture(scope="session")
def simulation():
    """A small simulated world (300 households, seed 0): tables and the oracle's truth."""
    from earlywarn.simulator.households import simulate_tables

    return simulate_tables(n_households=300, seed=0)


@pytest.fixture(scope="session")
def tables(simulation):
    """The simulated input tables (validated, personal columns split off)."""
    return simulation.tables


@pytest.fixture(scope="session")
def tiny_model(tables):
    """A tiny real risk model of ``tables`` (version tiny-1), trained once per session."""
    from tiny import tiny_model as train

    return train(tables)
