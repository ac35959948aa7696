"""Fit the risk model (a booster or logistic regression) and calibrate it on a slice it
never learned from.

The booster trains deterministically (``deterministic``, ``force_row_wise``, a seed, a fixed
thread count): same data, parameters and seed give the same model. Class weighting
(``is_unbalance``, ``scale_pos_weight``) is refused: it pushes probabilities far above the
base rate, and risk is shown as a probability. Calibration maps log-odds to probability with
Platt scaling or isotonic regression fitted on held-out examples; both are non-decreasing
(the Platt slope is kept at least :data:`MIN_PLATT_SLOPE`), so calibrating never reverses the
model's ranking, even on a held-out slice with a handful of poor households.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

from earlywarn.errors import ModelError
from earlywarn.model.linear import fit_linear_scorer
from earlywarn.model.model_file import Calibrator, RiskModel, Scorer, prepare_features

log = logging.getLogger(__name__)

REFUSED_PARAMS = ("is_unbalance", "unbalance", "unbalanced_sets", "scale_pos_weight")
MIN_PLATT_SLOPE = 1e-3


def category_levels(X: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The levels of each categorical (or text) column, as strings, in a fixed order."""
    levels: dict[str, tuple[str, ...]] = {}
    for name in X.columns:
        column = X[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            levels[name] = tuple(str(level) for level in column.cat.categories)
        elif pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column):
            levels[name] = tuple(sorted(str(v) for v in column.dropna().unique()))
    return levels


@dataclass(frozen=True)
class _TrainingInputs:
    """What both kinds of model are fitted on: the columns of ``X`` in order, categoricals
    with fixed levels, and the labels as floats."""

    feature_names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    prepared: pd.DataFrame
    labels: np.ndarray

    def model(
        self, scorer: Scorer, *, catalog_hash: str, metadata: dict[str, Any] | None
    ) -> RiskModel:
        """An uncalibrated (identity Platt) risk model around a fitted ``scorer``."""
        return RiskModel(
            scorer=scorer,
            calibrator=Calibrator(),
            feature_names=self.feature_names,
            categories=self.categories,
            catalog_hash=catalog_hash,
            metadata=dict(metadata or {}),
        )


def _training_inputs(X: pd.DataFrame, y: pd.Series) -> _TrainingInputs:
    feature_names, categories = tuple(map(str, X.columns)), category_levels(X)
    prepared = prepare_features(X, feature_names, categories)
    labels = np.asarray(pd.Series(y).astype(float))
    if np.isnan(labels).any():
        raise ModelError("labels contain missing values; drop unknown labels before fitting")
    return _TrainingInputs(feature_names, categories, prepared, labels)


def fit_model(
    X: pd.DataFrame,
    y: pd.Series,
    params: dict[str, Any],
    *,
    seed: int,
    num_threads: int,
    num_boost_round: int | None = None,
    catalog_hash: str = "",
    metadata: dict[str, Any] | None = None,
) -> RiskModel:
    """Train a booster on ``X`` (one row per household and as-of date) and label ``y``.

    ``params`` are LightGBM parameters; a ``num_boost_round`` key there is used unless the
    argument is given. The returned model is uncalibrated (identity Platt) until
    :func:`calibrate`.
    """
    params = dict(params)
    refused = [name for name in REFUSED_PARAMS if name in params]
    if refused:
        raise ModelError(f"parameters {refused} distort probabilities; leave them out")
    rounds = int(num_boost_round or params.pop("num_boost_round", 100))
    params.pop("num_boost_round", None)
    params.update(
        deterministic=True, force_row_wise=True, seed=seed, num_threads=num_threads, verbosity=-1
    )
    params.setdefault("objective", "binary")
    inputs = _training_inputs(X, y)
    dataset = lgb.Dataset(inputs.prepared, label=inputs.labels, free_raw_data=True)
    booster = lgb.train(params, dataset, num_boost_round=rounds)
    log.info("fitted booster: %d trees on %d examples", booster.num_trees(), len(inputs.prepared))
    return inputs.model(booster, catalog_hash=catalog_hash, metadata=metadata)


def fit_linear_model(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    seed: int,
    catalog_hash: str = "",
    metadata: dict[str, Any] | None = None,
    clip: bool | None = None,
) -> RiskModel:
    """Logistic regression on every column of ``X`` as a linear scorer
    (:func:`~earlywarn.model.linear.fit_linear_scorer`, ``clip`` as there), uncalibrated like
    :func:`fit_model`."""
    inputs = _training_inputs(X, y)
    scorer = fit_linear_scorer(
        inputs.prepared, inputs.labels, categorical=inputs.categories, seed=seed, clip=clip
    )
    log.info(
        "fitted logistic regression: %d coefficients on %d examples",
        scorer.n_coefficients(),
        len(inputs.prepared),
    )
    return inputs.model(scorer, catalog_hash=catalog_hash, metadata=metadata)


def fit_calibrator(
    log_odds: np.ndarray, y: np.ndarray, method: Literal["platt", "isotonic"] = "platt"
) -> Calibrator:
    """Fit the map from raw log-odds to probability on held-out examples."""
    log_odds = np.asarray(log_odds, dtype=float)
    labels = np.asarray(y, dtype=float)
    if len(np.unique(labels)) < 2:
        raise ModelError("the calibration slice needs both poor and non-poor households")
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(log_odds, labels)
        return Calibrator(
            method="isotonic",
            x=tuple(map(float, iso.X_thresholds_)),
            y=tuple(map(float, iso.y_thresholds_)),
        )

    def loss(coef: np.ndarray) -> tuple[float, np.ndarray]:
        z = coef[0] * log_odds + coef[1]
        with np.errstate(over="ignore"):  # exp(-z) -> inf gives p = 0, as it should
            p = 1.0 / (1.0 + np.exp(-z))
        nll = float(np.sum(np.logaddexp(0.0, z) - labels * z))
        grad_z = p - labels
        return nll, np.array([np.sum(grad_z * log_odds), np.sum(grad_z)])

    result = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    if result.x[0] < MIN_PLATT_SLOPE:  # would reverse (or flatten) the ranking
        bounds = [(MIN_PLATT_SLOPE, None), (None, None)]
        result = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=bounds)
    slope, intercept = map(float, result.x)
    return Calibrator(method="platt", slope=slope, intercept=intercept)


def calibrate(
    model: RiskModel,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    method: Literal["platt", "isotonic"] = "platt",
) -> RiskModel:
    """The same model with a calibrator fitted on ``X``, ``y`` (not the fitting examples)."""
    calibrator = fit_calibrator(model.predict_log_odds(X), np.asarray(y, dtype=float), method)
    return replace(model, calibrator=calibrator)
