"""The risk model's arithmetic with numpy, pandas and lightgbm alone: what a logged MLflow
model runs, without earlywarn installed.

The MLflow model carries this file as its code (``code/risk_scorer.py``) beside the model
folder earlywarn saves (``model.json`` + ``booster.txt``, ``linear.json`` or ``blend.json``),
so loading and serving it need only the packages its requirements list. earlywarn itself uses
the same functions (:func:`prepare_columns`, :func:`calibrate`), so the two cannot drift
apart; the linear scorer's arithmetic mirrors :class:`earlywarn.model.linear.LinearScorer`,
the blend's :class:`earlywarn.model.blend.BlendScorer`, and tests hold them equal.

This module imports nothing from earlywarn and reads no file: it is given the texts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

MISSING_LEVEL = "missing"  # the level a missing category counts as in a linear scorer
READABLE_FORMATS = (1, 2)


def prepare_columns(
    features: pd.DataFrame,
    feature_names: Sequence[str],
    categories: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """``feature_names`` of ``features`` in that order: the ``categories`` columns as
    categoricals with exactly those levels (any other value becomes missing, as LightGBM
    treats unseen levels), every other column as float64 (non-numbers missing).

    Raises ``KeyError`` naming the columns ``features`` lacks."""
    missing = [name for name in feature_names if name not in features.columns]
    if missing:
        raise KeyError(f"features are missing columns the model needs: {missing}")
    X = features.loc[:, list(feature_names)].copy()
    for name, levels in categories.items():
        text = X[name].astype("string")
        text = text.where(text.isin(list(levels)))
        X[name] = pd.Categorical(text, categories=list(levels))
    for name in X.columns:
        if name not in categories:
            X[name] = pd.to_numeric(X[name], errors="coerce").astype("float64")
    return X


def calibrate(
    log_odds: np.ndarray,
    *,
    method: str,
    slope: float = 1.0,
    intercept: float = 0.0,
    x: Sequence[float] = (),
    y: Sequence[float] = (),
) -> np.ndarray:
    """Raw log-odds -> probability: ``platt`` is sigmoid(slope * log_odds + intercept),
    ``isotonic`` piecewise-linear through (``x``, ``y``), flat beyond the ends."""
    log_odds = np.asarray(log_odds, dtype=float)
    if method == "isotonic":
        return np.interp(log_odds, np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    if method != "platt":
        raise ValueError(f"unknown calibration method {method!r} (platt or isotonic)")
    return 1.0 / (1.0 + np.exp(-(slope * log_odds + intercept)))


def linear_log_odds(X: pd.DataFrame, scorer: Mapping[str, Any]) -> np.ndarray:
    """Log-odds of a linear scorer (``linear.json`` as a dict) for prepared features ``X``:
    intercept + sum of coef x z, z the value (missing -> fill), a missing flag or a level
    indicator, numbers held within low and high (when given) and standardised by center and
    scale."""
    columns = scorer["columns"]
    design = np.empty((len(X), len(columns)), dtype="float64")
    for k, column in enumerate(columns):
        values = X[column["feature"]]
        if column["kind"] == "level":
            text = values.astype("string").fillna(MISSING_LEVEL)
            design[:, k] = (text == str(column["level"])).to_numpy(dtype=bool)
            continue
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        if column["kind"] == "value":
            raw = np.clip(np.where(missing, float(column["fill"]), numbers), *_range(column))
        else:
            raw = missing.astype("float64")
        design[:, k] = (raw - float(column["center"])) / float(column["scale"])
    coef = np.array([float(c["coef"]) for c in columns], dtype="float64")
    return np.asarray(float(scorer["intercept"]) + design @ coef, dtype="float64")


def _range(column: Mapping[str, Any]) -> tuple[float | None, float | None]:
    low, high = column.get("low"), column.get("high")
    return (None if low is None else float(low), None if high is None else float(high))


@dataclass(frozen=True)
class StandaloneRiskModel:
    """A saved risk model read from its texts: the calibrated risk of each household row."""

    kind: str
    feature_names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    calibration: dict[str, Any]
    booster: lgb.Booster | None
    linear: dict[str, Any] | None
    booster_weight: float = 1.0  # a blend: weight x booster + (1 - weight) x linear

    @classmethod
    def from_texts(cls, sidecar_text: str, scorer_bytes: bytes) -> StandaloneRiskModel:
        """Read ``model.json`` and the scorer file's bytes, refusing a scorer file whose
        SHA-256 differs from the one the sidecar records (``ValueError``)."""
        sidecar = json.loads(sidecar_text)
        if sidecar.get("format_version") not in READABLE_FORMATS:
            raise ValueError(f"model format {sidecar.get('format_version')} is not supported")
        recorded = sidecar.get("scorer_sha256", sidecar.get("booster_sha256"))
        actual = hashlib.sha256(scorer_bytes).hexdigest()
        if actual != recorded:
            raise ValueError(
                f"the scorer file does not match the hash recorded in model.json (recorded "
                f"{recorded}, found {actual}); refusing to use a model file that changed"
            )
        kind = sidecar.get("kind", "lightgbm")
        text = scorer_bytes.decode("utf-8")
        booster, linear, weight = None, None, 1.0
        if kind == "lightgbm":
            booster = lgb.Booster(model_str=text)
        elif kind == "linear":
            linear, weight = json.loads(text), 0.0
        elif kind == "blend":
            blend = json.loads(text)
            booster = lgb.Booster(model_str=str(blend["booster"]))
            linear, weight = blend["linear"], float(blend["booster_weight"])
        else:
            raise ValueError(f"unknown model kind {kind!r} (lightgbm, linear or blend)")
        return cls(
            kind=kind,
            feature_names=tuple(sidecar["feature_names"]),
            categories={k: tuple(v) for k, v in sidecar["categories"].items()},
            calibration=dict(sidecar["calibrator"]),
            booster=booster,
            linear=linear,
            booster_weight=weight,
        )

    def predict_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Raw scorer output (log-odds), one per row."""
        X = prepare_columns(features, self.feature_names, self.categories)
        log_odds = np.zeros(len(X), dtype="float64")
        if self.booster is not None:
            trees = np.asarray(self.booster.predict(X, raw_score=True), dtype="float64")
            log_odds += self.booster_weight * trees
        if self.linear is not None:
            log_odds += (1.0 - self.booster_weight) * linear_log_odds(X, self.linear)
        return log_odds

    def predict_risk(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of being poor in the target year, one per row."""
        c = self.calibration
        return calibrate(
            self.predict_log_odds(features),
            method=str(c["method"]),
            slope=float(c.get("slope", 1.0)),
            intercept=float(c.get("intercept", 0.0)),
            x=c.get("x", ()),
            y=c.get("y", ()),
        )
