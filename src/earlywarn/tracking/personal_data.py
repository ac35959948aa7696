"""Personal data never goes to MLflow: frames, values and files are checked before a run is
logged, and any personal column or resident ID number refuses the whole run."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from earlywarn.data.columns import PERSONAL_COLUMNS
from earlywarn.errors import PersonalDataError

# An 18-character resident ID: region, birth date (19xx/20xx), sequence, check character.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z.])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_TABULAR_SUFFIXES = {".csv", ".tsv", ".parquet"}
_TEXT_SUFFIXES = {".md", ".html", ".htm", ".txt", ".json", ".yaml", ".yml", ".csv", ".tsv"}
_MAX_TEXT_BYTES = 50_000_000


def ensure_no_personal_columns(frame: pd.DataFrame | Sequence[str], what: str) -> None:
    """Refuse a frame (or list of names) that carries a personal column, before it is logged."""
    names = frame.columns if isinstance(frame, pd.DataFrame) else frame
    index_names = list(frame.index.names) if isinstance(frame, pd.DataFrame) else []
    found = sorted({str(n) for n in [*names, *index_names] if str(n).lower() in PERSONAL_COLUMNS})
    if found:
        raise PersonalDataError(
            f"{what} has personal columns {found}; personal data never "
            "goes to MLflow (nothing was logged)"
        )


def ensure_no_personal_values(values: Mapping[str, Any], what: str) -> None:
    """Refuse keys naming a personal column, or a value that looks like a resident ID number."""
    ensure_no_personal_columns([str(k).rsplit(".", 1)[-1] for k in values], what)
    suspicious = sorted(str(k) for k, v in values.items() if _RESIDENT_ID.search(str(v)))
    if suspicious:
        raise PersonalDataError(
            f"{what} {suspicious} look like resident ID numbers; personal "
            "data never goes to MLflow (nothing was logged)"
        )


def ensure_no_personal_files(path: Path, what: str) -> None:
    """Refuse tables with personal columns, or text holding a resident ID number, under ``path``."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        suffix = file.suffix.lower()
        if suffix in _TABULAR_SUFFIXES:
            ensure_no_personal_columns(_table_columns(file), f"{what} ({file.name})")
        if suffix in _TEXT_SUFFIXES and file.stat().st_size <= _MAX_TEXT_BYTES:
            text = file.read_text(encoding="utf-8", errors="replace")
            if _RESIDENT_ID.search(text):
                raise PersonalDataError(
                    f"{what} ({file.name}) contains what looks like a "
                    "resident ID number; personal data never goes to MLflow "
                    "(nothing was logged)"
                )


def _table_columns(file: Path) -> list[str]:
    if file.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(file).names)
    with open(file, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    return [c.strip().strip('"') for c in re.split(r"[,\t;]", header)]
