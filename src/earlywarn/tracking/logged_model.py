"""How a risk model is logged to MLflow: a pyfunc "from code" (``pyfunc.py``, with
``model/risk_scorer.py`` as its code) whose ``risk_model`` artifact is the model folder
(scorer file + model.json). Its requirements are mlflow, lightgbm, pandas and numpy: not
earlywarn. The signature requires every feature: numbers as double, categoricals as ``any``
(MLflow refuses a pandas ``category`` column declared as string, mlflow#12910; the model
turns any value into text and an unknown level into missing), output ``risk``."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import AnyType, ColSpec, Schema, TensorSpec

from earlywarn.data.columns import RISK
from earlywarn.model import risk_scorer
from earlywarn.model.model_file import RiskModel

MODEL_NAME = "model"  # the logged model's name in its run (runs:/<run_id>/model)
RISK_MODEL_ARTIFACT = "risk_model"  # the model folder, as artifacts/risk_model/
PYFUNC_CODE = Path(__file__).with_name("pyfunc.py")
SCORER_CODE = Path(str(risk_scorer.__file__))  # code/risk_scorer.py in the logged model
PINNED_PACKAGES = ("mlflow", "lightgbm", "pandas", "numpy")


def model_signature(model: RiskModel) -> ModelSignature:
    """Inputs, all required: categoricals as ``any``, every other feature as double;
    output: ``risk``."""
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec(AnyType() if name in model.categories else "double", name, required=True)
        for name in model.feature_names
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double", RISK)]))


def signature_frame(model: RiskModel, features: pd.DataFrame) -> pd.DataFrame:
    """``features`` as the signature declares them: strings (``None`` if missing) and floats."""
    prepared = model.prepare(features).reset_index(drop=True)
    for name in model.categories:
        prepared[name] = prepared[name].astype(object).where(prepared[name].notna(), None)
    return prepared


def pip_requirements() -> list[str]:
    """The packages the pyfunc needs, pinned to the versions installed here."""
    pins = []
    for package in PINNED_PACKAGES:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pins.append(package)
    return pins
