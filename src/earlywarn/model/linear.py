"""Logistic regression kept as plain numbers: a linear scorer with exact contributions.

Each input column of the regression comes from one model feature:

- ``value``: the number itself, a missing one replaced by ``fill`` (the fitting rows' median),
  then held within ``low`` and ``high`` (the fitting rows' range, see below);
- ``missing``: 1 where the number is missing (only for features missing in some fitting row);
- ``level``: 1 where a categorical feature equals ``level`` (a missing category is the level
  ``"missing"``; a level the fitting rows never had sets none of its feature's columns).

A value outside the range the regression was fitted on is held at the nearer end of it
(``low``, ``high``): a straight line fitted on ordinary years says nothing reliable about a
year whose shocks are several times any it saw, and correlated inputs can carry opposite
signs, so extrapolating one of them can turn the risk the wrong way.

Numeric inputs (values and missing flags) are standardised with the fitting rows' mean and
standard deviation (``center``, ``scale``); levels are not. With z the input so prepared,

    log-odds = intercept + sum_k coef_k * z_k,

and the contribution of a feature is the sum over its columns of ``coef_k * (z_k - mean_z_k)``
(``mean_z``: the mean of z over the fitting rows), with the base value
``intercept + sum_k coef_k * mean_z_k``, the raw prediction at the mean input. So
``base + sum(contributions) == log-odds`` exactly, as TreeSHAP gives for a booster. The scorer
is saved as JSON (:meth:`LinearScorer.to_json`), never pickled.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from earlywarn.errors import ModelError

MISSING_LEVEL = "missing"
"""The level a missing category counts as."""

CLIP_TO_FIT = True
"""Whether a fitted scorer holds each value within the fitting rows' range (see module;
``docs/model-quality.md``, "Held within the fitted range", measured it)."""

ColumnKind = Literal["value", "missing", "level"]


@dataclass(frozen=True)
class LinearColumn:
    """One input column of the regression: from ``feature``, as ``kind`` says (see module)."""

    feature: str
    kind: ColumnKind
    coef: float
    mean_z: float
    level: str = ""
    fill: float = 0.0
    center: float = 0.0
    scale: float = 1.0
    low: float | None = None  # a value below is held here (None: unbounded)
    high: float | None = None  # and above, here


@dataclass(frozen=True)
class LinearScorer:
    """A fitted logistic regression over model features: raw log-odds and exact contributions.

    Features are taken as :func:`~earlywarn.model.model_file.prepare_features` gives them
    (categoricals with the training levels, everything else float64).
    """

    columns: tuple[LinearColumn, ...]
    intercept: float

    @property
    def base_value(self) -> float:
        """The raw log-odds at the fitting rows' mean input."""
        return float(self.intercept + sum(c.coef * c.mean_z for c in self.columns))

    def design(self, features: pd.DataFrame) -> np.ndarray:
        """z: one row per row of ``features``, one column per input column."""
        design = np.empty((len(features), len(self.columns)), dtype="float64")
        codes: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
        for k, column in enumerate(self.columns):
            if column.kind == "level":
                if column.feature not in codes:
                    codes[column.feature] = _level_codes(features[column.feature])
                found, index = codes[column.feature]
                design[:, k] = found == index.get(column.level, -2)
                continue
            values = features[column.feature].to_numpy(dtype="float64", na_value=np.nan)
            missing = np.isnan(values)
            if column.kind == "value":
                raw = np.clip(np.where(missing, column.fill, values), column.low, column.high)
            else:
                raw = missing
            design[:, k] = (raw - column.center) / column.scale
        return design

    def predict_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Raw log-odds, one per row."""
        coef = np.array([c.coef for c in self.columns])
        return np.asarray(self.intercept + self.design(features) @ coef, dtype="float64")

    def contributions(self, features: pd.DataFrame, feature_names: Sequence[str]) -> np.ndarray:
        """Rows x (``feature_names`` + 1): each feature's contribution to the log-odds, then the
        base value (the layout of LightGBM's ``pred_contrib``); rows sum to the log-odds."""
        position = {name: i for i, name in enumerate(feature_names)}
        unknown = sorted({c.feature for c in self.columns} - set(position))
        if unknown:
            raise ModelError(f"the linear scorer uses features the model does not list: {unknown}")
        coef = np.array([c.coef for c in self.columns])
        mean_z = np.array([c.mean_z for c in self.columns])
        per_column = (self.design(features) - mean_z) * coef
        to_feature = np.zeros((len(self.columns), len(feature_names) + 1))
        to_feature[np.arange(len(self.columns)), [position[c.feature] for c in self.columns]] = 1
        out = per_column @ to_feature
        out[:, -1] = self.base_value
        return out

    def n_coefficients(self) -> int:
        """Input columns with a coefficient (the intercept not counted)."""
        return len(self.columns)

    def to_json(self) -> str:
        """The scorer as JSON text (floats written exactly)."""
        payload = {"intercept": self.intercept, "columns": [asdict(c) for c in self.columns]}
        return json.dumps(payload, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> LinearScorer:
        """Read what :meth:`to_json` wrote."""
        raw = json.loads(text)
        try:
            columns = tuple(
                LinearColumn(
                    feature=str(c["feature"]),
                    kind=c["kind"],
                    coef=float(c["coef"]),
                    mean_z=float(c["mean_z"]),
                    level=str(c["level"]),
                    fill=float(c["fill"]),
                    center=float(c["center"]),
                    scale=float(c["scale"]),
                    low=_bound(c.get("low")),
                    high=_bound(c.get("high")),
                )
                for c in raw["columns"]
            )
            return cls(columns=columns, intercept=float(raw["intercept"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"not a linear scorer: {err!r}") from err


def _bound(value: Any) -> float | None:
    return None if value is None else float(value)


def _level_codes(column: pd.Series) -> tuple[np.ndarray, dict[str, int]]:
    """Each row's level as a code into a level -> code map (missing as ``MISSING_LEVEL``)."""
    text = column.astype("string").fillna(MISSING_LEVEL)
    codes, levels = pd.factorize(text)
    return np.asarray(codes), {str(level): i for i, level in enumerate(levels)}


def fit_linear_scorer(
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    categorical: Collection[str],
    seed: int = 0,
    max_iter: int = 2_000,
    clip: bool | None = None,
) -> LinearScorer:
    """Fit logistic regression (L2, C=1) on ``features`` (prepared; ``categorical`` columns
    one-hot, the others median-imputed with missing flags and standardised); with ``clip``
    (None: :data:`CLIP_TO_FIT`) each value is held within the fitting rows' range."""
    clip = CLIP_TO_FIT if clip is None else clip
    labels = np.asarray(labels, dtype=int)
    if len(np.unique(labels)) < 2:
        raise ModelError("logistic regression needs both poor and non-poor households to fit")
    numeric = [name for name in features.columns if name not in categorical]
    numeric_columns, numeric_inputs = _numeric_inputs(features, numeric)
    level_columns, level_inputs = _level_inputs(
        features, [name for name in features.columns if name in categorical]
    )
    scaler = StandardScaler().fit(numeric_inputs) if numeric_columns else None
    scaled = scaler.transform(numeric_inputs) if scaler is not None else numeric_inputs
    design = np.hstack([scaled, level_inputs])
    regression = LogisticRegression(max_iter=max_iter, random_state=seed).fit(design, labels)
    coef, mean_z = regression.coef_[0], design.mean(axis=0)
    columns = [
        LinearColumn(
            feature=name,
            kind=kind,
            fill=fill,
            center=float(scaler.mean_[k]) if scaler is not None else 0.0,
            scale=float(scaler.scale_[k]) if scaler is not None else 1.0,
            coef=float(coef[k]),
            mean_z=float(mean_z[k]),
            low=float(numeric_inputs[:, k].min()) if kind == "value" and clip else None,
            high=float(numeric_inputs[:, k].max()) if kind == "value" and clip else None,
        )
        for k, (name, kind, fill) in enumerate(numeric_columns)
    ]
    offset = len(numeric_columns)
    columns += [
        LinearColumn(
            feature=name,
            kind="level",
            level=level,
            coef=float(coef[offset + k]),
            mean_z=float(mean_z[offset + k]),
        )
        for k, (name, level) in enumerate(level_columns)
    ]
    return LinearScorer(columns=tuple(columns), intercept=float(regression.intercept_[0]))


def _numeric_inputs(
    features: pd.DataFrame, numeric: list[str]
) -> tuple[list[tuple[str, ColumnKind, float]], np.ndarray]:
    """Values (missing -> median, 0 when all are missing), then a missing flag for each feature
    missing somewhere: (feature, kind, fill) per column and the inputs before scaling."""
    values = features.loc[:, numeric].to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    fills = np.zeros(len(numeric))
    for j in np.flatnonzero(~missing.all(axis=0)):
        fills[j] = float(np.median(values[~missing[:, j], j]))
    flagged = np.flatnonzero(missing.any(axis=0))
    columns: list[tuple[str, ColumnKind, float]] = [
        (name, "value", float(fills[j])) for j, name in enumerate(numeric)
    ]
    columns += [(numeric[j], "missing", 0.0) for j in flagged]
    inputs = np.hstack([np.where(missing, fills, values), missing[:, flagged].astype("float64")])
    return columns, inputs


def _level_inputs(
    features: pd.DataFrame, categorical: list[str]
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """One 0/1 column per (feature, level) the fitting rows have, levels sorted as text."""
    columns: list[tuple[str, str]] = []
    blocks: list[np.ndarray] = [np.empty((len(features), 0))]
    for name in categorical:
        codes, index = _level_codes(features[name])
        for level in sorted(index):
            columns.append((name, level))
            blocks.append((codes == index[level]).astype("float64")[:, None])
    return columns, np.hstack(blocks)
