"""Names, ID numbers, phones and addresses never leave their table: not into features, logs,
CLI output, MLflow (params, metrics, tags, artifacts), model files, scores or the audit log.
Reports show the head's name and the masked ID only."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.data.columns import ADDRESS, FLAGGED, HEAD_NAME, HOUSEHOLD_ID, ID_NUMBER, PHONE
from earlywarn.data.directory import write_tables
from earlywarn.explain.household_sheet import mask_id
from earlywarn.features.build import build_features

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"
REGISTERED = "earlywarn-pii"


def leaks(text: str, needles: list[str]) -> list[str]:
    return sorted({needle for needle in needles if needle in text})


def file_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="ignore")


@pytest.fixture(scope="module")
def personal(simulation) -> pd.DataFrame:
    found = simulation.tables.personal
    assert {HEAD_NAME, ID_NUMBER, PHONE, ADDRESS} <= set(found.columns)
    assert found[ID_NUMBER].notna().all() and len(found) == len(simulation.tables.households)
    return found


@pytest.fixture(scope="module")
def needles(personal) -> list[str]:
    """Every personal value (names of 2+ characters, full IDs, phones, addresses)."""
    values = pd.concat([personal[c] for c in (HEAD_NAME, ID_NUMBER, PHONE, ADDRESS)])
    return sorted({str(v) for v in values.dropna() if len(str(v)) >= 2})


def test_features_never_see_personal_data(tables, needles):
    features = build_features(tables, as_of=pd.Timestamp(AS_OF))
    assert not {HEAD_NAME, ID_NUMBER, PHONE, ADDRESS} & set(features.columns)
    assert HEAD_NAME not in tables.households.columns
    cells = "\n".join(features.astype("string").fillna("").to_csv().splitlines())
    assert leaks(cells, needles) == []


def test_personal_data_stays_out_of_runs_models_scores_and_logs(
    simulation, personal, needles, tmp_path, monkeypatch, caplog, audit_log
):
    import mlflow

    from earlywarn.tracking import find_in_run

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    write_tables(simulation.tables, data, extra={"truth": simulation.truth})
    households_file = next(data.glob("households.*"))
    assert (
        personal[ID_NUMBER].iloc[0] in file_text(households_file)
        or personal[ID_NUMBER].iloc[0] in pd.read_parquet(households_file).to_csv()
    )
    config = tmp_path / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tune": {"n_trials": 2, "num_threads": 1, "seed": 0},
                "train": {"max_boost_rounds": 40, "early_stopping_rounds": 10, "n_valid_years": 1},
                "tracking": {"experiment": "pii", "registered_model": REGISTERED},
            }
        )
    )
    audit_before = audit_log.read_text(encoding="utf-8") if audit_log.exists() else ""
    runner = CliRunner()
    outputs = []

    model_dir = tmp_path / "models" / "run"
    trained = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--config",
            str(config),
            "--trials",
            "2",
            "--out",
            str(model_dir),
        ],
    )
    assert trained.exit_code == 0, trained.output
    outputs.append(trained.output)
    model_uri = trained.stdout.strip().splitlines()[-1]

    # scoring loads the registered model: booster text + JSON, never unpickled, never
    # through mlflow.pyfunc.load_model (which would run the logged code file)
    def refuse(*args, **kwargs):
        raise AssertionError("the model was unpickled or loaded as a pyfunc")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(mlflow.pyfunc, "load_model", refuse)
    scores = tmp_path / "out" / "scores.parquet"
    scored = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(data),
            "--as-of",
            AS_OF,
            "--model",
            model_uri,
            "--out",
            str(scores),
            "--no-progress",
            "--config",
            str(config),
        ],
    )
    assert scored.exit_code == 0, scored.output
    outputs.append(scored.output)
    monkeypatch.undo()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)

    reports = tmp_path / "reports"
    reported = runner.invoke(
        app,
        [
            "report",
            "--scores",
            str(scores),
            "--data",
            str(data),
            "--out",
            str(reports),
            "--no-pdf",
            "--config",
            str(config),
        ],
    )
    assert reported.exit_code == 0, reported.output
    outputs.append(reported.output)

    # logs (DEBUG, every logger) and what the commands printed
    assert caplog.records, "no logs captured"
    assert leaks(caplog.text, needles) == []
    assert leaks("\n".join(outputs), needles) == []

    # MLflow: params, metrics, tags and every artifact of the run and its logged model
    version = mlflow.MlflowClient().get_model_version(REGISTERED, model_uri.rsplit("/", 1)[-1])
    assert find_in_run(version.run_id, needles) == []
    assert find_in_run(version.run_id, ["num_boost_round"])  # the search does find things

    # the model files
    for file in sorted(model_dir.iterdir()):  # model.json and the scorer file of its kind
        assert leaks(file_text(file), needles) == [], file.name
    for file in model_dir.with_name("run_card").rglob("*"):
        if file.is_file():
            assert leaks(file_text(file), needles) == [], file

    # the scores file: its bytes, its decoded cells and metadata, its sidecars
    table = pq.read_table(scores)
    decoded = table.to_pandas().astype("string").to_csv() + str(table.schema.metadata)
    assert leaks(decoded, needles) == []
    for file in scores.parent.rglob("*"):
        if file.is_file():
            assert leaks(file_text(file), needles) == [], file

    # the audit log records fingerprints and paths, never a value
    assert leaks(audit_log.read_text(encoding="utf-8")[len(audit_before) :], needles) == []

    # reports: the head's name and masked ID of each flagged household, never the full ID,
    # the phone or the address
    pages = "\n".join(file_text(f) for f in reports.rglob("*.html"))
    flagged = pd.read_parquet(scores).query(f"{FLAGGED}")[HOUSEHOLD_ID].astype("str")
    assert len(flagged) > 0
    for household in flagged:
        assert personal.loc[household, HEAD_NAME] in pages
        assert mask_id(personal.loc[household, ID_NUMBER]) in pages
    full = pd.concat([personal[c] for c in (ID_NUMBER, PHONE, ADDRESS)]).astype("str").tolist()
    assert leaks(pages, full) == []
