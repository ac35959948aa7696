"""The risk model as saved and loaded: its scorer in its own file plus a JSON sidecar (kind,
features, category levels, calibration, versions, the scorer file's hash). Nothing is pickled.

A scorer is a LightGBM booster (``booster.txt``, LightGBM's text format), a linear scorer
(``linear.json``, :mod:`earlywarn.model.linear`) or a blend of the two (``blend.json``,
:mod:`earlywarn.model.blend`). Format 1 (boosters only, hash under ``booster_sha256``) still
loads.
"""

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
from earlywarn.model.blend import BlendScorer
from earlywarn.model.linear import LinearScorer
from earlywarn.model.risk_scorer import calibrate, prepare_columns

BOOSTER_FILE = "booster.txt"
LINEAR_FILE = "linear.json"
BLEND_FILE = "blend.json"
SIDECAR_FILE = "model.json"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)

ModelKind = Literal["lightgbm", "linear", "blend"]
SCORER_FILES: dict[ModelKind, str] = {
    "lightgbm": BOOSTER_FILE,
    "linear": LINEAR_FILE,
    "blend": BLEND_FILE,
}
Scorer = lgb.Booster | LinearScorer | BlendScorer


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
        return calibrate(
            log_odds,
            method=self.method,
            slope=self.slope,
            intercept=self.intercept,
            x=self.x,
            y=self.y,
        )

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
    """A trained scorer (booster, linear or blend), its calibration and what it needs to see.

    ``categories`` fixes the levels of each categorical feature (in order) so that codes at
    predict time match training. ``catalog_hash`` ties the model to the feature catalog it was
    trained with; ``metadata`` carries versions, config hash, data window, test metrics.
    """

    scorer: Scorer
    calibrator: Calibrator
    feature_names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    catalog_hash: str = ""
    version: str = "unregistered"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> ModelKind:
        """``lightgbm`` (a booster), ``linear`` (logistic regression) or ``blend`` (both)."""
        if isinstance(self.scorer, lgb.Booster):
            return "lightgbm"
        return "blend" if isinstance(self.scorer, BlendScorer) else "linear"

    @property
    def booster(self) -> lgb.Booster:
        """The LightGBM booster; a linear model has none (:class:`ModelError`)."""
        if not isinstance(self.scorer, lgb.Booster):
            raise ModelError(f"model {self.version} is a {self.kind} model, not a booster")
        return self.scorer

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """Select the model's columns in order, categoricals with the training levels."""
        return prepare_features(features, self.feature_names, self.categories)

    def predict_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Raw scorer output (log-odds), one per row."""
        X = self.prepare(features)
        if isinstance(self.scorer, lgb.Booster):
            return np.asarray(self.scorer.predict(X, raw_score=True))
        return self.scorer.predict_log_odds(X)

    def predict_risk(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of being poor in the target year, one per row."""
        return self.calibrator(self.predict_log_odds(features))

    def log_odds_contributions(self, features: pd.DataFrame) -> np.ndarray:
        """Rows x (features + 1): each feature's exact contribution to the log-odds, then the
        base value; each row sums to :meth:`predict_log_odds`. A booster gives TreeSHAP
        (``pred_contrib``), a linear scorer coef x (z - mean z) (see :mod:`..linear`), a blend
        their weighted sum (see :mod:`..blend`)."""
        X = self.prepare(features)
        if isinstance(self.scorer, lgb.Booster):
            return np.asarray(self.scorer.predict(X, pred_contrib=True), dtype="float64")
        return self.scorer.contributions(X, self.feature_names)

    def scorer_text(self) -> str:
        """The scorer as saved (booster text or linear JSON): what fingerprints the model."""
        if isinstance(self.scorer, lgb.Booster):
            return str(self.scorer.model_to_string())
        return self.scorer.to_json()

    def size(self) -> dict[str, float]:
        """How big the scorer is: trees for a booster, coefficients for a linear scorer."""
        if isinstance(self.scorer, lgb.Booster):
            return {"model_num_trees": float(self.scorer.num_trees())}
        if isinstance(self.scorer, BlendScorer):
            return {
                "model_num_trees": float(self.scorer.n_trees()),
                "model_n_coefficients": float(self.scorer.linear.n_coefficients()),
            }
        return {"model_n_coefficients": float(self.scorer.n_coefficients())}


