"""The chunk runner (local and Dask), its progress column and the stage clock."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pandas as pd
import pytest

from earlywarn.scoring.runner import (
    ChunkJob,
    ChunkRunner,
    HouseholdsPerSecond,
    StageClock,
    advance_by_households,
    progress_bar,
)


def total_risk(frame: pd.DataFrame, factor: float, *, offset: float = 0.0) -> float:
    return float(frame["risk"].sum() * factor + offset)


def frames(n: int) -> list[pd.DataFrame]:
    return [pd.DataFrame({"risk": [0.1 * i, 0.2]}) for i in range(n)]


def counted_jobs(n: int, pulled: list[int], factor: object = 2.0):
    """Jobs for ``total_risk``, noting in ``pulled`` each one the runner asks for."""
    for i, frame in enumerate(frames(n)):
        pulled.append(i)
        yield ChunkJob(i, (frame, factor), {"offset": float(i)})


def test_locally_jobs_run_in_order_one_at_a_time():
    pulled: list[int] = []
    with ChunkRunner("local") as runner:
        assert runner.broadcast("model") == "model"
        results = runner.run(total_risk, counted_jobs(4, pulled))
        key, value = next(results)
        assert (key, pulled) == (0, [0])  # the next job is not built before it is needed
        assert value == pytest.approx(0.4)
        rest = list(results)
    assert [key for key, _ in rest] == [1, 2, 3]
    assert [value for _, value in rest] == pytest.approx([1.6, 2.8, 4.0])


@pytest.mark.slow
def test_on_dask_every_job_runs_once_with_a_bounded_window():
    pulled: list[int] = []
    with ChunkRunner("dask", n_workers=1) as runner:
        factor = runner.broadcast(2.0)
        assert not isinstance(factor, float)  # a future: sent once to every worker
        results = runner.run(total_risk, counted_jobs(6, pulled, factor))
        first = next(results)
        assert len(pulled) <= 3  # 2 x one worker in flight, and one more once a job is done
        found = dict([first, *results])
    assert runner.client is None  # closed with the block
    expected = {i: (0.1 * i + 0.2) * 2.0 + i for i in range(6)}
    assert found.keys() == expected.keys()
    assert [found[i] for i in range(6)] == pytest.approx([expected[i] for i in range(6)])


def test_households_per_second_column():
    column = HouseholdsPerSecond()
    assert column.render(SimpleNamespace(finished_speed=None, speed=None)).plain == (
        "- households/s"
    )
    assert column.render(SimpleNamespace(finished_speed=None, speed=12345.6)).plain == (
        "12,346 households/s"
    )


def test_the_advance_callback_counts_households():
    with progress_bar(False) as bar:
        task = bar.add_task("features + risk", total=100)
        advance = advance_by_households(bar, task)
        advance(40)
        advance(25)
        assert bar.tasks[0].completed == 65


def test_the_stage_clock_adds_up_laps_of_the_same_stage():
    clock = StageClock()
    time.sleep(0.01)
    clock.lap("read")
    time.sleep(0.01)
    clock.lap("risk")
    time.sleep(0.01)
    clock.lap("read")
    assert list(clock.seconds) == ["read", "risk"]
    assert clock.seconds["read"] >= 0.02 and clock.seconds["risk"] >= 0.01
    assert clock.total() >= sum(clock.seconds.values()) - 0.002
