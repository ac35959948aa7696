"""earlywarn score end to end: resume after SIGKILL, Dask equals local, refusal, drift, history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.config import Config, ReportConfig, ScoreConfig
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, REASONS, RISK
from earlywarn.data.directory import write_tables
from earlywarn.data.storage import sha256_file
from earlywarn.explain.glossary import DEFAULT_GLOSSARY
from earlywarn.features.build import build_features
from earlywarn.jobs.score import SCORE_CHUNK_DELAY_ENV, run_scoring
from earlywarn.model.model_file import load_model, save_model
from earlywarn.scoring.scores_file import NEWLY_FLAGGED, PREVIOUS_RISK

pytestmark = pytest.mark.slow

AS_OF = "2024-03-01"
CHUNK = 40


@pytest.fixture(scope="module")
def data_dir(tables, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_tables(tables, folder)
    return folder


def cli_command(data_dir: Path, model_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "earlywarn"),
        "score",
        "--data",
        str(data_dir),
        "--as-of",
        AS_OF,
        "--model",
        str(model_dir),
        "--out",
        str(out),
        "--chunk-size",
        str(CHUNK),
        "--no-progress",
        *extra,
    ]


def test_resume_after_sigkill_gives_the_same_file(data_dir, model_dir, tmp_path):
    whole = run_scoring(
        Config(),
        data_dir,
        AS_OF,
        model_dir,
        tmp_path / "a" / "scores.parquet",
        chunk_size=CHUNK,
        progress=False,
    )
    assert whole.n_chunks >= 3

    out = tmp_path / "b" / "scores.parquet"
    env = {**os.environ, SCORE_CHUNK_DELAY_ENV: "60"}
    process = subprocess.Popen(
        cli_command(data_dir, model_dir, out),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while not list(out.parent.glob(".scores.parquet.work-*/chunk-00000.parquet")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no chunk written in time"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert not out.exists()
    finished = list(out.parent.glob(".scores.parquet.work-*/chunk-*.parquet"))
    assert 1 <= len(finished) < whole.n_chunks

    rerun = subprocess.run(
        cli_command(data_dir, model_dir, out),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert rerun.returncode == 0, rerun.stderr
    assert out.read_bytes() == whole.out.read_bytes()
    meta = json.loads((out.parent / "scores.parquet.meta.json").read_text())
    assert meta["chunks_reused"] == len(finished)
    assert not list(out.parent.glob(".scores.parquet.work-*"))  # cleaned up


def test_dask_gives_the_same_file_as_local(data_dir, model_dir, tmp_path):
    cfg = Config(score=ScoreConfig(chunk_size=CHUNK))
    local = run_scoring(
        cfg, data_dir, AS_OF, model_dir, tmp_path / "local" / "scores.parquet", progress=False
    )
    dask = run_scoring(
        cfg,
        data_dir,
        AS_OF,
        model_dir,
        tmp_path / "dask" / "scores.parquet",
        engine="dask",
        progress=False,
    )
    assert dask.out.read_bytes() == local.out.read_bytes()
    scores = pd.read_parquet(local.out)
    assert scores[FLAGGED].sum() == local.n_flagged > 0
    assert (scores.loc[scores[FLAGGED], REASONS].map(len) > 0).all()
    assert (scores.loc[~scores[FLAGGED], REASONS].map(len) == 0).all()


def test_a_model_from_another_catalog_is_refused(tables, model_dir, data_dir, tmp_path):
    from earlywarn.model.model_file import load_model

    model = load_model(model_dir)
    renamed = model.booster.feature_name()
    renamed[0] = "n_unicorn_sightings_12m"
    other = replace(model, catalog_hash="0000000000000000", feature_names=tuple(renamed))
    other_dir = save_model(other, tmp_path / "other-model")
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--data",
            str(data_dir),
            "--as-of",
            AS_OF,
            "--model",
            str(other_dir),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "n_unicorn_sightings_12m" in result.output
    assert model.feature_names[0] in result.output
    assert not out.exists()


def test_drift_report_and_history_across_runs(data_dir, model_dir, tmp_path):
    cfg = Config(score=ScoreConfig(chunk_size=100))
    first = run_scoring(
        cfg,
        data_dir,
        "2023-03-01",
        model_dir,
        tmp_path / "s-2023.parquet",
        progress=False,
        explain="none",
    )
    second = run_scoring(
        cfg, data_dir, AS_OF, model_dir, tmp_path / "s-2024.parquet", progress=False, explain="none"
    )
    report = json.loads(second.drift_json.read_text())
    assert report["has_reference"] and report["score_psi"] is not None
    model_features = load_model(model_dir).feature_names
    assert {row["feature"] for row in report["features"]} == set(model_features)
    assert "Drift report" in second.drift_markdown.read_text()
    scores = pd.read_parquet(second.out)
    earlier = pd.read_parquet(first.out).set_index(HOUSEHOLD_ID)[RISK]
    both = scores[scores[HOUSEHOLD_ID].isin(earlier.index)]
    assert len(both) > 0
    np.testing.assert_allclose(both[PREVIOUS_RISK], earlier.reindex(both[HOUSEHOLD_ID]))
    assert scores[NEWLY_FLAGGED].sum() == second.n_newly_flagged
    assert len(list((tmp_path / "score-history").glob("as_of=*/model_version=*/run.json"))) == 2


def test_explain_all_gives_the_flagged_the_same_reasons(data_dir, model_dir, tmp_path):
    flagged_only = run_scoring(
        Config(),
        data_dir,
        AS_OF,
        model_dir,
        tmp_path / "f.parquet",
        chunk_size=CHUNK,
        progress=False,
        history_dir=tmp_path / "h1",
    )
    everyone = run_scoring(
        Config(),
        data_dir,
        AS_OF,
        model_dir,
        tmp_path / "a.parquet",
        chunk_size=CHUNK,
        progress=False,
        explain="all",
        history_dir=tmp_path / "h2",
    )
    some, every = pd.read_parquet(flagged_only.out), pd.read_parquet(everyone.out)
    pd.testing.assert_series_equal(some[RISK], every[RISK])
    flagged = some[FLAGGED].to_numpy()
    # the same reasons, texts and contributions (to the last bits: TreeSHAP runs over other
    # batches of rows in the two modes)
    for mine, theirs in zip(some.loc[flagged, REASONS], every.loc[flagged, REASONS], strict=True):
        assert [(r["code"], r["text"]) for r in mine] == [(r["code"], r["text"]) for r in theirs]
        np.testing.assert_allclose(
            [np.nan if r["contribution"] is None else r["contribution"] for r in mine],
            [np.nan if r["contribution"] is None else r["contribution"] for r in theirs],
            rtol=1e-12,
            atol=1e-12,
        )
    assert (every[REASONS].map(len) > 0).sum() > flagged.sum()


def test_flagged_reasons_quote_the_households_figures_and_the_rule(data_dir, model_dir, tmp_path):
    """Chunked scoring computes facts for the flagged households only, yet gives the reasons
    that explaining them against the whole tables gives (village figures included)."""
    from earlywarn.data.schema import read_tables
    from earlywarn.explain.contributions import CONTRIBUTION_SCALE
    from earlywarn.explain.contributions import explain_with_glossary as explain_on_whole_tables
    from earlywarn.model.model_file import load_model

    cfg = Config()
    result = run_scoring(
        cfg,
        data_dir,
        AS_OF,
        model_dir,
        tmp_path / "r.parquet",
        chunk_size=CHUNK,
        progress=False,
        history_dir=tmp_path / "h",
        lang="en",  # the default is report.lang, zh-CN
    )
    scores = pd.read_parquet(result.out)
    flagged = scores[scores[FLAGGED]].set_index(HOUSEHOLD_ID)[REASONS]
    whole = read_tables(data_dir)
    features = build_features(whole, as_of=AS_OF, households=flagged.index)
    expected = explain_on_whole_tables(
        load_model(model_dir),
        features,
        lang="en",
        k=3,
        tables=whole,
        as_of=AS_OF,
        rule_cfg=cfg.rule,
    )
    for household_id, reasons in flagged.items():
        got, want = [dict(r) for r in reasons], expected[household_id]
        assert [(r["code"], r["text"]) for r in got] == [(r["code"], r["text"]) for r in want]
        for g, w in zip(got, want, strict=True):
            assert (g["contribution"] is None) == (w["contribution"] is None)
            if w["contribution"] is not None:
                assert g["contribution"] == pytest.approx(w["contribution"], abs=1e-12)
    texts = [r["text"] for reasons in flagged for r in reasons]
    assert sum(any(ch.isdigit() for ch in text) for text in texts) > len(flagged)
    assert any(r["code"].startswith("rule:") for reasons in flagged for r in reasons)
    meta = json.loads(result.metadata_path.read_text())
    assert meta["earlywarn.contribution_scale"] == CONTRIBUTION_SCALE


def test_a_custom_glossary_writes_its_texts_into_the_scores_file(data_dir, model_dir, tmp_path):
    """Scoring renders reason texts with the configured glossary (as reports do), so a custom
    glossary changes the scores file's texts, never its codes or contributions."""
    raw = yaml.safe_load(DEFAULT_GLOSSARY.read_text(encoding="utf-8"))
    for entry in raw["groups"].values():
        entry["templates"]["en"] = ["Custom: " + text for text in entry["templates"]["en"]]
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    runs = {
        name: run_scoring(
            cfg,
            data_dir,
            AS_OF,
            model_dir,
            tmp_path / f"{name}.parquet",
            chunk_size=CHUNK,
            progress=False,
            history_dir=tmp_path / f"history-{name}",
            lang="en",  # the custom texts are the English ones
        )
        for name, cfg in (
            ("shipped", Config()),
            ("custom", Config(report=ReportConfig(glossary=glossary))),
        )
    }
    shipped, custom = (pd.read_parquet(run.out) for run in runs.values())
    pd.testing.assert_frame_equal(shipped.drop(columns=[REASONS]), custom.drop(columns=[REASONS]))
    flagged = shipped[FLAGGED].to_numpy()
    assert flagged.any()
    for before, after in zip(
        shipped.loc[flagged, REASONS], custom.loc[flagged, REASONS], strict=True
    ):
        assert [r["code"] for r in before] == [r["code"] for r in after]
        for old, new in zip(before, after, strict=True):
            assert old["contribution"] == new["contribution"]
            if new["contribution"] is None:  # the rule's triggers: texts under rules, unchanged
                assert new["text"] == old["text"]
            else:
                tail = new["text"].removeprefix("Custom: ")
                assert new["text"].startswith("Custom: ")
                assert tail[:1].upper() + tail[1:] == old["text"]
    for name, path in (("shipped", DEFAULT_GLOSSARY), ("custom", glossary)):
        meta = json.loads(runs[name].metadata_path.read_text())
        assert meta["glossary"] == str(path)
        assert meta["glossary_sha256"] == sha256_file(path)


def test_scores_carry_the_monitoring_status_and_the_runs_own_estimate(
    tables, data_dir, model_dir, tmp_path
):
    """With the monitoring cycle in the data, each scored household carries its status as of
    the date (as features.monitoring computes it from what is known then); the run states the
    expected number falling below the line among the flagged (the sum of their risks)."""
    from earlywarn.features.monitoring import STATUS_COLUMNS, monitoring_status

    assert not tables.monitoring.empty  # the simulator writes the cycle
    result = run_scoring(
        Config(), data_dir, AS_OF, model_dir, tmp_path / "s.parquet", progress=False
    )
    scores = pd.read_parquet(result.out)
    expected = monitoring_status(tables, pd.Timestamp(AS_OF), scores[HOUSEHOLD_ID])
    for column in STATUS_COLUMNS:  # dates as text: the file keeps them in milliseconds
        assert scores[column].astype("string").fillna("").tolist() == (
            expected[column].astype("string").fillna("").tolist()
        ), column
    assert (scores["monitoring_status"] != "not_monitored").any()
    assert result.expected_below_line == pytest.approx(scores.loc[scores[FLAGGED], RISK].sum())
    assert 0 < result.expected_below_line < result.n_flagged
