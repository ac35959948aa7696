"""MLflow: log a training run, register its model, promote it, and load models back.

The one package that imports mlflow. :mod:`~earlywarn.tracking.store` finds and checks the
tracking store (``sqlite:///mlflow.db`` in the working directory unless
``MLFLOW_TRACKING_URI`` says otherwise); :mod:`~earlywarn.tracking.runs` logs a training run
and the model as a pyfunc "from code" (:mod:`~earlywarn.tracking.pyfunc`, laid out as
:mod:`~earlywarn.tracking.logged_model` says) that loads and serves with mlflow, lightgbm,
pandas and numpy alone, after :mod:`~earlywarn.tracking.personal_data` has refused any
personal data and with keys made valid by :mod:`~earlywarn.tracking.names`; the run carries
its provenance (:mod:`~earlywarn.tracking.provenance`: earlywarn version, git commit, input
tables) and its tuning study (:mod:`~earlywarn.tracking.tuning`: trials by step);
:mod:`~earlywarn.tracking.registry` registers versions (described by the model card's
summary) and moves the ``candidate`` and ``champion`` aliases;
:mod:`~earlywarn.tracking.resolve` turns a model URI into a
:class:`~earlywarn.model.model_file.RiskModel`, downloading files only (nothing from the
store is run or unpickled).
"""

from earlywarn.tracking.logged_model import (
    MODEL_NAME,
    RISK_MODEL_ARTIFACT,
    model_signature,
    signature_frame,
)
from earlywarn.tracking.names import clean_metrics, flatten_config, sanitize_name
from earlywarn.tracking.personal_data import (
    ensure_no_personal_columns,
    ensure_no_personal_files,
    ensure_no_personal_values,
)
from earlywarn.tracking.registry import (
    CANDIDATE_ALIAS,
    CHAMPION_ALIAS,
    PROMOTION_METRIC_MODEL,
    PROMOTION_METRIC_RULE,
    PROMOTION_REQUIREMENTS,
    Comparison,
    Promotion,
    promote,
)
from earlywarn.tracking.resolve import resolve_model
from earlywarn.tracking.runs import ModelRef, find_in_run, log_training_run
from earlywarn.tracking.store import (
    DEFAULT_TRACKING_URI,
    check_tracking_available,
    configure,
    redact_uri,
    tracking_uri,
)
from earlywarn.tracking.tuning import StudyRef

__all__ = [
    "CANDIDATE_ALIAS",
    "CHAMPION_ALIAS",
    "DEFAULT_TRACKING_URI",
    "MODEL_NAME",
    "PROMOTION_METRIC_MODEL",
    "PROMOTION_METRIC_RULE",
    "PROMOTION_REQUIREMENTS",
    "RISK_MODEL_ARTIFACT",
    "Comparison",
    "ModelRef",
    "Promotion",
    "StudyRef",
    "check_tracking_available",
    "clean_metrics",
    "configure",
    "ensure_no_personal_columns",
    "ensure_no_personal_files",
    "ensure_no_personal_values",
    "find_in_run",
    "flatten_config",
    "log_training_run",
    "model_signature",
    "promote",
    "redact_uri",
    "resolve_model",
    "sanitize_name",
    "signature_frame",
    "tracking_uri",
]
