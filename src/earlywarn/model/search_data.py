"""What every tuning trial trains and validates on, binned once, and the trial's
cross-validation over it.

Turning the fitting examples into LightGBM's histogram bins costs about as much as a short
trial, and ``lgb.cv`` does it again in every trial. Here the fitting examples are binned once
per search (bin edges from the feature values of all fitting rows, as ``lgb.cv`` does; labels
play no part) and each fold's training and validation rows are subsets sharing those bins, so
trials differ only in booster parameters. :func:`cross_validate` trains the folds in lockstep,
one tree each per round, and averages their validation scores round by round: the same curve,
early stopping and pruning steps as ``lgb.cv``.

The folds may train on fewer rows than the final fit (:func:`kept_for_search`): the examples at
some as-of months only, and every poor example but only ``negative_share`` of the non-poor
households (all their rows, drawn once per search from the seed), those weighted by 1 / share
so the loss and its gradients are unbiased. Validation always uses every example of the
validation year, so trials are compared on what the final model will be judged on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from earlywarn.errors import ModelError

Folds = Sequence[tuple[np.ndarray, np.ndarray]]
# booster parameters that must not change between trials once the data are binned
DATASET_KEYS = ("feature_pre_filter", "verbosity", "seed", "num_threads")


@dataclass(frozen=True)
class SearchData:
    """Each fold's (training, validation) LightGBM datasets, constructed, sharing one set of
    bins; ``params`` are the dataset parameters they were built with."""

    folds: tuple[tuple[lgb.Dataset, lgb.Dataset], ...]
    params: dict[str, Any]
    n_train_rows: tuple[int, ...]
    workers: int = 1  # folds trained side by side, each booster in its own Python thread


def kept_for_search(
    y: np.ndarray,
    households: np.ndarray | None,
    negative_share: float,
    seed: int,
    *,
    months: np.ndarray | None = None,
    as_of_months: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Which rows the search trains on: the rows at ``as_of_months`` (all without), of them
    every poor row and the rows of ``negative_share`` of the households (or, without
    ``households``, of the rows) among the non-poor."""
    positive = np.asarray(y, dtype=float) > 0.5
    kept = np.ones(len(positive), dtype=bool)
    if as_of_months is not None:
        if months is None:
            raise ModelError("training on some as-of months only needs each row's as-of month")
        kept = np.isin(np.asarray(months), as_of_months)
    if negative_share >= 1.0:
        return kept
    groups = np.arange(len(positive)) if households is None else np.asarray(households)
    names, codes = np.unique(groups, return_inverse=True)
    drawn = np.random.default_rng(seed).uniform(size=len(names)) < negative_share
    return kept & (positive | drawn[codes])


def build_search_data(
    X: pd.DataFrame,
    y: pd.Series,
    folds: Folds,
    params: dict[str, Any],
    *,
    kept: np.ndarray | None = None,
    negative_share: float = 1.0,
    workers: int = 1,
) -> SearchData:
    """Bin ``X`` once with the dataset parameters of ``params`` and cut each fold from it;
    the folds train on the ``kept`` rows only (:func:`kept_for_search`; all without), the
    non-poor weighted by 1 / ``negative_share``.

    The full dataset keeps no raw data, so a trial whose parameters would need the bins
    rebuilt raises instead of silently binning again."""
    labels = np.asarray(pd.Series(y).astype(float))
    dataset_params = {k: params[k] for k in DATASET_KEYS if k in params}
    full = lgb.Dataset(X, label=labels, params=dataset_params, free_raw_data=True).construct()
    weight = np.where(labels > 0.5, 1.0, 1.0 / negative_share)
    datasets, sizes = [], []
    for train, valid in folds:
        rows = np.sort(np.asarray(train))
        if kept is not None:
            rows = rows[kept[rows]]
        if len(rows) == 0 or len(valid) == 0:
            raise ModelError("a tuning fold has no training or no validation examples")
        train_set = full.subset(rows.tolist()).construct()
        if negative_share < 1.0:
            train_set.set_weight(weight[rows])
        valid_set = full.subset(np.sort(np.asarray(valid)).tolist()).construct()
        datasets.append((train_set, valid_set))
        sizes.append(len(rows))
    return SearchData(
        folds=tuple(datasets),
        params=dataset_params,
        n_train_rows=tuple(sizes),
        workers=max(1, min(workers, len(datasets))),
    )


def cross_validate(
    params: dict[str, Any],
    data: SearchData,
    *,
    num_boost_round: int,
    early_stopping_rounds: int,
    on_round: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """Mean validation score per round over the folds, up to the best round once
    ``early_stopping_rounds`` rounds pass without a better one (as ``lgb.cv`` returns it).

    ``on_round(round, mean)`` is called after every round (0-based), e.g. to report to a trial
    and prune it by raising. With ``data.workers`` above 1 the folds' boosters grow their
    trees side by side in Python threads (LightGBM releases the GIL): each booster's trees
    are those it grows alone, so the curve does not depend on the number of workers."""
    changed = {k: params[k] for k in data.params if params.get(k) != data.params[k]}
    if changed:
        raise ModelError(f"parameters {sorted(changed)} differ from those the data were binned by")
    boosters = []
    for train_set, valid_set in data.folds:
        booster = lgb.Booster(params=params, train_set=train_set)
        booster.add_valid(valid_set, "valid")
        boosters.append(booster)
    curve: list[float] = []
    best = 0
    with ThreadPoolExecutor(max_workers=data.workers, initializer=_quiet_lightgbm) as pool:
        for step in range(num_boost_round):
            scores = list(pool.map(_grow_one_tree, boosters))
            curve.append(float(np.mean(scores)))
            if curve[step] > curve[best]:
                best = step
            if on_round is not None:
                on_round(step, curve[step])
            if step - best >= early_stopping_rounds:
                break
    return np.asarray(curve[: best + 1])


def _quiet_lightgbm() -> None:
    """Silence LightGBM in this thread: its log level is per thread, set by the last
    parameters parsed in it (a tiny dataset's)."""
    quiet = {"verbosity": -1}
    lgb.Dataset(np.array([[0.0], [1.0]]), label=[0.0, 1.0], params=quiet).construct()


def _grow_one_tree(booster: lgb.Booster) -> float:
    """One boosting round; the validation score after it."""
    booster.update()
    return float(booster.eval_valid()[0][2])
