"""The work directory of a scoring run: each finished chunk kept beside the output, so a rerun
after a kill picks up where it stopped.

The folder ``.<out name>.work-<key>`` sits beside the scores file; ``<key>`` hashes everything
the chunks depend on (date, population, arguments, input fingerprints, model, glossary, code
version), so a rerun with other inputs never reuses a chunk. Pass 1 keeps
``chunk-NNNNN.parquet`` (index household_id: risk, reasons with explain all, the model's
prepared features; the chunk's drift counts in the file's metadata); pass 2 keeps
``reasons-NNNNN.parquet`` (household_id, reasons of the flagged). Reasons are stored as JSON
text. When Dask workers score partitions of the data, a chunk is a partition and its worker
also keeps ``households-``, ``villages-`` and ``status-NNNNN.parquet`` (:meth:`write_part`),
written before the chunk file, which marks the partition done; with ``--out-dataset`` the
workers stage the scores dataset in ``dataset/`` (``dataset-NNNNN.done`` marks a task's
counties written) until the client moves it into place. Files are written atomically:
a chunk is there whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from earlywarn.data.columns import HOUSEHOLD_ID, REASONS, RISK
from earlywarn.data.storage import atomic_path, write_parquet_atomic
from earlywarn.errors import OutputError
from earlywarn.scoring.scores_file import REASON_TYPE

DRIFT_COUNTS_KEY = b"earlywarn.drift_counts"
FACTS_KEY = b"earlywarn.facts"


def run_key(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of what a run's chunks depend on (JSON, keys sorted)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


class WorkDir:
    """The finished chunks of one scoring run (see the module docstring)."""

    def __init__(self, out: Path, key: str) -> None:
        self.out = Path(out)
        self.key = key
        self.path = self.out.parent / f".{self.out.name}.work-{key[:16]}"

    @classmethod
    def open(cls, out: Path, key: str) -> WorkDir:
        """The work directory for ``out`` and ``key``, created if new, else an OutputError."""
        work = cls(out, key)
        try:
            work.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot write {out}: {err.strerror or err}") from err
        return work

    def chunk_path(self, i: int) -> Path:
        return self.path / f"chunk-{i:05d}.parquet"

    def reasons_path(self, i: int) -> Path:
        return self.path / f"reasons-{i:05d}.parquet"

    def has_chunk(self, i: int) -> bool:
        return self.chunk_path(i).exists()

    def has_reasons(self, i: int) -> bool:
        return self.reasons_path(i).exists()

    def write_chunk(self, i: int, frame: pd.DataFrame, counts: Mapping[str, Any]) -> None:
        """Pass 1's result for chunk ``i``: its frame (index household_id) and drift counts."""
        if REASONS in frame.columns:
            frame = frame.assign(**{REASONS: _reasons_to_json(frame[REASONS])})
        _write_with_metadata(frame, self.chunk_path(i), DRIFT_COUNTS_KEY, counts)

    def read_chunk(
        self, i: int, columns: Sequence[str] | None = None
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Chunk ``i``'s frame (index household_id; ``columns`` only, reasons parsed) and its
        drift counts."""
        path = self.chunk_path(i)
        table = pq.read_table(path, columns=None if columns is None else list(columns))
        counts = _read_metadata(path, DRIFT_COUNTS_KEY)
        frame = _by_household(table.to_pandas())
        if REASONS in frame.columns:
            frame[REASONS] = frame[REASONS].map(json.loads)
        return frame, counts

    def read_features(self, i: int, household_ids: Sequence[str]) -> pd.DataFrame:
        """The prepared features of some households of chunk ``i``, in the order asked."""
        table = pq.read_table(self.chunk_path(i), filters=[(HOUSEHOLD_ID, "in", household_ids)])
        features = _by_household(table.to_pandas()).drop(columns=[RISK, REASONS], errors="ignore")
        return features.reindex(list(household_ids))

    def write_reasons(self, i: int, reasons: pd.Series) -> None:
        """Pass 2's result for chunk ``i``: reasons per household (index household_id)."""
        part = pd.DataFrame(
            {
                HOUSEHOLD_ID: reasons.index.astype("str"),
                REASONS: _reasons_to_json(reasons).to_numpy(),
            }
        )
        write_parquet_atomic(part, self.reasons_path(i), index=False)

    def read_reasons(self, n_chunks: int) -> pd.Series:
        """The reasons pass 2 kept, over every chunk (index household_id)."""
        parts = [
            pd.read_parquet(self.reasons_path(i)) for i in range(n_chunks) if self.has_reasons(i)
        ]
        if not parts:
            return pd.Series([], dtype=object)
        return pd.concat(parts).set_index(HOUSEHOLD_ID)[REASONS].map(json.loads)

    def read_reasons_table(self, n_chunks: int) -> pa.Table:
        """The reasons pass 2 kept, over every chunk, as Arrow: household_id, reasons (a list
        of code, text, contribution: the JSON parsed by Arrow, no Python object per reason)."""
        schema = pa.schema([(HOUSEHOLD_ID, pa.string()), (REASONS, pa.list_(REASON_TYPE))])
        parts = [
            pq.read_table(self.reasons_path(i), columns=[HOUSEHOLD_ID, REASONS])
            for i in range(n_chunks)
            if self.has_reasons(i)
        ]
        if not parts:
            return schema.empty_table()
        found = pa.concat_tables(parts)
        text = pa.large_string()  # 64-bit offsets: all the texts may pass 2 GB
        lines = pc.binary_join_element_wise(
            pa.scalar('{"r":', text),
            found[REASONS].combine_chunks().cast(text),
            pa.scalar("}\n", text),
            pa.scalar("", text),
        )
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
        start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
        parsed = pa_json.read_json(
            pa.BufferReader(lines.buffers()[2].slice(start, end - start)),
            parse_options=pa_json.ParseOptions(
                explicit_schema=pa.schema([("r", schema.field(REASONS).type)])
            ),
        )
        return pa.table([found[HOUSEHOLD_ID], parsed["r"]], schema=schema)

    def part_path(self, kind: str, i: int) -> Path:
        return self.path / f"{kind}-{i:05d}.parquet"

    def write_part(
        self, kind: str, i: int, frame: pd.DataFrame, facts: Mapping[str, Any] | None = None
    ) -> None:
        """A frame of partition ``i`` (``kind``: households, villages, status), index kept,
        with small JSON ``facts`` in the file's metadata."""
        _write_with_metadata(frame, self.part_path(kind, i), FACTS_KEY, facts or {})

    def read_part(self, kind: str, i: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        """What :meth:`write_part` kept: the frame and its facts."""
        path = self.part_path(kind, i)
        facts = _read_metadata(path, FACTS_KEY)
        return pq.read_table(path).to_pandas(), facts

    def read_facts(self, kind: str, i: int) -> dict[str, Any]:
        """The facts :meth:`write_part` kept with a frame."""
        return _read_metadata(self.part_path(kind, i), FACTS_KEY)

    def read_part_table(self, kind: str, i: int, columns: Sequence[str]) -> pa.Table:
        """Some ``columns`` of what :meth:`write_part` kept, as Arrow (no Python objects)."""
        return pq.read_table(self.part_path(kind, i), columns=list(columns))

    def has_part(self, kind: str, i: int) -> bool:
        return self.part_path(kind, i).exists()

    def read_reasons_of(self, chunks: Sequence[int], household_ids: Sequence[str]) -> pd.Series:
        """The reasons pass 2 kept for some households (index household_id), read from the
        reasons files of ``chunks`` by a filter on their ids."""
        parts = [
            pq.read_table(
                self.reasons_path(i), filters=[(HOUSEHOLD_ID, "in", list(household_ids))]
            ).to_pandas()
            for i in chunks
            if self.has_reasons(i)
        ]
        if not parts:
            return pd.Series([], dtype=object)
        return pd.concat(parts).set_index(HOUSEHOLD_ID)[REASONS].map(json.loads)

    @property
    def dataset_path(self) -> Path:
        """Where the workers stage the scores dataset (``county=C/part-0.parquet``) until
        the whole run is written."""
        return self.path / "dataset"

    def dataset_done_path(self, i: int) -> Path:
        return self.path / f"dataset-{i:05d}.done"

    def has_dataset_part(self, i: int) -> bool:
        return self.dataset_done_path(i).exists()

    def mark_dataset_part(self, i: int) -> None:
        """Task ``i``'s counties are in the staged dataset (written after their parts)."""
        self.dataset_done_path(i).write_text("", encoding="utf-8")

    @staticmethod
    def remove_all(out: Path) -> None:
        """Remove every work directory of ``out``: this run's, and those older runs with other
        arguments left behind when killed."""
        out = Path(out)
        for stale in out.parent.glob(f".{out.name}.work-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _write_with_metadata(
    frame: pd.DataFrame, path: Path, key: bytes, payload: Mapping[str, Any]
) -> None:
    """``frame`` (index kept) as Parquet at ``path``, atomically, ``payload`` as JSON in the
    file's metadata under ``key``."""
    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), key: json.dumps(payload).encode()}
    )
    with atomic_path(path) as staged:
        pq.write_table(table, staged, compression="lz4")


def _read_metadata(path: Path, key: bytes) -> dict[str, Any]:
    """What :func:`_write_with_metadata` kept under ``key``."""
    return dict(json.loads((pq.read_schema(path).metadata or {})[key]))


def _by_household(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(HOUSEHOLD_ID) if HOUSEHOLD_ID in frame.columns else frame


def _reasons_to_json(reasons: pd.Series) -> pd.Series:
    return reasons.map(lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))
