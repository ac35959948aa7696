"""The first README command's job, end to end, on a small world."""

import pandas as pd
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from earlywarn.cli import app


def test_demo_runs_the_whole_path(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("EARLYWARN_AUDIT_LOG", str(tmp_path / "runs.jsonl"))
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--households", "400", "--trials", "2"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "data" / "households.parquet").is_file()
    assert (out / "data" / "truth.parquet").is_file()
    assert (out / "mlflow.db").is_file()
    scores = pd.read_parquet(out / "scores.parquet")
    assert len(scores) > 0 and scores["flagged"].any()
    assert scores["risk"].between(0, 1).all()
    for lang in ("zh-CN", "en"):
        index = out / "reports" / lang / "index.html"
        assert index.is_file()
        assert len(list((out / "reports" / lang).rglob("H*.html"))) == scores["flagged"].sum()
    # the demo ends with the backtest of its own year: four runs against the year's round
    assert "backtest of 2025: 4 run(s)" in result.stdout
    runs = pd.read_csv(out / "backtest" / "backtest-2025-runs.csv")
    assert len(runs) == 4
    for lang in ("zh-CN", "en"):
        assert (out / "backtest" / f"backtest-2025.{lang}.html").is_file()
    # ... logged to the demo's MLflow store beside the training run: one nested run per run
    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("earlywarn-demo")
    backtests = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`earlywarn.kind` = 'backtest'"
    )
    assert len(backtests) == 5  # the backtest and its four scoring runs
    assert "MLflow run: " in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("models:/")
