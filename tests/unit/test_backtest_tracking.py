"""A backtest logged to MLflow: a parent run, one nested run per scoring run, the reports."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from earlywarn.errors import PersonalDataError
from earlywarn.tracking.backtest_run import BACKTEST_KIND, KIND_TAG, log_backtest, run_metrics


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2025-04-01", "2025-01-01"]),
            "model_version": ["3", "3"],
            "n_poor": [40, 38],
            "model_average_precision": [0.41, 0.33],
            "rule_prevention_share": [0.2, float("nan")],
        }
    )


def test_run_metrics_keep_numbers_and_drop_gaps():
    row = _runs().iloc[1].to_dict()
    assert run_metrics(row) == {"n_poor": 38.0, "model_average_precision": 0.33}


def test_a_backtest_is_a_run_with_a_nested_run_per_scoring_run(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    report = tmp_path / "backtest-2025.en.html"
    report.write_text("<html></html>", encoding="utf-8")
    counties = pd.DataFrame({"county": ["A"], "scorer": ["model"], "roc_auc": [0.8]})
    run_id = log_backtest(
        experiment="earlywarn", target_year=2025, runs=_runs(), by_county=counties, files=[report]
    )
    client = MlflowClient(tracking_uri=uri)
    parent = client.get_run(run_id)
    assert parent.data.tags[KIND_TAG] == BACKTEST_KIND
    assert parent.data.params == {"target_year": "2025", "n_runs": "2"}
    # the parent's metric history is the runs in date order: January first
    history = client.get_metric_history(run_id, "model_average_precision")
    assert [(m.step, m.value) for m in history] == [(0, 0.33), (1, 0.41)]
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'"
    )
    by_date = {run.data.tags["earlywarn.as_of"]: run for run in children}
    assert sorted(by_date) == ["2025-01-01", "2025-04-01"]
    assert by_date["2025-04-01"].data.metrics["model_average_precision"] == 0.41
    assert "rule_prevention_share" not in by_date["2025-01-01"].data.metrics
    assert all(run.info.status == "FINISHED" for run in [parent, *children])
    logged = [item.path for item in client.list_artifacts(run_id, "backtest")]
    assert logged == ["backtest/backtest-2025.en.html"]


def test_personal_columns_refuse_the_backtest_before_mlflow_is_touched(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    counties = pd.DataFrame({"county": ["A"], "head_name": ["x"]})
    with pytest.raises(PersonalDataError, match="head_name"):
        log_backtest(
            experiment="earlywarn", target_year=2025, runs=_runs(), by_county=counties, files=[]
        )
    assert not (tmp_path / "mlflow.db").exists()
