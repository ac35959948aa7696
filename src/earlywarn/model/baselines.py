"""Logistic regression on the same features: the plain alternative the booster must beat.

Numeric columns: median imputation with missing indicators, then standard scaling;
categorical columns (pandas ``category`` or text): a constant for missing, then one-hot
(unknown levels ignored). Fitted on the same examples as the booster, and recalibrated on
the same held-out examples (:class:`CalibratedLogistic`), so the two are compared on equal
terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from earlywarn.model.fit import fit_calibrator
from earlywarn.model.model_file import Calibrator


def _as_text(frame: pd.DataFrame) -> np.ndarray:
    """Categorical columns as an object array of strings, missing as 'missing'."""
    return frame.astype("string").fillna("missing").to_numpy(dtype=object)


def _categorical_columns(X: pd.DataFrame) -> list[str]:
    return [
        name
        for name in X.columns
        if isinstance(X[name].dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(X[name])
        or pd.api.types.is_object_dtype(X[name])
    ]


def fit_logistic(
    X: pd.DataFrame, y: pd.Series, *, seed: int = 0, max_iter: int = 2_000
) -> Pipeline:
    """A fitted imputation + one-hot + scaling + logistic regression pipeline."""
    categorical = _categorical_columns(X)
    numeric = [name for name in X.columns if name not in categorical]
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(
                    FunctionTransformer(
                        lambda frame: frame.astype("float64"), feature_names_out="one-to-one"
                    ),
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numeric,
            ),
            (
                "categorical",
                make_pipeline(
                    FunctionTransformer(_as_text, feature_names_out="one-to-one"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )
    pipeline = Pipeline(
        [
            ("preprocess", preprocess),
            ("logistic", LogisticRegression(max_iter=max_iter, random_state=seed)),
        ]
    )
    pipeline.fit(X, np.asarray(y, dtype=int))
    return pipeline


def predict_logistic(pipeline: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of being poor in the target year, one per row."""
    return np.asarray(pipeline.predict_proba(X)[:, 1])


def logit(probability: np.ndarray) -> np.ndarray:
    """Log-odds of a probability (clipped to 1e-12 from 0 and 1)."""
    clipped = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class CalibratedLogistic:
    """Logistic regression whose log-odds are recalibrated like the booster's."""

    pipeline: Pipeline
    calibrator: Calibrator

    def predict_risk(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of being poor in the target year, one per row."""
        return self.calibrator(logit(predict_logistic(self.pipeline, X)))


def fit_calibrated_logistic(
    X_fit: pd.DataFrame,
    y_fit: pd.Series,
    X_calibration: pd.DataFrame,
    y_calibration: pd.Series,
    *,
    method: Literal["platt", "isotonic"] = "platt",
    seed: int = 0,
) -> CalibratedLogistic:
    """Fit on the fitting examples, calibrate on the held-out ones (as the booster is)."""
    pipeline = fit_logistic(X_fit, y_fit, seed=seed)
    calibrator = fit_calibrator(
        logit(predict_logistic(pipeline, X_calibration)),
        y_calibration.to_numpy(dtype=float),
        method,
    )
    return CalibratedLogistic(pipeline=pipeline, calibrator=calibrator)
