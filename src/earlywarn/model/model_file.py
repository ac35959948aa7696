"""The risk model as saved and loaded: a LightGBM booster in its own text format plus a JSON
sidecar (features, category levels, calibration, versions, hashes). Nothing is pickled."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from earlywarn.data.storage import atomic_path, sha256_file
from earlywarn.errors import ModelError

BOOSTER_FILE = "booster.txt"
SIDECAR_FILE = "model.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Calibrator:
    """Maps the booster's raw log-odds to a probability.

    ``platt``: risk = sigmoid(slope * log_odds + intercept). ``isotonic``: piecewise-linear
    interpolation through (``x``, ``y``) on the log-odds scale, flat beyond the ends.
    """

    method: Literal["platt", "isotonic"] = "platt"
    slope: float = 1.0
    intercept: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def __call__(self, log_odds: np.ndarray) -> np.ndarray:
        log_odds = np.asarray(log_odds, dtype=float)
        if self.method == "isotonic":
            return np.interp(log_odds, np.asarray(self.x), np.asarray(self.y))
        return 1.0 / (1.0 + np.exp(-(self.slope * log_odds + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "slope": self.slope,
            "intercept": self.intercept,
            "x": list(self.x),
            "y": list(self.y),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Calibrator:
        return cls(
            method=raw["method"],
            slope=float(raw["slope"]),
            intercept=float(raw["intercept"]),
            x=tuple(raw["x"]),
            y=tuple(raw["y"]),
        )


@dataclass(frozen=True)
class RiskModel:
    """A trained booster, its calibration and what it needs to see.

    ``categories`` fixes the levels of each categorical feature (in order) so that codes at
    predict time match training. ``catalog_hash`` ties the model to the feature catalog it was
    trained with; ``metadata`` carries versions, config hash, data window, test metrics.
    """

    booster: lgb.Booster
    calibrator: Calibrator
    feature_names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    catalog_hash: str = ""
    version: str = "unregistered"
    metadata: dict[str, Any] = field(default_factory=dict)

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """Select the model's columns in order, categoricals with the training levels."""
        return prepare_features(features, self.feature_names, self.categories)

    def predict_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Raw booster output (log-odds), one per row."""
        return np.asarray(self.booster.predict(self.prepare(features), raw_score=True))

    def predict_risk(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of being poor in the target year, one per row."""
        return self.calibrator(self.predict_log_odds(features))


def prepare_features(
    features: pd.DataFrame,
    feature_names: tuple[str, ...],
    categories: dict[str, tuple[str, ...]],
) -> pd.DataFrame:
    """``feature_names`` of ``features`` in that order: the ``categories`` columns as
    categoricals with exactly those levels (any other value becomes missing, as LightGBM
    treats unseen levels), every other column as float64 (non-numbers missing)."""
    missing = [name for name in feature_names if name not in features.columns]
    if missing:
        raise ModelError(f"features are missing columns the model needs: {missing}")
    X = features.loc[:, list(feature_names)].copy()
    for name, levels in categories.items():
        text = X[name].astype("string")
        text = text.where(text.isin(levels))
        X[name] = pd.Categorical(text, categories=list(levels))
    for name in X.columns:
        if name not in categories:
            X[name] = pd.to_numeric(X[name], errors="coerce").astype("float64")
    return X


def save_model(model: RiskModel, directory: Path) -> Path:
    """Write booster.txt and model.json (with the booster's SHA-256) atomically."""
    directory = Path(directory)
    with atomic_path(directory) as staged:
        staged.mkdir(parents=True)
        model.booster.save_model(str(staged / BOOSTER_FILE))
        sidecar = {
            "format_version": FORMAT_VERSION,
            "feature_names": list(model.feature_names),
            "categories": {k: list(v) for k, v in model.categories.items()},
            "calibrator": model.calibrator.to_dict(),
            "catalog_hash": model.catalog_hash,
            "version": model.version,
            "metadata": model.metadata,
            "booster_sha256": sha256_file(staged / BOOSTER_FILE),
        }
        (staged / SIDECAR_FILE).write_text(
            json.dumps(sidecar, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
    return directory


def load_model(directory: Path, *, version: str | None = None) -> RiskModel:
    """Read a model saved by :func:`save_model`, refusing a booster whose hash does not match."""
    directory = Path(directory)
    sidecar_path, booster_path = directory / SIDECAR_FILE, directory / BOOSTER_FILE
    if not sidecar_path.is_file() or not booster_path.is_file():
        raise ModelError(
            f"{directory} is not an earlywarn model (needs {BOOSTER_FILE} and {SIDECAR_FILE})"
        )
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelError(f"{sidecar_path} is not valid JSON: {err}") from err
    if sidecar.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{sidecar_path}: model format {sidecar.get('format_version')} is not "
            f"supported (this earlywarn reads format {FORMAT_VERSION})"
        )
    actual = sha256_file(booster_path)
    if actual != sidecar.get("booster_sha256"):
        raise ModelError(
            f"{booster_path} does not match the hash recorded in {SIDECAR_FILE} "
            f"(recorded {sidecar.get('booster_sha256')}, found {actual}); "
            "refusing to use a model file that changed"
        )
    booster = lgb.Booster(model_file=str(booster_path))
    return RiskModel(
        booster=booster,
        calibrator=Calibrator.from_dict(sidecar["calibrator"]),
        feature_names=tuple(sidecar["feature_names"]),
        categories={k: tuple(v) for k, v in sidecar["categories"].items()},
        catalog_hash=sidecar.get("catalog_hash", ""),
        version=version or sidecar.get("version", "unregistered"),
        metadata=sidecar.get("metadata", {}),
    )
