"""The MLflow pyfunc wrapper around a risk model ("models from code").

:mod:`earlywarn.tracking.runs` logs this file's *path* as the model's code, so MLflow runs it
to rebuild the wrapper instead of unpickling an object; that is why it ends by calling
``set_model`` and why nothing imports it. Loading reads the scorer file (``booster.txt`` or
``linear.json``) and ``model.json`` from the model's ``risk_model`` artifact with
:func:`~earlywarn.model.model_file.load_model`, which checks the scorer file against its
recorded SHA-256. ``predict`` takes one row per household
(categoricals as strings, everything else as numbers) and returns the calibrated risk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel
from mlflow.pyfunc.model import PythonModelContext

from earlywarn.data.columns import RISK
from earlywarn.model.model_file import RiskModel, load_model
from earlywarn.tracking.logged_model import RISK_MODEL_ARTIFACT


class RiskPyfunc(PythonModel):
    """Calibrated probability of being poor in the target year, one row per household."""

    def __init__(self) -> None:
        self.model: RiskModel | None = None

    def load_context(self, context: PythonModelContext) -> None:
        self.model = load_model(Path(context.artifacts[RISK_MODEL_ARTIFACT]))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        if self.model is None:
            self.load_context(context)
        assert self.model is not None
        features = pd.DataFrame(model_input)
        risk = self.model.predict_risk(features)
        return pd.DataFrame({RISK: risk.astype("float64")}, index=features.index)


set_model(RiskPyfunc())
