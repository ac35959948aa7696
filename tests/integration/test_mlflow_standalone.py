"""A plain MLflow user's view of a registered earlywarn model: in a fresh venv built from the
model's own requirements.txt (no earlywarn), ``mlflow.pyfunc.load_model`` predicts
earlywarn's own features file with exactly earlywarn's numbers, and ``mlflow models serve``
answers a request with them. Needs uv (and its cache or the network): skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests

from earlywarn import tracking
from earlywarn.config import Config, TrackingConfig
from earlywarn.data.directory import write_tables
from earlywarn.features.catalog import catalog_frame
from earlywarn.jobs.features import run_features
from earlywarn.model.fit import fit_linear_model
from earlywarn.model.model_file import Calibrator, RiskModel, save_model

pytestmark = pytest.mark.slow

NAME = "earlywarn-standalone"
CONFIG = Config(tracking=TrackingConfig(experiment=NAME, registered_model=NAME))
AS_OF = "2024-07-01"


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is not installed: cannot build a clean venv from the requirements")
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would make earlywarn importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def _log(model: RiskModel, folder: Path, features: pd.DataFrame) -> tracking.ModelRef:
    save_model(model, folder)
    return tracking.log_training_run(
        config=CONFIG,
        model=model,
        model_dir=folder,
        metrics={tracking.PROMOTION_METRIC_MODEL: 0.5, tracking.PROMOTION_METRIC_RULE: 0.4},
        params={},
        table_fingerprints={"households": "a" * 64},
        artifacts={},
        input_example=features.head(5),
        tuning_history=None,
        feature_catalog=catalog_frame(),
        description="a test model",
    )


@pytest.fixture(scope="module")
def standalone(tmp_path_factory, simulation, tiny_model):
    """Two registered versions (a booster, a linear scorer), the features file and a venv
    built from the booster version's requirements.txt."""
    root = tmp_path_factory.mktemp("standalone")
    uri = f"sqlite:///{root}/mlflow.db"
    write_tables(simulation.tables, root / "data")
    run_features(root / "data", AS_OF, root / "features.parquet")
    features = pd.read_parquet(root / "features.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        booster = replace(tiny_model, calibrator=Calibrator("platt", 0.8, -0.2))
        booster_ref = _log(booster, root / "booster", features)
        known = features.dropna(subset=["label_poor"])
        linear = replace(
            fit_linear_model(
                known.loc[:, list(booster.feature_names)], known["label_poor"].astype(int), seed=0
            ),
            calibrator=Calibrator("isotonic", x=(-3.0, 0.0, 3.0), y=(0.05, 0.3, 0.9)),
        )
        linear_ref = _log(linear, root / "linear", features)
        model_dir = Path(
            mlflow.artifacts.download_artifacts(booster_ref.registered_uri, dst_path=str(root))
        )
    venv = root / "venv"
    uv = _uv()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = subprocess.run(
        [uv, "pip", "install", "-q", "-r", str(model_dir / "requirements.txt")],
        env=_clean_env(VIRTUAL_ENV=str(venv)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(f"uv could not install the model's requirements: {install.stderr[-600:]}")
    return {
        "root": root,
        "uri": uri,
        "venv": venv,
        "features": features,
        "models": {booster_ref.registered_uri: booster, linear_ref.registered_uri: linear},
        "requirements": (model_dir / "requirements.txt").read_text(encoding="utf-8"),
        "files": {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*")},
    }


def test_requirements_name_mlflow_lightgbm_pandas_numpy_and_not_earlywarn(standalone):
    packages = {line.split("==")[0] for line in standalone["requirements"].split()}
    assert packages == {"mlflow", "lightgbm", "pandas", "numpy"}
    # earlywarn's uv project would make `--env-manager uv` build earlywarn: not logged
    assert standalone["files"] >= {"MLmodel", "code/risk_scorer.py", "pyfunc.py"}
    assert not standalone["files"] & {"uv.lock", "pyproject.toml", ".python-version"}


def test_a_clean_venv_loads_each_version_and_predicts_earlywarns_own_numbers(standalone):
    root, python = standalone["root"], standalone["venv"] / "bin" / "python"
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        import mlflow, pandas as pd
        assert importlib.util.find_spec("earlywarn") is None, "earlywarn is importable"
        features = pd.read_parquet({str(root / "features.parquet")!r})
        out = {{}}
        for uri in {list(standalone["models"])!r}:
            predicted = mlflow.pyfunc.load_model(uri).predict(features)
            out[uri] = predicted["risk"].tolist()
        json.dump(out, sys.stdout)
        """
    )
    done = subprocess.run(
        [str(python), "-c", script],
        env=_clean_env(MLFLOW_TRACKING_URI=standalone["uri"]),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    predicted = json.loads(done.stdout)
    for uri, model in standalone["models"].items():
        expected = model.predict_risk(standalone["features"])
        assert len(predicted[uri]) == len(standalone["features"]) > 0
        np.testing.assert_allclose(predicted[uri], expected, rtol=1e-12, atol=0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_mlflow_models_serve_answers_with_earlywarns_numbers(standalone):
    uri, model = next(iter(standalone["models"].items()))
    port = _free_port()
    log_file = standalone["root"] / "serve.log"
    venv_bin = standalone["venv"] / "bin"  # as when the venv is activated
    with log_file.open("w") as log_handle:
        server = subprocess.Popen(
            [
                str(venv_bin / "mlflow"),
                "models",
                "serve",
                "-m",
                uri,
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=_clean_env(
                MLFLOW_TRACKING_URI=standalone["uri"],
                PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            ),
            cwd=standalone["root"],
            stdout=subprocess.DEVNULL,
            stderr=log_handle,
            start_new_session=True,  # its own process group: uvicorn is stopped with it
        )
    try:
        _wait_until_up(server, f"http://127.0.0.1:{port}/ping", log_file)
        rows = standalone["features"].head(25)
        body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
        answer = requests.post(f"http://127.0.0.1:{port}/invocations", json=body, timeout=60)
        assert answer.status_code == 200, answer.text[-2000:]
        served = [row["risk"] for row in answer.json()["predictions"]]
        np.testing.assert_allclose(served, model.predict_risk(rows), rtol=1e-12, atol=0)
        without = rows.drop(columns=[model.feature_names[0]])
        body = {"dataframe_split": json.loads(without.to_json(orient="split", index=False))}
        refused = requests.post(f"http://127.0.0.1:{port}/invocations", json=body, timeout=60)
        assert refused.status_code == 400
        assert "missing inputs" in refused.text and model.feature_names[0] in refused.text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)


def _wait_until_up(
    server: subprocess.Popen[bytes], url: str, log_file: Path, seconds: float = 120
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = log_file.read_text(errors="replace")[-3000:]
            pytest.fail(f"mlflow models serve exited {server.returncode}: {stderr}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow models serve did not answer {url} within {seconds:.0f} s")
