"""Writing outputs so readers never see half a file, and fingerprints of what was read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from earlywarn.errors import OutputError


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds.

    Works for a file or a directory: whatever the block writes at the yielded path replaces
    ``target`` in one rename. On error the temporary is removed and ``target`` is untouched.
    """
    target = Path(target)
    check_writable(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as err:
        raise OutputError(f"cannot write {target}: {err.strerror or err}") from err
    staged = tmp / target.name
    try:
        yield staged
        if target.is_dir() and not target.is_symlink():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(staged, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_writable(target: Path, *, folder: bool | None = None) -> None:
    """Refuse, before any work and creating nothing, an output ``target`` that could not be
    written: the nearest existing folder above it must be a writable folder, and ``target``,
    if it is there, a folder when ``folder`` is true and a file when it is false."""
    target = Path(target)
    if target.exists() and folder is not None and target.is_dir() != folder:
        kind = "a folder" if target.is_dir() else "a file"
        raise OutputError(
            f"cannot write {target}: it is {kind}; give a new path or "
            f"{'a folder' if folder else 'a file'} to replace"
        )
    above = next((p for p in target.absolute().parents if p.exists()), None)
    if above is None or not above.is_dir():
        raise OutputError(f"cannot write {target}: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: folder {above} is not writable")


def write_parquet_atomic(frame: pd.DataFrame, target: Path, **kwargs: Any) -> None:
    """Write ``frame`` to ``target`` as Parquet, atomically."""
    with atomic_path(target) as staged:
        frame.to_parquet(staged, **kwargs)


def write_text_atomic(text: str, target: Path) -> None:
    """Write UTF-8 ``text`` to ``target``, atomically."""
    with atomic_path(target) as staged:
        staged.write_text(text, encoding="utf-8")


def write_json_atomic(payload: object, target: Path) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    write_text_atomic(json.dumps(payload, indent=2, ensure_ascii=False, default=str), target)


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """A stable SHA-256 of a table's content (row order matters; index is ignored)."""
    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    digest = hashlib.sha256(hashed.to_numpy().tobytes())
    digest.update("|".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def folder_digest(folder: Path, files: Iterable[Path]) -> str:
    """SHA-256 over ``files`` (inside ``folder``, in the order given): each one's path
    relative to ``folder`` and its SHA-256."""
    return listing_digest(
        (file.relative_to(folder).as_posix(), sha256_file(file)) for file in files
    )


def listing_digest(entries: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over (relative path, SHA-256 of the file) pairs, in the order given: the digest
    of a folder, wherever its files are stored."""
    digest = hashlib.sha256()
    for relative, content in entries:
        digest.update(f"{relative}\0{content}\n".encode())
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return sha256_stream(handle)


def sha256_stream(handle: BinaryIO) -> str:
    """SHA-256 of what a binary file object holds from where it stands."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()
