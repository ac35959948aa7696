"""Average precision as scikit-learn counts it, with row weights, and on bootstrap resamples
of households: the figures and standard errors the model choice rests on.

Resampling is by household (all rows of a household drawn together, since its as-of rows
share one label) and paired (the same resamples for every score), so the standard error of a
difference between two scores reflects how much their ranking of the same households could
change by chance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

N_BOOTSTRAP = 200


def average_precision(
    labels: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Average precision of ``scores`` (higher = more likely poor), rows weighted by
    ``weights`` (default 1); ties share one threshold, as scikit-learn counts them. NaN
    without a weighted positive."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="mergesort")
    return _sorted_average_precision(
        np.asarray(labels, dtype=float)[order],
        np.ones(len(order)) if weights is None else np.asarray(weights, dtype=float)[order],
        _last_of_ties(np.asarray(scores, dtype=float)[order]),
    )


def _last_of_ties(sorted_scores: np.ndarray) -> np.ndarray:
    """Positions (in score order) where a run of equal scores ends."""
    return np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])


def _sorted_average_precision(labels: np.ndarray, weights: np.ndarray, ends: np.ndarray) -> float:
    true_positives = np.cumsum(weights * labels)[ends]
    flagged = np.cumsum(weights)[ends]
    if len(true_positives) == 0 or true_positives[-1] <= 0:
        return float("nan")
    precision = np.divide(true_positives, flagged, out=np.zeros_like(flagged), where=flagged > 0)
    recall_step = np.diff(true_positives, prepend=0.0) / true_positives[-1]
    return float(np.sum(recall_step * precision))


def bootstrap_average_precision(
    labels: np.ndarray,
    scores: Mapping[str, np.ndarray],
    households: np.ndarray,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Average precision of each score on ``n_bootstrap`` resamples of the households (all
    rows of a household drawn together; the same resamples for every score, so differences
    are paired); NaN for a resample without a poor row."""
    codes, uniques = pd.factorize(np.asarray(households))
    n_households = len(uniques)
    counts = np.stack(
        [
            np.bincount(rng.integers(0, n_households, n_households), minlength=n_households)
            for _ in range(n_bootstrap)
        ]
    ).astype("float64")
    result = {}
    for name, score in scores.items():
        order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
        sorted_labels, sorted_codes = np.asarray(labels, dtype=float)[order], codes[order]
        ends = _last_of_ties(np.asarray(score, dtype=float)[order])
        result[name] = np.array(
            [_sorted_average_precision(sorted_labels, draw[sorted_codes], ends) for draw in counts]
        )
    return result


def gap_standard_error(best: np.ndarray, other: np.ndarray) -> float:
    """Standard deviation of the paired differences over the resamples where both are known;
    infinite with fewer than two (no evidence that either is better)."""
    gaps = best - other
    gaps = gaps[np.isfinite(gaps)]
    return float(np.std(gaps, ddof=1)) if len(gaps) >= 2 else float("inf")
