"""Tuning reports each finished trial (done, best so far, pruned) and records its runs."""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pandas as pd

from earlywarn.config import TuneConfig
from earlywarn.model.search import RUN_ID_ATTR, RUN_IDS_ATTR, SearchBounds, record_run, search


def _data():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"income_ratio": rng.normal(size=n), "n_shocks": rng.poisson(1, n) * 1.0})
    y = pd.Series(rng.uniform(size=n) < 1 / (1 + np.exp(2 - 1.5 * X["income_ratio"])))
    year = np.repeat([2019, 2020, 2021], n // 3)
    folds = [(np.flatnonzero(year < 2021), np.flatnonzero(year == 2021))]
    return X, y, folds


def test_each_trial_is_reported_and_the_study_records_its_runs(tmp_path, caplog):
    X, y, folds = _data()
    url = f"sqlite:///{tmp_path / 'tuning.sqlite3'}"
    cfg = TuneConfig(n_trials=3, seed=0, num_threads=1)
    bounds = SearchBounds(max_boost_rounds=30, early_stopping_rounds=5)
    with caplog.at_level(logging.INFO, logger="earlywarn.model.search"):
        result = search(X, y, folds, cfg, storage_url=url, study_name="s", bounds=bounds)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("tuning:")]
    assert [line.split(" ")[2] for line in lines] == ["1/3", "2/3", "3/3"]
    best = result.history["value"].max()
    assert f"best so far {best:.4f}" in lines[-1]
    assert all("pruned" in line and "failed" in line for line in lines)
    assert result.history["finished_at"].str.endswith("+00:00").all()

    record_run(url, "s", "run-1")
    record_run(url, "s", "run-2")
    record_run(url, "s", "run-1")  # a rerun of the same run moves to the end, once
    study = optuna.load_study(study_name="s", storage=url)
    assert study.user_attrs[RUN_ID_ATTR] == "run-1"
    assert study.user_attrs[RUN_IDS_ATTR] == ["run-2", "run-1"]
