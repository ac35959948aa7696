"""The score history: every scoring run's risks and flags, kept so the next run can say who is
newly flagged and whose risk doubled.

A folder per run, ``<history>/as_of=<YYYY-MM-DD>/model_version=<version>/``, holds
``scores.parquet`` (household_id, as_of, risk, flagged, model_version) and ``run.json`` (as_of,
model_version, created_at, n_households). A later run of the same date and model version
replaces it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from earlywarn.data.columns import AS_OF, FLAGGED, HOUSEHOLD_ID, MODEL_VERSION, RISK
from earlywarn.data.storage import write_json_atomic, write_parquet_atomic
from earlywarn.scoring.scores_file import (
    NEWLY_FLAGGED,
    PREVIOUS_AS_OF,
    PREVIOUS_RISK,
    RISK_DOUBLED,
)

KEPT_COLUMNS = (HOUSEHOLD_ID, AS_OF, RISK, FLAGGED, MODEL_VERSION)


def previous_run(history_dir: Path, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """The kept scores of the last run before ``as_of`` (latest date, then latest created),
    or None when the history holds none (or does not exist yet)."""
    runs = []
    for meta_path in Path(history_dir).glob("as_of=*/model_version=*/run.json"):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if pd.Timestamp(meta["as_of"]) < as_of:
            runs.append((pd.Timestamp(meta["as_of"]), meta["created_at"], meta_path.parent))
    if not runs:
        return None
    _, _, folder = max(runs)
    return pd.read_parquet(folder / "scores.parquet")


def append_run(
    history_dir: Path,
    scores: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    model_version: str,
    created_at: str,
) -> Path:
    """Keep this run's scores in the history; returns its folder."""
    safe_version = re.sub(r"[^A-Za-z0-9_.@-]", "_", model_version)
    folder = Path(history_dir) / f"as_of={as_of.date().isoformat()}"
    folder = folder / f"model_version={safe_version}"
    kept = scores.loc[:, list(KEPT_COLUMNS)]
    write_parquet_atomic(kept, folder / "scores.parquet", index=False)
    write_json_atomic(
        {
            "as_of": as_of.date().isoformat(),
            "model_version": model_version,
            "created_at": created_at,
            "n_households": len(kept),
        },
        folder / "run.json",
    )
    return folder


def compare_with_previous(scores: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Scores with the household's last earlier run called out.

    ``previous``: household_id, as_of, risk, flagged of the last run before this one (or
    None). Adds ``previous_as_of``, ``previous_risk``, ``newly_flagged`` (flagged now, not
    then; a household new to the list counts) and ``risk_doubled`` (risk at least twice the
    previous one).
    """
    out = scores.copy()
    if previous is None or previous.empty:
        out[PREVIOUS_AS_OF] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ms]")
        out[PREVIOUS_RISK] = np.nan
        out[NEWLY_FLAGGED] = out[FLAGGED].astype(bool)
        out[RISK_DOUBLED] = False
        return out
    before = previous.set_index(HOUSEHOLD_ID).reindex(out[HOUSEHOLD_ID].to_numpy())
    out[PREVIOUS_AS_OF] = before[AS_OF].astype("datetime64[ms]").to_numpy()
    out[PREVIOUS_RISK] = before[RISK].astype("float64").to_numpy()
    was_flagged = before[FLAGGED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    out[NEWLY_FLAGGED] = out[FLAGGED].to_numpy(dtype=bool) & ~was_flagged
    doubled = out[RISK].to_numpy() >= 2.0 * out[PREVIOUS_RISK].to_numpy()
    out[RISK_DOUBLED] = np.where(np.isnan(out[PREVIOUS_RISK].to_numpy()), False, doubled)
    out[RISK_DOUBLED] = out[RISK_DOUBLED].astype(bool)
    return out
