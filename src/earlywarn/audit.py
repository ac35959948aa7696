"""The audit trail: an append-only JSON-lines log of every job (who, when, what, which inputs
and outputs), so that afterwards anyone can see which data and model produced a list.

Records carry fingerprints, paths, counts and versions only: never a data row, never
personal data.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from earlywarn import __version__

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
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
