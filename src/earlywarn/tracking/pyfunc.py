"""The MLflow pyfunc wrapper around a risk model ("models from code").

:mod:`earlywarn.tracking` logs this file's *path* as the model's code, so MLflow runs it to
rebuild the wrapper instead of unpickling an object. Loading reads ``booster.txt`` and
``model.json`` from the model's ``risk_model`` artifact with
:func:`~earlywarn.model.model_file.load_model`,
which checks the booster against its recorded SHA-256. ``predict`` takes one row per household
(categoricals as strings, everything else as numbers) and returns the calibrated risk.

Apart from :mod:`earlywarn.tracking`, this is the only module that imports mlflow; nothing
else should import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel
from mlflow.pyfunc.model import PythonModelContext

from earlywarn.model.model_file import RiskModel, load_model

RISK_MODEL_ARTIFACT = "risk_model"
RISK_COLUMN = "risk"


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
        return pd.DataFrame({RISK_COLUMN: risk.astype("float64")}, index=features.index)


set_model(RiskPyfunc())
