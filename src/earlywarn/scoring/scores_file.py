"""The scores file, in one place: its columns, Arrow schema, writing, reading, metadata and check.

One row is a household of the population as of a date (see :mod:`earlywarn.scoring.score`).
The Parquet file's key-value metadata records what it was made from (``earlywarn.*`` keys:
model version, as_of, population, config hash, input fingerprints, contribution scale);
``<scores>.meta.json`` beside it adds the run's details (data dir, model URI, explain, lang,
reason glossary, counts, timings). The same scores may also be written as a dataset
partitioned by county (``county=C/part-0.parquet``): each
part is a scores file of its own with the whole file's schema, metadata and row order
(:mod:`earlywarn.scoring.dataset_parts`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    RANK_IN_VILLAGE,
    REASONS,
    RISK,
    TARGET_YEAR,
    VILLAGE,
)
from earlywarn.data.problems import Problem
from earlywarn.data.storage import atomic_path, check_writable
from earlywarn.errors import OutputError, SchemaError
from earlywarn.features.monitoring import (
    MONITORED_SINCE,
    MONITORING_CATEGORY,
    MONITORING_EXITED_ON,
    MONITORING_STATUS,
    STATUS_COLUMNS,
    STATUSES,
    VERIFIED_NOT_AT_RISK_ON,
)

PREVIOUS_AS_OF = "previous_as_of"
PREVIOUS_RISK = "previous_risk"
NEWLY_FLAGGED = "newly_flagged"
RISK_DOUBLED = "risk_doubled"
SCORE_COLUMNS = (
    HOUSEHOLD_ID,
    AS_OF,
    TARGET_YEAR,
    COUNTY,
    VILLAGE,
    RISK,
    RANK_IN_VILLAGE,
    FLAGGED,
    REASONS,
    MODEL_VERSION,
)
"""The columns every scores frame has, in file order."""
MONITORING_COLUMNS = STATUS_COLUMNS
"""The monitoring status at as_of (``features.monitoring``), after the score columns when
the run had it."""
HISTORY_COLUMNS = (PREVIOUS_AS_OF, PREVIOUS_RISK, NEWLY_FLAGGED, RISK_DOUBLED)
"""The comparison with the previous run (``scoring.history``), after the score columns."""
REQUIRED_SCORE_COLUMNS = (HOUSEHOLD_ID, AS_OF, RISK, FLAGGED, REASONS, MODEL_VERSION)
"""The columns a scores file must have to be read (reports and explain need no more)."""

REASON_TYPE = pa.struct(
    [("code", pa.string()), ("text", pa.string()), ("contribution", pa.float64())]
)
SIDECAR_KEYS = ("data_dir", "model_uri", "explain", "lang", "glossary", "glossary_sha256")
"""What :func:`read_scores_metadata` takes from ``<scores>.meta.json``."""


def scores_schema(*, with_history: bool, with_monitoring: bool = False) -> pa.Schema:
    """The scores file's Arrow schema (with the monitoring status when the run had it, and
    the history columns when it compared)."""
    fields = [
        (HOUSEHOLD_ID, pa.string()),
        (AS_OF, pa.timestamp("ms")),
        (TARGET_YEAR, pa.int64()),
        (COUNTY, pa.string()),
        (VILLAGE, pa.string()),
        (RISK, pa.float64()),
        (RANK_IN_VILLAGE, pa.int64()),
        (FLAGGED, pa.bool_()),
        (REASONS, pa.list_(REASON_TYPE)),
        (MODEL_VERSION, pa.string()),
    ]
    if with_monitoring:
        fields += [
            (MONITORING_STATUS, pa.string()),
            (MONITORED_SINCE, pa.timestamp("ms")),
            (MONITORING_CATEGORY, pa.string()),
            (MONITORING_EXITED_ON, pa.timestamp("ms")),
            (VERIFIED_NOT_AT_RISK_ON, pa.timestamp("ms")),
        ]
    if with_history:
        fields += [
            (PREVIOUS_AS_OF, pa.timestamp("ms")),
            (PREVIOUS_RISK, pa.float64()),
            (NEWLY_FLAGGED, pa.bool_()),
            (RISK_DOUBLED, pa.bool_()),
        ]
    return pa.schema(fields)


def sidecar_path(scores_path: Path) -> Path:
    """``<scores>.meta.json``: the run's details beside the scores file."""
    scores_path = Path(scores_path)
    return scores_path.with_name(scores_path.name + ".meta.json")