def prepare_features(
    features: pd.DataFrame,
    feature_names: tuple[str, ...],
    categories: dict[str, tuple[str, ...]],
) -> pd.DataFrame:
    """``feature_names`` of ``features`` in that order: the ``categories`` columns as
    categoricals with exactly those levels (any other value becomes missing, as LightGBM
    treats unseen levels), every other column as float64 (non-numbers missing): the logged
    MLflow model's preparation (:func:`~earlywarn.model.risk_scorer.prepare_columns`)."""
    missing = [name for name in feature_names if name not in features.columns]
    if missing:
        raise ModelError(f"features are missing columns the model needs: {missing}")
    return prepare_columns(features, feature_names, categories)


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a sidecar and a scorer file (what :func:`load_model` reads)."""
    folder = Path(folder)
    return (folder / SIDECAR_FILE).is_file() and any(
        (folder / name).is_file() for name in SCORER_FILES.values()
    )


def save_model(model: RiskModel, directory: Path) -> Path:
    """Write the scorer file and model.json (with the scorer file's SHA-256) atomically."""
    directory = Path(directory)
    scorer_file = SCORER_FILES[model.kind]
    with atomic_path(directory) as staged:
        staged.mkdir(parents=True)
        if isinstance(model.scorer, lgb.Booster):
            model.scorer.save_model(str(staged / scorer_file))
        else:
            (staged / scorer_file).write_text(model.scorer.to_json(), encoding="utf-8")
        sidecar = {
            "format_version": FORMAT_VERSION,
            "kind": model.kind,
            "scorer_file": scorer_file,
            "feature_names": list(model.feature_names),
            "categories": {k: list(v) for k, v in model.categories.items()},
            "calibrator": model.calibrator.to_dict(),
            "catalog_hash": model.catalog_hash,
            "version": model.version,
            "metadata": model.metadata,
            "scorer_sha256": sha256_file(staged / scorer_file),
        }
        (staged / SIDECAR_FILE).write_text(
            json.dumps(sidecar, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
    return directory


def load_model(directory: Path, *, version: str | None = None) -> RiskModel:
    """Read a model saved by :func:`save_model` (or format 1), refusing a scorer file whose
    hash does not match the one recorded in the sidecar."""
    directory = Path(directory)
    sidecar = _read_sidecar(directory)
    kind = sidecar.get("kind", "lightgbm")
    if kind not in SCORER_FILES:
        raise ModelError(f"{directory / SIDECAR_FILE}: unknown model kind {kind!r}")
    scorer_path = directory / SCORER_FILES[kind]
    if not scorer_path.is_file():
        raise ModelError(
            f"{directory} is not an earlywarn model (needs {SCORER_FILES[kind]} and {SIDECAR_FILE})"
        )
    recorded = sidecar.get("scorer_sha256", sidecar.get("booster_sha256"))
    actual = sha256_file(scorer_path)
    if actual != recorded:
        raise ModelError(
            f"{scorer_path} does not match the hash recorded in {SIDECAR_FILE} "
            f"(recorded {recorded}, found {actual}); refusing to use a model file that changed"
        )
    scorer: Scorer
    if kind == "lightgbm":
        scorer = lgb.Booster(model_file=str(scorer_path))
    elif kind == "blend":
        scorer = BlendScorer.from_json(scorer_path.read_text(encoding="utf-8"))
    else:
        scorer = LinearScorer.from_json(scorer_path.read_text(encoding="utf-8"))
    return RiskModel(
        scorer=scorer,
        calibrator=Calibrator.from_dict(sidecar["calibrator"]),
        feature_names=tuple(sidecar["feature_names"]),
        categories={k: tuple(v) for k, v in sidecar["categories"].items()},
        catalog_hash=sidecar.get("catalog_hash", ""),
        version=version or sidecar.get("version", "unregistered"),
        metadata=sidecar.get("metadata", {}),
    )


def _read_sidecar(directory: Path) -> dict[str, Any]:
    """The sidecar of ``directory``, of a format this earlywarn reads."""
    sidecar_path = directory / SIDECAR_FILE
    if not sidecar_path.is_file():
        raise ModelError(
            f"{directory} is not an earlywarn model (needs {SIDECAR_FILE} and "
            f"{BOOSTER_FILE}, {LINEAR_FILE} or {BLEND_FILE})"
        )
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelError(f"{sidecar_path} is not valid JSON: {err}") from err
    if not isinstance(sidecar, dict) or sidecar.get("format_version") not in READABLE_FORMATS:
        found = sidecar.get("format_version") if isinstance(sidecar, dict) else None
        raise ModelError(
            f"{sidecar_path}: model format {found} is not supported (this earlywarn reads "
            f"formats {', '.join(map(str, READABLE_FORMATS))})"
        )
    return sidecar
