"""The audit trail: an append-only JSON-lines log of every job (who, when, what, which inputs
and outputs), so that afterwards anyone can see which data and model produced a list.

Each job appends two lines with one ``run_id``: ``status="started"`` when it begins and
``ok`` or ``failed`` when it ends, so a job killed outright (SIGKILL, power cut) still leaves
its start behind (:func:`unfinished_runs`). Records carry fingerprints, paths, counts and
versions only: never a data row, never personal data.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from earlywarn import __version__
from earlywarn.data.directory import SUFFIXES
from earlywarn.data.partitioned import (
    dataset_fingerprints,
    is_url,
    location_text,
    url_file_fingerprints,
)
from earlywarn.data.storage import folder_digest, sha256_file

log = logging.getLogger(__name__)

AUDIT_LOG_ENV = "EARLYWARN_AUDIT_LOG"
DEFAULT_AUDIT_LOG = Path("earlywarn-runs.jsonl")


@dataclass(frozen=True)
class RunRecord:
    """One job as the audit log keeps it."""

    command: str
    status: str
    started_at: str
    finished_at: str
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    user: str = ""
    host: str = ""
    earlywarn_version: str = __version__
    run_id: str = ""
    pid: int = field(default_factory=os.getpid)


def audit_log_path() -> Path:
    """Where run records go: ``$EARLYWARN_AUDIT_LOG`` or ``earlywarn-runs.jsonl`` here."""
    return Path(os.environ.get(AUDIT_LOG_ENV, DEFAULT_AUDIT_LOG))


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def append_record(record: RunRecord, path: Path | None = None) -> Path:
    """Append one record as a single line; earlier lines are never rewritten."""
    path = Path(path or audit_log_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = asdict(record)
    payload["user"] = payload["user"] or current_user()
    payload["host"] = payload["host"] or socket.gethostname()
    line = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_records(path: Path | None = None) -> list[dict[str, Any]]:
    """All records in the log, oldest first (an absent log is empty)."""
    path = Path(path or audit_log_path())
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line torn by a crash mid-write
                log.warning("audit log %s, line %d: not a JSON record; skipped", path, number)
    return records


def unfinished_runs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``started`` records with no end record: jobs killed outright, or still running."""
    ended = {r.get("run_id") for r in records if r.get("status") != "started"}
    return [r for r in records if r.get("status") == "started" and r.get("run_id") not in ended]


def table_fingerprints(data_dir: Path | str | None) -> dict[str, str]:
    """SHA-256 of each table file in a data directory, and of each partitioned table's
    dataset folder (``{}`` if it is not a directory); at an fsspec URL, read through its
    filesystem."""
    if data_dir is not None and is_url(data_dir):
        url = str(data_dir)
        return url_file_fingerprints(url, SUFFIXES) | dataset_fingerprints(url)
    if data_dir is None or not Path(data_dir).is_dir():
        return {}
    files = {
        path.name: sha256_file(path)
        for path in sorted(Path(data_dir).iterdir())
        if path.is_file() and path.suffix.lower() in SUFFIXES
    }
    return files | dataset_fingerprints(Path(data_dir))


def output_digest(path: Path | str) -> str:
    """SHA-256 of an output file; for a folder, of its files' relative paths and hashes."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        return folder_digest(path, sorted(p for p in path.rglob("*") if p.is_file()))
    return "absent"


@dataclass
class AuditEntry:
    """What a running job tells the audit log: inputs, outputs (paths), details.

    Only fingerprints, paths, counts, versions and hashes belong here: never a data row.
    """

    inputs: dict[str, str] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add_outputs(self, *paths: Path | str | None) -> None:
        self.outputs.extend(Path(p).resolve() for p in paths if p is not None)


@contextmanager
def audited(
    command: str,
    *,
    data_dir: Path | str | None = None,
    details: dict[str, Any] | None = None,
    path: Path | None = None,
) -> Iterator[AuditEntry]:
    """Append one :class:`RunRecord` for the job run in the block, whether it succeeds or not.

    ``data_dir``'s table files are fingerprinted before the job starts; the block adds its
    outputs (hashed once it finishes), model version, config hash and the like to the
    yielded entry. A failed job is recorded with ``status="failed"`` and the error's type
    only (messages can quote input values). The exception is re-raised unchanged.
    """
    entry = AuditEntry(inputs=table_fingerprints(data_dir), details=dict(details or {}))
    if data_dir is not None:
        entry.details.setdefault("data_dir", location_text(data_dir))
    started = now_utc()
    run_id = uuid.uuid4().hex
    _append_quietly(
        RunRecord(
            command=command,
            status="started",
            started_at=started,
            finished_at="",
            inputs=entry.inputs,
            details=entry.details,
            run_id=run_id,
        ),
        path,
    )
    status = "failed"
    try:
        yield entry
        status = "ok"
    except BaseException as err:
        entry.details["error"] = type(err).__name__
        raise
    finally:
        outputs = {str(p): output_digest(p) for p in entry.outputs}
        record = RunRecord(
            command=command,
            status=status,
            started_at=started,
            finished_at=now_utc(),
            inputs=entry.inputs,
            outputs=outputs,
            details=entry.details,
            run_id=run_id,
        )
        _append_quietly(record, path)


def _append_quietly(record: RunRecord, path: Path | None) -> None:
    try:
        append_record(record, path)
    except OSError as err:  # the job's own result matters more than its log line
        log.error("could not append to the audit log %s: %s", path or audit_log_path(), err)
