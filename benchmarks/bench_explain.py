"""TreeSHAP for the reasons: LightGBM's own ``pred_contrib`` against ``shap.TreeExplainer``.

Trains a booster like the project's (binary, 1 thread, a categorical column) on a synthetic
frame, then times on the same rows: plain predict, ``pred_contrib`` and shap's TreeExplainer
(tree-path-dependent, the only algorithm that works with native categoricals), and checks the
values are identical. Prints the figures and the ratios. Run:

    OMP_WAIT_POLICY=passive .venv/bin/python benchmarks/bench_explain.py [n_rows]
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import pandas as pd

from earlywarn.explain.contributions import contributions, import_shap
from earlywarn.model.fit import fit_model


def synthetic(n_rows: int, n_features: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n_rows, n_features)), columns=[f"f{i:02d}" for i in range(n_features)]
    )
    X.iloc[rng.random(X.shape) < 0.05] = np.nan
    X["village"] = pd.Categorical(rng.choice([f"v{i}" for i in range(40)], n_rows))
    logit = X["f00"].fillna(0) - 0.8 * X["f01"].fillna(0) + 0.5 * X["f02"].fillna(0) ** 2 - 2
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def best_of(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main(n_rows: int = 5_000) -> None:
    X, y = synthetic(40_000)
    params = {"num_leaves": 31, "learning_rate": 0.05}
    model = fit_model(X, y, params, seed=0, num_threads=1, num_boost_round=300)
    booster = model.booster
    rows = X.iloc[:n_rows]
    prepared = model.prepare(rows)
    shap = import_shap()
    explainer = shap.TreeExplainer(booster)

    t_predict = best_of(lambda: booster.predict(prepared, raw_score=True))
    t_contrib = best_of(lambda: contributions(model, rows))
    t_shap = best_of(lambda: explainer(prepared), repeats=1)

    ours = contributions(model, rows)
    theirs = explainer(prepared)
    diff = float(np.max(np.abs(ours.values.to_numpy() - np.asarray(theirs.values))))
    sum_diff = float(
        np.max(np.abs(ours.log_odds.to_numpy() - booster.predict(prepared, raw_score=True)))
    )
    print(
        f"rows explained: {n_rows:,}; booster: 300 trees x 31 leaves, {X.shape[1]} features "
        f"(1 categorical), 1 thread"
    )
    print(f"plain predict           {t_predict:8.3f} s")
    print(
        f"pred_contrib (ours)     {t_contrib:8.3f} s   {t_contrib / t_predict:6.1f}x predict  "
        f"{1e6 * t_contrib / n_rows:7.1f} us/row"
    )
    print(
        f"shap.TreeExplainer      {t_shap:8.3f} s   {t_shap / t_predict:6.1f}x predict  "
        f"{1e6 * t_shap / n_rows:7.1f} us/row"
    )
    print(f"shap / pred_contrib     {t_shap / t_contrib:8.2f}x")
    print(f"max |ours - shap|       {diff:.2e}   (identical values: {diff < 1e-9})")
    print(f"max |base + sum - raw|  {sum_diff:.2e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)
