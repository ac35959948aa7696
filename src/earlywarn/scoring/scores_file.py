"""The scores file, in one place: its Arrow schema, writing it, reading it and its metadata."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    REASONS,
    RISK,
    TARGET_YEAR,
    VILLAGE,
)
from earlywarn.data.schema import Problem
from earlywarn.data.storage import (
    atomic_path,
)
from earlywarn.errors import SchemaError
from earlywarn.scoring.score import (
    NEWLY_FLAGGED,
    PREVIOUS_AS_OF,
    PREVIOUS_RISK,
    RANK_IN_VILLAGE,
    RISK_DOUBLED,
)

log = logging.getLogger(__name__)

REQUIRED_SCORE_COLUMNS = (HOUSEHOLD_ID, AS_OF, RISK, FLAGGED, REASONS, MODEL_VERSION)


def _scores_schema(with_history: bool) -> pa.Schema:
    reason = pa.struct(
        [("code", pa.string()), ("text", pa.string()), ("contribution", pa.float64())]
    )
    fields = [
        (HOUSEHOLD_ID, pa.string()),
        (AS_OF, pa.timestamp("ms")),
        (TARGET_YEAR, pa.int64()),
        (COUNTY, pa.string()),
        (VILLAGE, pa.string()),
        (RISK, pa.float64()),
        (RANK_IN_VILLAGE, pa.int64()),
        (FLAGGED, pa.bool_()),
        (REASONS, pa.list_(reason)),
        (MODEL_VERSION, pa.string()),
    ]
    if with_history:
        fields += [
            (PREVIOUS_AS_OF, pa.timestamp("ms")),
            (PREVIOUS_RISK, pa.float64()),
            (NEWLY_FLAGGED, pa.bool_()),
            (RISK_DOUBLED, pa.bool_()),
        ]
    return pa.schema(fields)


def write_scores_parquet(scores: pd.DataFrame, target: Path, *, metadata: dict[str, str]) -> None:
    """Write a scores frame as Parquet, byte for byte the same for the same content.

    Fixed schema, no pandas index, no timestamps: ``metadata`` (model version, config hash,
    input fingerprints) goes into the file's key-value metadata and must be deterministic.
    """
    with_history = PREVIOUS_RISK in scores.columns
    schema = _scores_schema(with_history)
    table = pa.Table.from_pandas(scores.loc[:, schema.names], schema=schema, preserve_index=False)
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


def read_scores(scores_path: Path) -> pd.DataFrame:
    """A scores file (Parquet) with the data contract's columns and values, its rows carrying
    the as_of and model version its metadata records, else a SchemaError."""
    from earlywarn.errors import SchemaError

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


def _recorded_date(text: str, scores_path: Path) -> pd.Timestamp:
    """The as_of a scores file records, else a SchemaError (the file was edited)."""
    from earlywarn.errors import SchemaError

    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError, OverflowError) as err:
        raise SchemaError(
            f"scores file {scores_path} records as_of {text!r}, which is not a date "
            "(YYYY-MM-DD): the file was not written by earlywarn score as it is now"
        ) from err


def read_scores_metadata(scores_path: Path) -> dict[str, Any]:
    """What a scores file records about its inputs: the Parquet key-value metadata, completed
    by ``<scores>.meta.json`` when it is there (data dir, model URI, explain, lang)."""
    from earlywarn.errors import SchemaError

    scores_path = Path(scores_path)
    try:
        kv = pq.read_schema(scores_path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        raise SchemaError(f"scores file {scores_path} is not readable Parquet: {err}") from err
    meta = {k.decode(): v.decode() for k, v in kv.items() if k.startswith(b"earlywarn.")}
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
    sidecar = scores_path.with_name(scores_path.name + ".meta.json")
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
        for key in ("data_dir", "model_uri", "explain", "lang"):
            if key in extra:
                meta.setdefault(key, extra[key])
    return meta


# TEMPORARY copy (helper explain, issue 10): check_scores moved here from explain/report.py;
# the scoring helper's own check_scores replaces it at the merge.


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
    risk = pd.to_numeric(scores[RISK], errors="coerce")
    no_id = _blank(scores[HOUSEHOLD_ID])
    keys = pd.DataFrame({HOUSEHOLD_ID: scores[HOUSEHOLD_ID].astype("string"), AS_OF: as_of})
    # (column, rule, rows breaking it, whether to show the values found)
    checks: list[tuple[str | None, str, pd.Series, bool]] = [
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
    ]
    recorded = recorded or {}
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
