"""Model URIs -> :class:`~earlywarn.model.model_file.RiskModel`.

Only files are downloaded, and they are read with
:func:`~earlywarn.model.model_file.load_model` (hash-checked): no code from the artifact store
is run or unpickled.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from earlywarn.errors import ModelError
from earlywarn.model.model_file import (
    BOOSTER_FILE,
    LINEAR_FILE,
    SIDECAR_FILE,
    RiskModel,
    load_model,
)
from earlywarn.tracking.logged_model import RISK_MODEL_ARTIFACT
from earlywarn.tracking.store import (
    check_tracking_available,
    configure,
    first_line,
    redact_uri,
    require_store,
    tracking_uri,
)

_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))?/?$")


def resolve_model(uri: str | Path) -> RiskModel:
    """Load a :class:`RiskModel` from a registry URI, a run, a logged model or a local folder.

    ``models:/name@alias``, ``models:/name/3``, ``runs:/<run_id>/model``, ``models:/<model_id>``
    or a folder holding ``booster.txt`` or ``linear.json`` + ``model.json`` (or an MLflow
    model folder). Only the scorer file and its sidecar are read (hash-checked); no code from
    the store is run. The
    model's ``version`` is ``name/3`` for a registered model, else the run or model id.
    """
    text = str(uri)
    local = Path(text)
    if "://" not in text and not text.startswith(("models:", "runs:")):
        if not local.exists():
            raise ModelError(f"model {text} is neither a folder nor a models:/ or runs:/ URI")
        return load_model(_risk_model_dir(local))

    match = _MODELS_URI.match(text)
    if not text.startswith("runs:/") and match is None:
        raise ModelError(
            f"cannot read model URI {text!r}; use models:/name@alias, "
            "models:/name/VERSION, runs:/RUN_ID/model or a folder"
        )
    uri = tracking_uri()
    require_store(uri, f"cannot load {text}")
    check_tracking_available(uri)
    configure(uri)
    try:
        if match is None:  # runs:/<run_id>/<path>
            run_id = text.removeprefix("runs:/").split("/", 1)[0]
            return _download_and_load(text, version=run_id)
        name, alias, number = match["name"], match["alias"], match["version"]
        if alias is None and number is None:  # models:/<model_id>, a logged model
            return _download_and_load(text, version=name)
        client = MlflowClient(tracking_uri=uri)
        if alias is not None:
            model_version = client.get_model_version_by_alias(name, alias)
        else:
            model_version = client.get_model_version(name, number)
        return _download_and_load(
            f"models:/{name}/{model_version.version}", version=f"{name}/{model_version.version}"
        )
    except MlflowException as err:
        raise ModelError(
            f"cannot load model {text} from {redact_uri(tracking_uri())}: {first_line(err)}"
        ) from err


def _download_and_load(artifact_uri: str, *, version: str) -> RiskModel:
    with tempfile.TemporaryDirectory(prefix="earlywarn-model-") as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=tmp))
        return load_model(_risk_model_dir(local), version=version)


def _risk_model_dir(folder: Path) -> Path:
    """The folder with the scorer file + model.json: ``folder`` itself or its MLflow
    artifact."""
    for candidate in (folder, folder / "artifacts" / RISK_MODEL_ARTIFACT):
        if (candidate / SIDECAR_FILE).is_file():
            return candidate
    if (folder / "MLmodel").is_file():  # logged by an older earlywarn under another folder name
        found = sorted(p.parent for p in (folder / "artifacts").rglob(SIDECAR_FILE))
        if len(found) == 1:
            return found[0]
    raise ModelError(
        f"{folder} holds no earlywarn model ({BOOSTER_FILE} or {LINEAR_FILE} + {SIDECAR_FILE})"
    )