def write_scores_parquet(
    scores: pd.DataFrame,
    target: Path,
    *,
    metadata: dict[str, str],
    reasons: pa.Table | None = None,
) -> None:
    """Write a scores frame as Parquet, byte for byte the same for the same content.

    Fixed schema, no pandas index, no timestamps: ``metadata`` (model version, config hash,
    input fingerprints) goes into the file's key-value metadata and must be deterministic.
    ``reasons``: the explained households' reasons as Arrow (household_id, reasons), taken
    instead of the frame's column (the same file, without a Python object per reason).
    """
    schema = scores_schema(
        with_history=PREVIOUS_RISK in scores.columns,
        with_monitoring=MONITORING_STATUS in scores.columns,
    )
    if reasons is None:
        table = pa.Table.from_pandas(
            scores.loc[:, schema.names], schema=schema, preserve_index=False
        )
    else:
        table = _with_arrow_reasons(scores, schema, reasons)
    kv = {key.encode(): value.encode() for key, value in sorted(metadata.items())}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **kv})
    with atomic_path(Path(target)) as staged:
        pq.write_table(
            table,
            staged,
            compression="zstd",
            row_group_size=1_000_000,
            use_dictionary=[COUNTY, VILLAGE, MODEL_VERSION],
        )


def _with_arrow_reasons(scores: pd.DataFrame, schema: pa.Schema, reasons: pa.Table) -> pa.Table:
    """The table :func:`write_scores_parquet` writes, its reasons column taken from
    ``reasons`` by household id (an empty list for the others); the pandas metadata is the
    one the frame with its reasons as lists would give (it depends on the columns only)."""
    at = schema.get_field_index(REASONS)
    rest = pa.schema([field for field in schema if field.name != REASONS])
    columns = [name for name in schema.names if name != REASONS]
    table = pa.Table.from_pandas(scores.loc[:, columns], schema=rest, preserve_index=False)
    rows = pc.index_in(table[HOUSEHOLD_ID], reasons[HOUSEHOLD_ID])
    found = reasons[REASONS].take(rows)
    column = pc.fill_null(found, pa.scalar([], type=schema.field(REASONS).type))
    table = table.add_column(at, schema.field(REASONS), column)
    empty = scores.loc[:0, columns].iloc[:0].assign(**{REASONS: pd.Series([], dtype=object)})
    like = pa.Table.from_pandas(empty.loc[:, schema.names], schema=schema, preserve_index=False)
    return table.replace_schema_metadata(like.schema.metadata)


def check_dataset_target(folder: Path) -> None:
    """Refuse, before any work, a ``--out-dataset`` folder that holds anything but a scores
    dataset (``county=...`` folders): publishing replaces the folder whole."""
    folder = Path(folder)
    check_writable(folder, folder=True)
    if not folder.is_dir():
        return
    other = sorted(p.name for p in folder.iterdir() if not p.name.startswith(f"{COUNTY}="))
    if other:
        shown = ", ".join(other[:3]) + (", ..." if len(other) > 3 else "")
        raise OutputError(
            f"cannot write the scores dataset {folder}: the folder holds other files ({shown}) "
            "and would be replaced whole; give a new or empty folder, or a scores dataset"
        )


def publish_dataset(staged: Path, folder: Path) -> None:
    """Move the staged dataset (every part written) into ``folder`` in one rename, replacing
    an older dataset there; an empty dataset when nothing was scored."""
    with atomic_path(Path(folder)) as target:
        if Path(staged).is_dir():
            os.replace(staged, target)
        else:
            target.mkdir()


