"""A long command killed part-way (SIGKILL) leaves at its target either nothing or the
previous complete output, and the same command run again succeeds. (Scoring has its own
kill-and-resume test in test_score_pipeline.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from earlywarn.config import Config
from earlywarn.data.directory import write_tables
from earlywarn.jobs.audit import output_digest, read_records, unfinished_runs
from earlywarn.jobs.score import run_scoring
from earlywarn.model.model_file import load_model, save_model

pytestmark = pytest.mark.slow

EARLYWARN = str(Path(sys.executable).parent / "earlywarn")


def kill_when(
    command: list[str],
    ready: Callable[[], bool],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 90,
) -> None:
    """Start ``command``, SIGKILL it as soon as ``ready()`` holds; it must still be running."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never reached the kill point"
            time.sleep(0.02)
        assert process.poll() is None, "the command finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def run(command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


def test_train_killed_leaves_no_model_or_the_previous_one(simulation, tmp_path):
    data = tmp_path / "data"
    write_tables(simulation.tables, data)
    config = tmp_path / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tune": {"n_trials": 2, "num_threads": 1, "seed": 0},
                "train": {"max_boost_rounds": 40, "early_stopping_rounds": 10, "n_valid_years": 1},
                "tracking": {"experiment": "kill", "registered_model": "earlywarn-kill"},
            }
        )
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "OMP_WAIT_POLICY": "passive",
    }
    out = tmp_path / "models" / "run"
    command = [
        EARLYWARN,
        "train",
        "--data",
        str(data),
        "--config",
        str(config),
        "--trials",
        "2",
        "--out",
        str(out),
    ]
    study = out.parent / "tuning.sqlite3"

    kill_when(command, study.exists, cwd=tmp_path, env=env)  # killed while tuning
    assert not out.exists()

    run(command, cwd=tmp_path, env=env)  # the rerun finishes (and resumes the study)
    first = load_model(out)  # hash-checked: complete
    before = output_digest(out)

    again = [*command[:-4], "--trials", "3", "--out", str(out)]
    trials_done = study.stat().st_mtime_ns
    kill_when(again, lambda: study.stat().st_mtime_ns != trials_done, cwd=tmp_path, env=env)
    assert output_digest(out) == before  # the previous complete model, untouched
    assert load_model(out).version == first.version


def test_report_killed_leaves_no_reports_or_the_previous_ones(tables, tiny_model, tmp_path):
    data = tmp_path / "data"
    write_tables(tables, data)
    model_dir = save_model(tiny_model, tmp_path / "model")
    scores = run_scoring(
        Config(),
        data,
        "2024-03-01",
        model_dir,
        tmp_path / "scores.parquet",
        progress=False,
        explain="flagged",
    ).out
    out = tmp_path / "reports"
    command = [
        EARLYWARN,
        "report",
        "--scores",
        str(scores),
        "--data",
        str(data),
        "--out",
        str(out),
        "--lang",
        "en",
    ]
    runs = tmp_path / "runs.jsonl"
    env = {**os.environ, "EARLYWARN_AUDIT_LOG": str(runs)}

    def staging() -> bool:  # the reports are being written beside their target
        return any(tmp_path.glob(".reports.*.tmp/reports"))

    kill_when([*command, "--pdf"], staging, cwd=tmp_path, env=env)
    assert not out.exists()
    killed = unfinished_runs(read_records(runs))  # the audit log still shows it began
    assert [r["command"] for r in killed] == ["report"]

    run(command, cwd=tmp_path, env=env)
    assert (out / "index.html").is_file()
    assert unfinished_runs(read_records(runs)) == killed
    assert [r["status"] for r in read_records(runs)] == ["started", "started", "ok"]
    before = output_digest(out)

    kill_when([*command, "--pdf"], staging, cwd=tmp_path, env=env)
    assert output_digest(out) == before
    run(command, cwd=tmp_path, env=env)
    assert (out / "index.html").is_file()
