from dataclasses import replace

from earlywarn.jobs.audit import RunRecord, append_record, audited, read_records, unfinished_runs


def record(command: str) -> RunRecord:
    return RunRecord(
        command=command,
        status="ok",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00",
        inputs={"households": "abc"},
    )


def test_records_are_appended_never_rewritten(tmp_path):
    log = tmp_path / "runs.jsonl"
    append_record(record("score"), log)
    first = log.read_bytes()
    append_record(record("report"), log)
    assert log.read_bytes().startswith(first)
    assert [r["command"] for r in read_records(log)] == ["score", "report"]
    assert read_records(log)[0]["inputs"] == {"households": "abc"}
    assert read_records(log)[0]["user"]


def test_log_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EARLYWARN_AUDIT_LOG", str(tmp_path / "elsewhere.jsonl"))
    append_record(record("train"))
    assert (tmp_path / "elsewhere.jsonl").exists()
    assert read_records(tmp_path / "missing.jsonl") == []


def test_a_job_leaves_its_start_even_if_it_never_ends(tmp_path):
    log = tmp_path / "runs.jsonl"
    with audited("score", path=log):
        started = read_records(log)
        assert [(r["command"], r["status"]) for r in started] == [("score", "started")]
        assert unfinished_runs(started) == started
    records = read_records(log)
    assert [r["status"] for r in records] == ["started", "ok"]
    assert records[0]["run_id"] == records[1]["run_id"] and records[0]["run_id"]
    assert unfinished_runs(records) == []


def test_runs_command_calls_out_a_run_that_never_ended(tmp_path):
    from typer.testing import CliRunner

    from earlywarn.cli import app

    log = tmp_path / "runs.jsonl"
    with audited("report", path=log):
        pass
    append_record(replace(record("score"), status="started", run_id="killed"), log)
    with log.open("a") as handle:
        handle.write('{"command": "train", "status": "ok"')  # torn by a crash mid-write
    result = CliRunner().invoke(app, ["runs", "--log", str(log)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 of 2 runs" in result.output
    assert "did not finish" in result.output and "report" in result.output
