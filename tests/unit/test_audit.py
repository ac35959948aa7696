from earlywarn.audit import RunRecord, append_record, read_records


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
