"""The harness's metrics, on one set of test rows for every score.

ROC-AUC and average precision (AP) rank; recall at 10% is the share of the households that
became poor found among the 10% with the highest score, ties shared out evenly (its
expectation under a random order within ties, so a 0/1 rule gets a fair figure); mean risk
over realised rate says whether a probability is calibrated in level (NaN for scores that
are not probabilities, such as the rule's 0/1 flag).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from earlywarn.data.columns import AS_OF

ALL_DATES = "all"


def recall_at_share(y: np.ndarray, score: np.ndarray, share: float = 0.10) -> float:
    """Expected recall among the top ``share`` of rows by score (ties shared evenly)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    n_positive = y.sum()
    if n_positive == 0 or len(y) == 0:
        return float("nan")
    budget = share * len(y)
    frame = (
        pd.DataFrame({"score": score, "y": y}).groupby("score", sort=True)["y"].agg(["size", "sum"])
    )
    found = 0.0
    for size, positives in frame.iloc[::-1].itertuples(index=False):
        take = min(size, budget)
        found += positives * take / size
        budget -= take
        if budget <= 0:
            break
    return float(found / n_positive)


def score_metrics(y: np.ndarray, score: np.ndarray, *, probability: bool) -> dict[str, float]:
    """ROC-AUC, AP, recall at 10%, mean score / realised rate (probabilities only), n."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    both = len(np.unique(y)) == 2
    rate = y.mean() if len(y) else float("nan")
    return {
        "roc_auc": float(roc_auc_score(y, score)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, score)) if both else float("nan"),
        "recall_at_10pct": recall_at_share(y, score),
        "risk_over_rate": float(score.mean() / rate) if probability and rate > 0 else float("nan"),
        "n": float(len(y)),
        "n_poor": float(y.sum()),
    }


def metrics_table(
    rows: pd.DataFrame, scores: Mapping[str, bool], *, label: str = "label"
) -> pd.DataFrame:
    """One row per score and as-of date (and ``all`` dates pooled): ``scores`` maps each
    score column of ``rows`` to whether it is a probability. A score is measured on the rows
    where it is known (the oracle only exists at some dates; a date without it is left out)."""
    out = []
    groups = [(ALL_DATES, rows)] + [
        (f"{pd.Timestamp(d):%Y-%m-%d}", part) for d, part in rows.groupby(AS_OF, sort=True)
    ]
    for name, probability in scores.items():
        for when, part in groups:
            part = part[part[name].notna()]
            if part.empty:
                continue
            metrics = score_metrics(
                part[label].to_numpy(), part[name].to_numpy(), probability=probability
            )
            out.append({"score": name, AS_OF: when, **metrics})
    return pd.DataFrame(out)
