"""The booster and the logistic regression averaged on the log-odds scale: a blend.

    log-odds = w * booster log-odds + (1 - w) * linear log-odds

Both parts are fitted on the same examples with the same loss, so their raw log-odds share a
scale. The trees find interactions a straight line misses; the line adds up many small,
steady effects that trees cut into steps, and it is less swayed by the handful of households
a small registry has. Neither is trusted beyond what it was fitted on: trees are flat there
by nature, and the linear scorer holds each input within its fitted range (a year harsher
than any seen once pushed this year's place shock rates far past it, and correlated inputs
of opposite sign turned the risk down). The average keeps some of each, and its
contributions stay exact: ``w`` times the booster's TreeSHAP plus ``1 - w`` times the linear
scorer's, so they still sum to the log-odds.

Saved as one JSON file (:meth:`BlendScorer.to_json`): the weight, the booster in LightGBM's
text format and the linear scorer's JSON. Nothing is pickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from earlywarn.errors import ModelError
from earlywarn.model.linear import LinearScorer

BOOSTER_WEIGHT = 0.5
"""The booster's share of the blend: an even average, not tuned (a weight chosen on the
validation years would be one more thing fitted to a handful of years)."""


@dataclass(frozen=True)
class BlendScorer:
    """``booster_weight`` x the booster's log-odds + the rest x the linear scorer's."""

    booster: lgb.Booster
    linear: LinearScorer
    booster_weight: float = BOOSTER_WEIGHT

    def __post_init__(self) -> None:
        if not 0.0 <= self.booster_weight <= 1.0:
            raise ModelError(f"a blend's booster weight must be in [0, 1]: {self.booster_weight}")

    def predict_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Raw log-odds, one per row of ``features`` (prepared as for either part)."""
        w = self.booster_weight
        trees = np.asarray(self.booster.predict(features, raw_score=True), dtype="float64")
        return w * trees + (1.0 - w) * self.linear.predict_log_odds(features)

    def contributions(self, features: pd.DataFrame, feature_names: Sequence[str]) -> np.ndarray:
        """Rows x (``feature_names`` + 1), the base value last: the weighted sum of the parts'
        exact contributions, so each row sums to :meth:`predict_log_odds`."""
        w = self.booster_weight
        trees = np.asarray(self.booster.predict(features, pred_contrib=True), dtype="float64")
        return w * trees + (1.0 - w) * self.linear.contributions(features, feature_names)

    def n_trees(self) -> int:
        return int(self.booster.num_trees())

    def to_json(self) -> str:
        """The blend as JSON text: weight, booster text, linear scorer."""
        payload = {
            "booster_weight": self.booster_weight,
            "booster": self.booster.model_to_string(),
            "linear": json.loads(self.linear.to_json()),
        }
        return json.dumps(payload, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BlendScorer:
        """Read what :meth:`to_json` wrote."""
        try:
            raw = json.loads(text)
            return cls(
                booster=lgb.Booster(model_str=str(raw["booster"])),
                linear=LinearScorer.from_json(json.dumps(raw["linear"])),
                booster_weight=float(raw["booster_weight"]),
            )
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as err:
            raise ModelError(f"not a blend scorer: {err!r}") from err