def read_scores(scores_path: Path) -> pd.DataFrame:
    """A scores file (Parquet) with the data contract's columns and values, its rows carrying
    the as_of and model version its metadata records, else a SchemaError."""
    scores_path = Path(scores_path)
    if not scores_path.exists():
        raise SchemaError(f"scores file {scores_path} does not exist")
    if not scores_path.is_file():
        raise SchemaError(f"scores file {scores_path} is a folder, not a Parquet file")
    try:
        scores = pd.read_parquet(scores_path)
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, ValueError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    recorded = {
        column: kv[key].decode("utf-8", errors="replace")
        for column, key in (
            (AS_OF, b"earlywarn.as_of"),
            (MODEL_VERSION, b"earlywarn.model_version"),
        )
        if key in kv
    }
    check_scores(scores, f"the scores file {scores_path}", recorded=recorded)
    return scores


def read_scores_metadata(scores_path: Path) -> dict[str, Any]:
    """What a scores file records about its inputs: the Parquet key-value metadata (input
    fingerprints parsed), completed by ``<scores>.meta.json`` when it is there
    (:data:`SIDECAR_KEYS`), else a SchemaError naming what is missing or unreadable."""
    scores_path = Path(scores_path)
    try:
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    meta: dict[str, Any] = {
        k.decode(): v.decode() for k, v in kv.items() if k.startswith(b"earlywarn.")
    }
    if "earlywarn.input_fingerprints" not in meta:
        raise SchemaError(
            f"scores file {scores_path} records no input fingerprints: it was "
            "not written by earlywarn score, or by a version before the audit "
            "trail"
        )
    try:
        fingerprints = json.loads(meta["earlywarn.input_fingerprints"])
    except json.JSONDecodeError as err:
        fingerprints = err
    if not isinstance(fingerprints, dict):
        raise SchemaError(
            f"scores file {scores_path}: its recorded input fingerprints are not readable "
            "(not a JSON object of file name -> sha256); the file was edited"
        )
    meta["earlywarn.input_fingerprints"] = fingerprints
    if "earlywarn.as_of" not in meta:
        raise SchemaError(f"scores file {scores_path} records no as_of date; the file was edited")
    _recorded_date(meta["earlywarn.as_of"], scores_path)
    sidecar = sidecar_path(scores_path)
    if sidecar.is_file():
        try:
            extra = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            extra = err
        if not isinstance(extra, dict):
            raise SchemaError(
                f"{sidecar} is not readable (not a JSON object); remove it and pass --data "
                "and --model, or restore it"
            )
        for key in SIDECAR_KEYS:
            if key in extra:
                meta.setdefault(key, extra[key])
    return meta


def _recorded_date(text: str, scores_path: Path) -> pd.Timestamp:
    """The as_of a scores file records, else a SchemaError (the file was edited)."""
    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError, OverflowError) as err:
        raise SchemaError(
            f"scores file {scores_path} records as_of {text!r}, which is not a date "
            "(YYYY-MM-DD): the file was not written by earlywarn score as it is now"
        ) from err


# --- the check ---------------------------------------------------------------------------


def check_scores(
    scores: pd.DataFrame,
    source: str = "the scores file",
    *,
    recorded: Mapping[str, str] | None = None,
) -> None:
    """The scores frame has the data contract's columns and values, else a SchemaError naming
    every problem (column, rows, rule): ids present and unique per date, dates, risks from 0
    to 1, flags, lists of reasons and model versions. ``recorded``: the as_of and model_version
    the file's metadata records, which every row must carry."""
    missing = [name for name in REQUIRED_SCORE_COLUMNS if name not in scores.columns]
    if missing:
        rule = f"missing column(s) {', '.join(missing)}"
        hint = f"a scores file needs {', '.join(REQUIRED_SCORE_COLUMNS)}"
        raise SchemaError(_scores_problems([Problem("scores", rule, hint=hint)], source))
    scores = scores.reset_index(drop=True)
    as_of = pd.to_datetime(scores[AS_OF], errors="coerce", format="mixed")
    if as_of.dt.tz is not None:
        as_of = as_of.dt.tz_localize(None)
    checks = _row_checks(scores, as_of) + _recorded_checks(scores, as_of, recorded or {}, source)
    problems = [
        Problem(
            "scores",
            rule,
            column,
            tuple(int(i) + 1 for i in np.flatnonzero(broken.to_numpy(dtype=bool))),
            _shown(scores.loc[broken, column]) if show and column else "",
        )
        for column, rule, broken, show in checks
        if broken.any()
    ]
    if problems:
        raise SchemaError(_scores_problems(problems, source))


