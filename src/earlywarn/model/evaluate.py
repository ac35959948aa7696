"""How good a risk score is: ranking, probability, capacity, by month and by subgroup.

Metrics are computed here (not by MLflow): ROC-AUC, average precision, Brier score,
expected calibration error (equal-width bins, weighted by bin size) and recall/precision
among the households the policy flags. A group with only one class has no ROC-AUC or
average precision (NaN), never an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    ETHNIC_MINORITY,
    HEAD_SEX,
    HOUSEHOLD_ID,
    N_DISABLED,
    TARGET_YEAR,
    YEAR,
)
from earlywarn.data.tables import Tables

HAS_DISABLED = "has_disabled_member"
SUBGROUPS = (COUNTY, HEAD_SEX, ETHNIC_MINORITY, HAS_DISABLED)
METRIC_NAMES = (
    "roc_auc",
    "average_precision",
    "brier",
    "ece",
    "recall_at_capacity",
    "precision_at_capacity",
)


def expected_calibration_error(y: np.ndarray, risk: np.ndarray, *, n_bins: int = 10) -> float:
    """Mean |observed rate - mean risk| over equal-width risk bins, weighted by bin size."""
    table = reliability_table(y, risk, n_bins=n_bins)
    if table["n"].sum() == 0:
        return float("nan")
    gap = (table["observed_rate"] - table["mean_risk"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def reliability_table(y: np.ndarray, risk: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """One row per non-empty risk bin: bounds, n, mean predicted risk, observed poor rate."""
    labels = np.asarray(y, dtype=float)
    scores = np.asarray(risk, dtype=float)
    keep = ~np.isnan(scores) & ~np.isnan(labels)
    labels, scores = labels[keep], scores[keep]
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "risk": scores, "poor": labels})
    table = (
        frame.groupby("bin")
        .agg(n=("poor", "size"), mean_risk=("risk", "mean"), observed_rate=("poor", "mean"))
        .reset_index()
    )
    table["lower"] = edges[table["bin"].to_numpy()]
    table["upper"] = edges[table["bin"].to_numpy() + 1]
    return table[["bin", "lower", "upper", "n", "mean_risk", "observed_rate"]]


def score_metrics(
    y: np.ndarray,
    risk: np.ndarray,
    flagged: np.ndarray | None = None,
    *,
    probabilistic: bool = True,
) -> dict[str, float]:
    """Metrics of one score on one set of examples (``flagged``: the policy's flags).

    ``probabilistic=False`` (a rule's 0/1 flags) leaves Brier and ECE out (NaN).
    """
    labels = np.asarray(y, dtype=float)
    scores = np.asarray(risk, dtype=float)
    keep = ~np.isnan(scores) & ~np.isnan(labels)
    labels, scores = labels[keep], scores[keep]
    two_classes = len(np.unique(labels)) == 2
    result = {
        "n": float(len(labels)),
        "base_rate": float(labels.mean()) if len(labels) else float("nan"),
        "roc_auc": float(roc_auc_score(labels, scores)) if two_classes else float("nan"),
        "average_precision": (
            float(average_precision_score(labels, scores)) if two_classes else float("nan")
        ),
        "brier": (
            float(brier_score_loss(labels, scores))
            if probabilistic and len(labels)
            else float("nan")
        ),
        "ece": (
            expected_calibration_error(labels, scores)
            if probabilistic and len(labels)
            else float("nan")
        ),
    }
    if flagged is not None:
        flags = np.asarray(flagged, dtype=bool)[keep]
        hits = float((flags & (labels == 1)).sum())
        result["n_flagged"] = float(flags.sum())
        result["recall_at_capacity"] = hits / labels.sum() if labels.sum() else float("nan")
        result["precision_at_capacity"] = hits / flags.sum() if flags.sum() else float("nan")
    return result


def metrics_by(
    frame: pd.DataFrame,
    by: str,
    *,
    label: str,
    risk: str,
    flagged: str | None = None,
    probabilistic: bool = True,
) -> pd.DataFrame:
    """:func:`score_metrics` for each value of column ``by`` (one row per group)."""
    rows = []
    for value, group in frame.groupby(by, observed=True, dropna=False, sort=True):
        metrics = score_metrics(
            group[label].to_numpy(dtype=float),
            group[risk].to_numpy(dtype=float),
            group[flagged].to_numpy() if flagged else None,
            probabilistic=probabilistic,
        )
        rows.append({"group": by, "value": "missing" if pd.isna(value) else str(value), **metrics})
    return pd.DataFrame(rows)


def subgroup_attributes(tables: Tables, keys: pd.DataFrame) -> pd.DataFrame:
    """County, head's sex, ethnic minority and disability for each example row of ``keys``.

    ``has_disabled_member``: n_disabled > 0 in the last survey round before the target year
    (what was known at the as-of date); unknown if that round has no count.
    """
    households = tables.households.set_index(HOUSEHOLD_ID)
    ids = keys[HOUSEHOLD_ID].astype(str)
    out = pd.DataFrame(index=keys.index)
    out[COUNTY] = households[COUNTY].reindex(ids).to_numpy()
    out[HEAD_SEX] = households[HEAD_SEX].reindex(ids).to_numpy()
    out[ETHNIC_MINORITY] = households[ETHNIC_MINORITY].reindex(ids).to_numpy()
    years = tables.household_years[[HOUSEHOLD_ID, YEAR, N_DISABLED]].copy()
    years[HOUSEHOLD_ID] = years[HOUSEHOLD_ID].astype(str)
    lookup = pd.DataFrame(
        {
            HOUSEHOLD_ID: ids.to_numpy(),
            "_round": keys[TARGET_YEAR].to_numpy(dtype="int64") - 1,
            "_row": np.arange(len(keys)),
        }
    )
    years = years.sort_values(YEAR).rename(columns={YEAR: "_round"})
    years["_round"] = years["_round"].astype("int64")
    merged = pd.merge_asof(
        lookup.sort_values("_round"), years, on="_round", by=HOUSEHOLD_ID, direction="backward"
    ).sort_values("_row")
    disabled = pd.to_numeric(merged[N_DISABLED], errors="coerce").to_numpy(dtype=float)
    out[HAS_DISABLED] = pd.array(np.where(np.isnan(disabled), None, disabled > 0), dtype="boolean")
    return out


def subgroup_table(
    frame: pd.DataFrame,
    *,
    label: str,
    risk: str,
    flagged: str | None = None,
    groups: Sequence[str] = SUBGROUPS,
) -> pd.DataFrame:
    """Metrics for every value of every subgroup column (rows: group, value, metrics)."""
    parts = [
        metrics_by(frame, group, label=label, risk=risk, flagged=flagged)
        for group in groups
        if group in frame.columns
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def subgroup_gaps(
    table: pd.DataFrame,
    *,
    min_n: int = 100,
    min_positive: int = 10,
    metrics: Sequence[str] = ("average_precision", "roc_auc", "recall_at_capacity", "ece"),
) -> pd.DataFrame:
    """Per subgroup column: the spread (max - min) of each metric over its known groups
    ("missing" left out) with at least ``min_n`` examples and ``min_positive`` poor ones."""
    rows = []
    for group, part in table.groupby("group", sort=False):
        positives = part["n"] * part["base_rate"]
        part = part[
            (part["n"] >= min_n) & (positives >= min_positive) & (part["value"] != "missing")
        ]
        row: dict[str, object] = {"group": group, "n_groups": len(part)}
        for metric in metrics:
            if metric in part.columns and part[metric].notna().sum() >= 2:
                row[f"{metric}_gap"] = float(part[metric].max() - part[metric].min())
            else:
                row[f"{metric}_gap"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def by_month(
    frame: pd.DataFrame, *, label: str, risk: str, flagged: str | None = None
) -> pd.DataFrame:
    """Metrics per as-of month (shocks of the current year are known later in the year)."""
    months = frame.assign(as_of_month=pd.to_datetime(frame[AS_OF]).dt.strftime("%m"))
    return metrics_by(months, "as_of_month", label=label, risk=risk, flagged=flagged)


def compare(
    labels: np.ndarray,
    scores: dict[str, np.ndarray],
    flagged: dict[str, np.ndarray],
    *,
    probabilistic: Sequence[str] = (),
) -> pd.DataFrame:
    """Side-by-side metrics, one row per score (``name``), on the same examples.

    A score with NaN rows (an oracle known only at some dates) is measured on its known rows;
    ``n`` says how many. Only names in ``probabilistic`` get Brier and ECE.
    """
    rows = []
    for name, score in scores.items():
        metrics = score_metrics(
            labels, score, flagged.get(name), probabilistic=name in probabilistic
        )
        rows.append({"model": name, **metrics})
    columns = [
        "model",
        *METRIC_NAMES,
        "n_flagged",
        "n",
        "base_rate",
    ]
    table = pd.DataFrame(rows)
    return table.reindex(columns=[c for c in columns if c in table.columns])
