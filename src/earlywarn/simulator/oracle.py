"""The oracle: the simulator's own probability that a household is poor in a year.

Given every household's full state at a date (hidden variables included), re-run the rest of
the year from that state many times with fresh randomness, vectorised over households x draws,
and count how often the year ends below the line. No model can know more than this; it is the
ceiling later quality figures are measured against.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from earlywarn.config import SimulateConfig
from earlywarn.simulator.month import run_months
from earlywarn.simulator.world import LINES, TODAY, WorldState

ROWS_PER_CHUNK = 400_000  # households x draws simulated at once (about 0.2 GB)


def poverty_probability(
    state: WorldState,
    year: int,
    first_month: int,
    n_draws: int,
    seed_sequence: np.random.SeedSequence,
    *,
    n_counties: int,
    executor: Executor | None = None,
    settings: SimulateConfig = TODAY,
) -> np.ndarray:
    """P(poor in ``year``) for each row of ``state`` (taken at the start of ``first_month``).

    Each draw re-runs months ``first_month``..12 of the world with ``settings`` with its own
    county shocks (disasters, lockdowns, droughts) and household luck. Chunks of households
    get their own child seed, so the result depends only on the inputs and ``seed_sequence``,
    not on ``executor`` (which may run chunks in other processes).
    """
    n = len(state)
    per_chunk = max(1, ROWS_PER_CHUNK // n_draws)
    starts = list(range(0, n, per_chunk))
    children = seed_sequence.spawn(len(starts))
    chunks = [state.take(np.arange(start, min(start + per_chunk, n))) for start in starts]
    jobs = [
        (chunk, year, first_month, n_draws, child, n_counties, settings)
        for chunk, child in zip(chunks, children, strict=True)
    ]
    if executor is None:
        results = [_chunk_probability(*job) for job in jobs]
    else:
        results = list(executor.map(_chunk_probability, *zip(*jobs, strict=True)))
    return np.concatenate(results) if results else np.empty(0)


def _chunk_probability(
    state: WorldState,
    year: int,
    first_month: int,
    n_draws: int,
    seed: np.random.SeedSequence,
    n_counties: int,
    settings: SimulateConfig,
) -> np.ndarray:
    n = len(state)
    copies = state.take(np.repeat(np.arange(n), n_draws))
    copies.world = np.tile(np.arange(n_draws, dtype=np.int32), n)
    end = run_months(
        copies,
        year,
        first_month,
        12,
        np.random.default_rng(seed),
        n_counties=n_counties,
        n_worlds=n_draws,
        settings=settings,
    )
    poor = end.per_capita_net() < LINES[year]
    return poor.reshape(n, n_draws).mean(axis=1)