_Check = tuple[str | None, str, pd.Series, bool]
"""(column, rule, rows breaking it, whether to show the values found)"""


def _row_checks(scores: pd.DataFrame, as_of: pd.Series) -> list[_Check]:
    risk = pd.to_numeric(scores[RISK], errors="coerce")
    no_id = _blank(scores[HOUSEHOLD_ID])
    keys = pd.DataFrame({HOUSEHOLD_ID: scores[HOUSEHOLD_ID].astype("string"), AS_OF: as_of})
    return [
        (HOUSEHOLD_ID, "must not be empty", no_id, False),
        (AS_OF, "must be a date", as_of.isna(), True),
        (
            None,
            f"({HOUSEHOLD_ID}, {AS_OF}) duplicated",
            keys.duplicated(keep=False) & ~no_id,
            False,
        ),
        (RISK, "must be a probability from 0 to 1", ~risk.between(0.0, 1.0), True),
        (FLAGGED, "must be true or false", ~scores[FLAGGED].map(_is_flag).astype(bool), True),
        (
            REASONS,
            "must be a list of reasons (code, text, contribution)",
            ~scores[REASONS].map(_is_list).astype(bool),
            False,
        ),
        (MODEL_VERSION, "must not be empty", _blank(scores[MODEL_VERSION]), False),
        *_monitoring_checks(scores),
    ]


def _monitoring_checks(scores: pd.DataFrame) -> list[_Check]:
    """The monitoring status, when the file has it, is one of the statuses."""
    if MONITORING_STATUS not in scores.columns:
        return []
    status = scores[MONITORING_STATUS]
    rule = f"must be one of {', '.join(STATUSES)}"
    return [(MONITORING_STATUS, rule, ~status.isin(STATUSES).astype(bool), True)]


def _recorded_checks(
    scores: pd.DataFrame, as_of: pd.Series, recorded: Mapping[str, str], source: str
) -> list[_Check]:
    """Every row carries the as_of and model version the file's metadata records."""
    checks: list[_Check] = []
    day = pd.to_datetime(pd.Series([recorded.get(AS_OF)]), errors="coerce").iloc[0]
    if AS_OF in recorded and pd.isna(day):
        rule = f"the file records as_of {recorded[AS_OF]!r}, which is not a date (YYYY-MM-DD)"
        raise SchemaError(_scores_problems([Problem("scores", rule)], source))
    if AS_OF in recorded:
        day = day.normalize()
        checks.append(
            (
                AS_OF,
                f"must be {day.date()}, the date the file records",
                as_of.notna() & (as_of.dt.normalize() != day),
                True,
            )
        )
    if MODEL_VERSION in recorded:
        other = ~_blank(scores[MODEL_VERSION]) & (
            scores[MODEL_VERSION].astype("string") != recorded[MODEL_VERSION]
        )
        checks.append(
            (
                MODEL_VERSION,
                f"must be {recorded[MODEL_VERSION]!r}, the model the file records",
                other.astype(bool),
                True,
            )
        )
    return checks


def _scores_problems(problems: list[Problem], source: str) -> str:
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{len(problems)} {noun} in {source} (nothing was written)", *map(str, problems)]
    return "\n  ".join(lines)


def _value_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return repr(value) if isinstance(value, str) else str(value)


def _blank(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.isna() | (text == "")


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) or value is None or value is pd.NA


def _is_list(value: Any) -> bool:
    return value is None or isinstance(value, list | tuple | np.ndarray)


def _shown(values: pd.Series) -> str:
    """A few of the values found, as written (a risk, a flag, a date: never personal data)."""
    distinct = list(dict.fromkeys(map(_value_text, values)))
    return ", ".join(distinct[:3]) + (", ..." if len(distinct) > 3 else "")
