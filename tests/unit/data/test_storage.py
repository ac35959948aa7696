"""Atomic writes leave a whole file or nothing; outputs that cannot be written are refused
before any work; fingerprints and file hashes are stable and tell contents apart."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from earlywarn.data.storage import (
    atomic_path,
    check_writable,
    fingerprint_frame,
    sha256_file,
    write_json_atomic,
    write_parquet_atomic,
    write_text_atomic,
)
from earlywarn.errors import OutputError


class Interrupted(Exception):
    """Raised inside a write to stand for a crash half-way."""


def _listing(folder: Path) -> list[str]:
    """Every path under ``folder``, hidden ones included, relative and sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --- atomic writes -------------------------------------------------------------------------


def test_a_file_written_atomically_appears_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "scores.txt"
    with atomic_path(target) as staged:
        assert staged != target and not target.exists()
        staged.write_text("all rows", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "all rows"
    assert _listing(tmp_path) == ["out", "out/scores.txt"]


def test_a_failed_write_leaves_the_old_file_untouched_and_no_temporary(tmp_path):
    target = tmp_path / "scores.txt"
    target.write_text("yesterday", encoding="utf-8")
    with pytest.raises(Interrupted), atomic_path(target) as staged:
        staged.write_text("half of tod", encoding="utf-8")
        raise Interrupted
    assert target.read_text(encoding="utf-8") == "yesterday"
    assert _listing(tmp_path) == ["scores.txt"]


def test_a_failed_write_of_a_new_file_leaves_nothing(tmp_path):
    target = tmp_path / "scores.txt"
    with pytest.raises(Interrupted), atomic_path(target) as staged:
        staged.write_text("half", encoding="utf-8")
        raise Interrupted
    assert _listing(tmp_path) == []


def test_a_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "reports"
    target.mkdir()
    (target / "old.html").write_text("old", encoding="utf-8")
    with atomic_path(target) as staged:
        staged.mkdir()
        (staged / "new.html").write_text("new", encoding="utf-8")
    assert _listing(tmp_path) == ["reports", "reports/new.html"]


def test_a_failed_folder_write_leaves_the_old_folder_untouched(tmp_path):
    target = tmp_path / "reports"
    target.mkdir()
    (target / "old.html").write_text("old", encoding="utf-8")
    with pytest.raises(Interrupted), atomic_path(target) as staged:
        staged.mkdir()
        (staged / "new.html").write_text("new", encoding="utf-8")
        raise Interrupted
    assert _listing(tmp_path) == ["reports", "reports/old.html"]
    assert (target / "old.html").read_text(encoding="utf-8") == "old"


def test_an_unwritable_target_is_refused_before_the_block_runs(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("", encoding="utf-8")
    ran = False
    with (
        pytest.raises(OutputError, match="is a file, not a folder"),
        atomic_path(blocker / "scores.txt"),
    ):
        ran = True
    assert not ran
    assert _listing(tmp_path) == ["a_file"]


def test_a_parquet_write_that_fails_midway_leaves_the_old_file(tmp_path):
    target = tmp_path / "scores.parquet"
    write_parquet_atomic(pd.DataFrame({"risk": [0.1, 0.2]}), target, index=False)
    before = target.read_bytes()
    unwritable = pd.DataFrame({"risk": [0.3, object()]})  # pyarrow cannot convert an object
    with pytest.raises(Exception, match="object"):
        write_parquet_atomic(unwritable, target, index=False)
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["scores.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(target), pd.DataFrame({"risk": [0.1, 0.2]}))


def test_text_and_json_are_written_as_utf8(tmp_path):
    write_text_atomic("风险 risk\n", tmp_path / "note.md")
    assert (tmp_path / "note.md").read_bytes() == "风险 risk\n".encode()
    payload = {"county": "县", "as_of": pd.Timestamp("2025-07-01"), "n": 3}
    write_json_atomic(payload, tmp_path / "meta.json")
    text = (tmp_path / "meta.json").read_text(encoding="utf-8")
    assert "县" in text  # not escaped
    assert json.loads(text) == {"county": "县", "as_of": "2025-07-01 00:00:00", "n": 3}


# --- check_writable ------------------------------------------------------------------------


def test_a_new_path_under_a_writable_folder_is_accepted_and_nothing_is_created(tmp_path):
    check_writable(tmp_path / "new" / "deeper" / "scores.parquet", folder=False)
    check_writable(tmp_path / "new_folder", folder=True)
    assert _listing(tmp_path) == []


def test_a_folder_where_a_file_is_asked_for_is_refused(tmp_path):
    (tmp_path / "scores.parquet").mkdir()
    with pytest.raises(OutputError, match="it is a folder; give a new path or a file"):
        check_writable(tmp_path / "scores.parquet", folder=False)


def test_a_file_where_a_folder_is_asked_for_is_refused(tmp_path):
    (tmp_path / "reports").write_text("", encoding="utf-8")
    with pytest.raises(OutputError, match="it is a file; give a new path or a folder"):
        check_writable(tmp_path / "reports", folder=True)


def test_either_kind_is_accepted_when_folder_is_not_given(tmp_path):
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    check_writable(tmp_path / "a_folder")
    check_writable(tmp_path / "a_file")


def test_a_path_below_a_file_is_refused(tmp_path):
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    with pytest.raises(OutputError, match=r"a_file is a file, not a folder"):
        check_writable(tmp_path / "a_file" / "sub" / "scores.parquet")


def test_a_folder_without_write_rights_is_refused(tmp_path, monkeypatch):
    """The rights are asked of the nearest existing folder (faked: tests may run as root)."""
    asked: list[Path] = []

    def no_rights(path: os.PathLike[str] | str, mode: int) -> bool:
        asked.append(Path(path))
        return False

    monkeypatch.setattr(os, "access", no_rights)
    with pytest.raises(OutputError, match=r"folder .* is not writable"):
        check_writable(tmp_path / "new" / "scores.parquet")
    assert asked == [tmp_path.absolute()]


# --- fingerprints and file hashes ----------------------------------------------------------


def test_sha256_file_is_the_sha256_of_the_bytes(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    abc = tmp_path / "abc"
    abc.write_bytes(b"abc")
    big = tmp_path / "big"  # crosses the 1 MiB read blocks
    content = os.urandom((1 << 20) * 2 + 17)
    big.write_bytes(content)
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
    assert sha256_file(abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(big) == hashlib.sha256(content).hexdigest()


def test_fingerprint_frame_ignores_the_index_but_not_order_values_or_names():
    frame = pd.DataFrame({"household_id": ["H1", "H2"], "risk": [0.1, 0.2]})
    fingerprint = fingerprint_frame(frame)
    assert len(fingerprint) == 64
    assert fingerprint_frame(frame.copy()) == fingerprint
    assert fingerprint_frame(frame.set_axis([10, 11])) == fingerprint
    assert fingerprint_frame(frame.iloc[::-1]) != fingerprint
    assert fingerprint_frame(frame.assign(risk=[0.1, 0.3])) != fingerprint
    assert fingerprint_frame(frame.rename(columns={"risk": "score"})) != fingerprint
