"""The MLflow pyfunc wrapper around a risk model ("models from code"), runnable without
earlywarn.

:mod:`earlywarn.tracking.runs` logs this file's *path* as the model's code and
``earlywarn/model/risk_scorer.py`` as its ``code_paths``, so MLflow runs this file to rebuild
the wrapper instead of unpickling an object; that is why it ends by calling ``set_model``,
why nothing imports it, and why it imports nothing from earlywarn: a plain MLflow user loads
and serves the model with only mlflow, lightgbm, pandas and numpy installed.

Loading reads ``model.json`` and the scorer file (``booster.txt``, ``linear.json`` or
``blend.json``) from
the model's ``risk_model`` artifact, checking the scorer file against its recorded SHA-256.
``predict`` takes one row per household (the model's feature columns; others are ignored)
and returns the calibrated risk in a column ``risk``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel
from mlflow.pyfunc.model import PythonModelContext

RISK_MODEL_ARTIFACT = "risk_model"  # as earlywarn.tracking.logged_model names it
SIDECAR_FILE = "model.json"
SCORER_FILES = {"lightgbm": "booster.txt", "linear": "linear.json", "blend": "blend.json"}
RISK = "risk"


class RiskPyfunc(PythonModel):
    """Calibrated probability of being poor in the target year, one row per household."""

    def __init__(self) -> None:
        self.model: Any = None

    def load_context(self, context: PythonModelContext) -> None:
        # the model's code/ folder, put on sys.path by MLflow when it loads the model
        from risk_scorer import StandaloneRiskModel  # type: ignore[import-not-found]

        folder = Path(context.artifacts[RISK_MODEL_ARTIFACT])
        sidecar = (folder / SIDECAR_FILE).read_text(encoding="utf-8")
        kind = json.loads(sidecar).get("kind", "lightgbm")
        scorer = (folder / SCORER_FILES[kind]).read_bytes()
        self.model = StandaloneRiskModel.from_texts(sidecar, scorer)

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        if self.model is None:
            self.load_context(context)
        features = pd.DataFrame(model_input)
        risk = self.model.predict_risk(features)
        return pd.DataFrame({RISK: risk.astype("float64")}, index=features.index)


set_model(RiskPyfunc())
