"""The partition path's pure parts: tasks gathered from partitions, the identity check a
worker makes, and the client's report of problems from every partition at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from earlywarn.errors import SchemaError
from earlywarn.scoring.cluster import _households, group_partitions
from earlywarn.scoring.partitions import check_identity, worker_identity
from earlywarn.scoring.runner import ChunkRunner, WorkerMismatch
from earlywarn.scoring.work_dir import WorkDir


def test_partitions_are_gathered_into_tasks_of_about_the_target():
    names = [f"county=C{i}" for i in range(6)]
    groups = group_partitions(names, [10, 10, 10, 50, 5, 5], target=25)
    assert groups == [("county=C0", "county=C1"), ("county=C2",), ("county=C3",),
                      ("county=C4", "county=C5")]  # fmt: skip
    assert [n for g in groups for n in g] == names


def test_a_worker_with_another_earlywarn_refuses_to_work():
    check_identity(worker_identity())
    with pytest.raises(WorkerMismatch, match=r"runs earlywarn .* the client earlywarn 0\.0\.1"):
        check_identity(("0.0.1", "feedbeef"))


def test_the_local_runner_has_no_workers_to_check():
    ChunkRunner("local").check_workers(lambda: ("x", "y"))


def test_every_partition_problem_and_a_household_in_two_partitions_come_at_once(tmp_path: Path):
    work = WorkDir.open(tmp_path / "s.parquet", "k" * 20)
    groups = [("county=A",), ("county=B",), ("county=C",)]
    for i, ids in enumerate([["H1", "H2"], ["H2", "H3"]]):
        frame = pd.DataFrame(
            {"county": "x", "village": "v"}, index=pd.Index(ids, name="household_id")
        )
        work.write_part("households", i, frame, {"rule_applies": True, "has_cycle": False})
        work.write_chunk(i, pd.DataFrame({"risk": [0.1] * 2}, index=frame.index), {"n_rows": 2})
    problems = ["county=C: household_years.year, row 3: cannot be read as a whole number"]
    with pytest.raises(SchemaError) as raised:
        _households(work, groups, problems)
    message = str(raised.value)
    assert message.startswith("2 problems in the partitions read by the workers")
    assert "county=C: household_years.year, row 3" in message
    assert "H2 in county=A and county=B" in message


def test_a_partition_above_the_threshold_is_cut_into_slices_of_about_the_target():
    names = [f"county=C{i}" for i in range(4)]
    groups = group_partitions(names, [10, 10, 120, 5], target=25, slice_above=100)
    assert groups == [("county=C0", "county=C1"), *[(f"county=C2#{k}/5",) for k in range(1, 6)],
                      ("county=C3",)]  # fmt: skip
    assert group_partitions(names, [10, 10, 120, 5], target=25) == [
        ("county=C0", "county=C1"),
        ("county=C2",),
        ("county=C3",),
    ]  # fmt: skip  (the default threshold is far above a test county)
