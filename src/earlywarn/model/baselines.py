"""Logistic regression on the same features: the plain alternative the booster must beat.

Numeric columns: median imputation with missing indicators, then standard scaling;
categorical columns: one-hot, a missing value as its own level (see
:mod:`earlywarn.model.linear`). Fitted on the same examples as the booster and recalibrated on
the same held-out examples, so the two are compared on equal terms. It is a
:class:`~earlywarn.model.model_file.RiskModel` like the booster: saved as JSON, with exact
contributions.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from earlywarn.model.fit import calibrate, fit_linear_model
from earlywarn.model.model_file import RiskModel


def fit_logistic(X: pd.DataFrame, y: pd.Series, *, seed: int = 0) -> RiskModel:
    """Logistic regression on every column of ``X``, uncalibrated."""
    return fit_linear_model(X, y, seed=seed)


def fit_calibrated_logistic(
    X_fit: pd.DataFrame,
    y_fit: pd.Series,
    X_calibration: pd.DataFrame,
    y_calibration: pd.Series,
    *,
    method: Literal["platt", "isotonic"] = "platt",
    seed: int = 0,
) -> RiskModel:
    """Fit on the fitting examples, calibrate on the held-out ones (as the booster is)."""
    return calibrate(
        fit_logistic(X_fit, y_fit, seed=seed), X_calibration, y_calibration, method=method
    )
