"""The audit trail: every long command appends a run record, and `earlywarn explain`
re-derives a household's score from the inputs its scores file records (or refuses)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, RISK
from earlywarn.data.directory import write_tables
from earlywarn.data.storage import sha256_file
from earlywarn.explain.glossary import DEFAULT_GLOSSARY
from earlywarn.jobs.audit import read_records
from earlywarn.model.model_file import save_model
from earlywarn.scoring.scores_file import write_scores_parquet

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"


@pytest.fixture(scope="module")
def world(tables, tiny_model, tmp_path_factory):
    """Data, a tiny model and a scores file made by the CLI (so its run is audited)."""
    root = tmp_path_factory.mktemp("world")
    write_tables(tables, root / "data")
    save_model(tiny_model, root / "model")
    out = root / "scores" / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(root / "data"),
            "--as-of",
            AS_OF,
            "--model",
            str(root / "model"),
            "--out",
            str(out),
            "--chunk-size",
            "100",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    return root, out


def explain(*args: str):
    return CliRunner().invoke(app, ["explain", *args])


def test_scoring_is_recorded_in_the_audit_log(world, audit_log):
    root, out = world
    record = [
        r for r in read_records(audit_log) if r["command"] == "score" and str(out) in r["outputs"]
    ][-1]
    assert record["status"] == "ok"
    assert record["outputs"][str(out)] == sha256_file(out)
    assert set(record["inputs"]) >= {
        "households.parquet",
        "household_years.parquet",
        "events.parquet",
    }
    assert record["inputs"]["events.parquet"] == sha256_file(root / "data" / "events.parquet")
    assert record["details"]["model_version"] == "tiny-1"
    assert record["details"]["config_hash"] and record["user"] and record["started_at"]


def test_a_failed_command_is_recorded_as_failed(tmp_path, audit_log):
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--scores",
            str(tmp_path / "none.parquet"),
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 2
    record = read_records(audit_log)[-1]
    assert (record["command"], record["status"]) == ("report", "failed")
    assert record["details"]["error"] == "SchemaError"


def test_explain_re_derives_a_flagged_household(world):
    _, out = world
    scores = pd.read_parquet(out)
    flagged = scores[scores[FLAGGED]]
    household = str(flagged[HOUSEHOLD_ID].iloc[0])
    result = explain(household, "--scores", str(out))
    assert result.exit_code == 0, result.output
    assert "match" in result.output and "no match" not in result.output
    assert f"{flagged[RISK].iloc[0]:.6f}" in result.output
    assert flagged["reasons"].iloc[0][0]["code"] in result.output

    calm = str(scores.loc[~scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    assert explain(calm, "--scores", str(out)).exit_code == 0


def test_explain_refuses_tampered_data(world, tmp_path):
    root, out = world
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    events = pd.read_parquet(data / "events.parquet")
    events.iloc[1:].to_parquet(data / "events.parquet", index=False)  # one event "lost"
    household = str(pd.read_parquet(out)[HOUSEHOLD_ID].iloc[0])
    result = explain(household, "--scores", str(out), "--data", str(data))
    assert result.exit_code == 2, result.output
    assert "events.parquet has changed" in result.output
    assert "refusing" in result.output and "Traceback" not in result.output


def test_report_refuses_tables_changed_since_scoring_unless_told(world, tmp_path):
    root, out = world
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    events = pd.read_parquet(data / "events.parquet")
    events.iloc[1:].to_parquet(data / "events.parquet", index=False)
    command = ["report", "--scores", str(out), "--data", str(data), "--lang", "en"]
    refused = CliRunner().invoke(app, [*command, "--out", str(tmp_path / "refused")])
    assert refused.exit_code == 2, refused.output
    assert "events.parquet has changed" in refused.output
    assert "--data-changed-ok" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "refused").exists()
    told = [*command, "--out", str(tmp_path / "told"), "--data-changed-ok"]
    assert CliRunner().invoke(app, told).exit_code == 0
    assert (tmp_path / "told" / "index.html").is_file()
    same = [*command[:4], str(root / "data"), "--lang", "en", "--out", str(tmp_path / "same")]
    assert CliRunner().invoke(app, same).exit_code == 0


def test_explain_says_when_the_recorded_score_differs(world, tmp_path):
    _, out = world
    scores = pd.read_parquet(out)
    household = str(scores.loc[scores[FLAGGED], HOUSEHOLD_ID].iloc[0])
    edited = tmp_path / "scores.parquet"
    scores.loc[scores[HOUSEHOLD_ID] == household, RISK] = 0.001
    metadata = {
        k.decode(): v.decode()
        for k, v in (pq.read_schema(out).metadata or {}).items()
        if k.startswith(b"earlywarn.")
    }
    write_scores_parquet(scores, edited, metadata=metadata)
    shutil.copy(
        out.with_name(out.name + ".meta.json"), edited.with_name(edited.name + ".meta.json")
    )
    result = explain(household, "--scores", str(edited))
    assert result.exit_code == 2, result.output
    assert "no match" in result.output and "risk 0.001000 recorded" in result.output


def test_explain_refuses_a_scores_file_made_with_another_glossary(world, tmp_path):
    _, out = world
    copy = tmp_path / out.name
    shutil.copy(out, copy)
    meta = json.loads(out.with_name(out.name + ".meta.json").read_text())
    assert meta["glossary_sha256"] == sha256_file(DEFAULT_GLOSSARY)
    meta["glossary_sha256"] = "0" * 64
    copy.with_name(copy.name + ".meta.json").write_text(json.dumps(meta))
    household = str(pd.read_parquet(out)[HOUSEHOLD_ID].iloc[0])
    result = explain(household, "--scores", str(copy))
    assert result.exit_code == 2, result.output
    assert "reason glossary of sha256 000000000000" in result.output
    assert "Traceback" not in result.output


def test_explain_refuses_a_household_not_in_the_file(world):
    _, out = world
    result = explain("NO-SUCH-HOUSEHOLD", "--scores", str(out))
    assert result.exit_code == 2
    assert "not in the scores file" in result.output


def test_explain_needs_inputs_that_exist(world, tmp_path):
    _, out = world
    household = str(pd.read_parquet(out)[HOUSEHOLD_ID].iloc[0])
    result = explain(household, "--scores", str(out), "--data", str(tmp_path / "gone"))
    assert result.exit_code == 2 and "does not exist" in result.output
