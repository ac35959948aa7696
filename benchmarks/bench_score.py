"""Benchmark: score a million households as of one date, against the plain path.

    .venv/bin/python benchmarks/bench_score.py [N_HOUSEHOLDS] [--plain-sample K]

Prints, for N simulated-like households (default 1,000,000; see ``score_data.py``) on this
machine's cores:
- the job as users run it (``earlywarn score`` in a subprocess: read + validate the data
  directory, features, calibrated risk for the whole population, the policy's flags (top
  10%), top reasons for the flagged, drift report, history), wall time and peak memory (RSS);
- the same with ``--explain-all`` (reasons for everyone);
- the plain path on the same work: per-household pandas ``groupby().apply`` features
  (``tests/plain_features.py``), one ``predict`` for everyone, ``shap.TreeExplainer`` on
  the flagged rows, one pass, no chunking. It is timed on a random sample of households
  (``--plain-sample``, default 20,000) and extrapolated linearly to the population, which
  this prints; the ratio plain / fast.
- the reasons stage of the job beside TreeSHAP alone on the same flagged rows, and their
  ratio (the texts, figures and village medians should cost at most as much as TreeSHAP);
- pred_contrib vs shap.TreeExplainer on the same rows (same values, time per row).

The model is a LightGBM booster trained here on 30,000 other simulated-like households
(default 200 trees, 15 leaves, depth <= 6, inside the tuning's search space), calibrated by
Platt scaling; ``--model DIR`` scores with a model `earlywarn train` saved instead. TreeSHAP
costs about trees x leaves x depth^2 per row, so the reasons' time follows the model's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))  # plain_features
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from score_data import simulated_like_tables

from earlywarn.data.directory import write_tables
from earlywarn.data.tables import Tables
from earlywarn.features.build import build_features
from earlywarn.features.catalog import catalog_hash
from earlywarn.features.labels import make_labels, population
from earlywarn.model.fit import calibrate, fit_model
from earlywarn.model.model_file import RiskModel, load_model, save_model
from earlywarn.scoring.drift import drift_reference
from earlywarn.scoring.score import partition_tables
from plain_features import plain_build_features

AS_OF = pd.Timestamp("2024-03-01")
EARLYWARN = Path(sys.executable).parent / "earlywarn"


def train_model(
    *, trees: int, leaves: int, depth: int, seed: int = 1, n: int = 30_000
) -> RiskModel:
    """A model of the size asked for, fitted on 2021-2022 and Platt-calibrated on 2023."""
    tables = simulated_like_tables(n, seed)
    frames, labels = [], []
    for as_of in ("2021-03-01", "2022-03-01", "2023-03-01"):
        y = make_labels(tables, as_of, population="exited").dropna()
        frames.append(build_features(tables, as_of=as_of, households=y.index))
        labels.append(y.astype(int))
    X, y = pd.concat(frames[:2], ignore_index=True), pd.concat(labels[:2], ignore_index=True)
    params = {
        "num_leaves": leaves,
        "max_depth": depth,
        "learning_rate": 0.05,
        "min_data_in_leaf": 50,
    }
    model = fit_model(
        X, y, params, seed=0, num_threads=2, num_boost_round=trees, catalog_hash=catalog_hash()
    )
    model = calibrate(model, frames[2], labels[2])
    reference = drift_reference(X, model.predict_risk(X))
    return replace(model, version="bench-1", metadata={"drift_reference": reference})


def run_job(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (GB) of one ``earlywarn`` subprocess, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([str(EARLYWARN), *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"earlywarn failed:\n{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("  (peak RSS not above an earlier child's; shown as the max so far)")
    return seconds, peak / 1024 / 1024, done.stdout


def print_reasons_against_treeshap(
    tables: Tables, model_dir: Path, scores_path: Path, meta: dict, *, wall_s: float
) -> None:
    """The job's reasons stage beside TreeSHAP alone on the same flagged rows (the model as
    the job loaded it, all rows in one call): what the reasons cost beyond TreeSHAP."""
    model = load_model(model_dir)
    scores = pd.read_parquet(scores_path, columns=["household_id", "flagged"])
    flagged = pd.Index(scores.loc[scores["flagged"], "household_id"], name="household_id")
    features = build_features(tables, as_of=AS_OF, households=flagged)
    started = time.perf_counter()
    model.log_odds_contributions(features)
    shap_s = time.perf_counter() - started
    reasons_s = meta["stage_seconds"]["reasons"]
    print(
        f"      REASONS stage {reasons_s:.1f} s for {len(flagged):,} flagged; TreeSHAP alone on "
        f"the same rows {shap_s:.1f} s ({len(flagged) / shap_s:,.0f} rows/s); ratio reasons / "
        f"TreeSHAP {reasons_s / shap_s:.2f} (target <= 2); whole job {wall_s:.1f} s wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--plain-sample", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--skip-explain-all", action="store_true")
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--leaves", type=int, default=15)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="score with this model folder (e.g. one `earlywarn train` saved)",
    )
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-score-"))
    print(
        f"cores: {os.cpu_count()}, households: {options.n:,}, as of {AS_OF.date()}, work dir {work}"
    )

    started = time.perf_counter()
    tables = simulated_like_tables(options.n, seed=0)
    data_dir = write_tables(tables, work / "data")
    print(
        f"data: {len(tables.household_years):,} survey rounds, {len(tables.events):,} "
        f"events, {len(tables.assistance):,} assistance rows "
        f"(generated and written in {time.perf_counter() - started:.0f} s, not timed below)"
    )
    started = time.perf_counter()
    if options.model is not None:
        model, model_dir = load_model(options.model), options.model
    else:
        model = train_model(trees=options.trees, leaves=options.leaves, depth=options.depth)
        model_dir = save_model(model, work / "model")
    leaves = model.booster.dump_model()["tree_info"]
    print(
        f"model: {model.booster.num_trees()} trees, "
        f"{np.mean([t['num_leaves'] for t in leaves]):.1f} leaves on average, "
        f"{len(model.feature_names)} features "
        f"(trained in {time.perf_counter() - started:.0f} s, not timed below)"
    )

    # --- the job, as users run it ---------------------------------------------------------
    base = [
        "score",
        "--data",
        str(data_dir),
        "--as-of",
        str(AS_OF.date()),
        "--model",
        str(model_dir),
        "--no-progress",
        "--chunk-size",
        str(options.chunk_size),
    ]
    fast_s, fast_gb, _ = run_job([*base, "--out", str(work / "fast" / "scores.parquet")])
    meta = json.loads((work / "fast" / "scores.parquet.meta.json").read_text())
    n_pop, n_flagged = meta["n_households"], meta["n_flagged"]
    print(
        f"\nFAST  earlywarn score (flagged explained): {fast_s:.1f} s wall, peak RSS "
        f"{fast_gb:.2f} GB; {n_pop:,} households scored, {n_flagged:,} flagged"
    )
    print(
        "      stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in meta["stage_seconds"].items())
    )
    stage = meta["stage_seconds"]
    print(
        f"      throughput of one process: read + validate "
        f"{options.n / stage['read_and_validate']:,.0f} households/s (all households), "
        f"features + risk {n_pop / stage['features_and_risk']:,.0f}/s, reasons "
        f"{n_flagged / max(stage['reasons'], 1e-9):,.0f} flagged/s"
    )
    print_reasons_against_treeshap(
        tables, model_dir, work / "fast" / "scores.parquet", meta, wall_s=fast_s
    )
    if not options.skip_explain_all:
        all_s, all_gb, _ = run_job(
            [*base, "--explain-all", "--out", str(work / "all" / "scores.parquet")]
        )
        meta_all = json.loads((work / "all" / "scores.parquet.meta.json").read_text())
        print(
            f"FAST  earlywarn score --explain-all: {all_s:.1f} s wall, peak RSS "
            f"{all_gb:.2f} GB; stages (s): "
            + ", ".join(f"{k} {v:.1f}" for k, v in meta_all["stage_seconds"].items())
        )

    # --- the plain path on a sample, extrapolated -------------------------------------------
    ids = pd.Index(sorted(population(tables, AS_OF)), name="household_id")
    rng = np.random.default_rng(0)
    sample = pd.Index(
        np.sort(rng.choice(ids.to_numpy(), min(options.plain_sample, len(ids)), replace=False)),
        name="household_id",
    )
    ((sub, _),) = partition_tables(tables, [sample])
    scale = len(ids) / len(sample)
    started = time.perf_counter()
    plain = plain_build_features(sub, as_of=AS_OF, households=sample)
    plain_features_s = time.perf_counter() - started
    fast_features = build_features(tables, as_of=AS_OF, households=sample)
    started = time.perf_counter()
    log_odds = model.booster.predict(model.prepare(fast_features), raw_score=True)
    risk = model.calibrator(log_odds)
    predict_s = time.perf_counter() - started
    n_flag_sample = max(1, round(len(sample) * n_flagged / n_pop))
    flagged_rows = model.prepare(fast_features).iloc[np.argsort(-risk)[:n_flag_sample]]
    import warnings

    import shap

    warnings.filterwarnings("ignore", message="LightGBM binary classifier", category=UserWarning)

    started = time.perf_counter()
    shap_values = shap.TreeExplainer(model.booster).shap_values(flagged_rows)
    shap_s = time.perf_counter() - started
    plain_total = (plain_features_s + predict_s + shap_s) * scale
    print(
        f"\nPLAIN on {len(sample):,} households ({len(plain.columns)} features) x "
        f"{scale:.1f} to the population: features {plain_features_s * scale:.0f} s, predict "
        f"{predict_s * scale:.1f} s, TreeExplainer on {n_flag_sample * scale:,.0f} flagged "
        f"{shap_s * scale:.0f} s -> {plain_total:.0f} s (extrapolated)"
    )
    print(f"RATIO plain / fast (whole job incl. read + validate): {plain_total / fast_s:.1f}x")

    # --- TreeSHAP implementations on the same rows -------------------------------------------
    started = time.perf_counter()
    contrib = model.booster.predict(flagged_rows, pred_contrib=True)
    contrib_s = time.perf_counter() - started
    same = np.allclose(contrib[:, :-1], shap_values, atol=1e-6)
    print(
        f"\nTreeSHAP on {len(flagged_rows):,} rows: LightGBM pred_contrib {contrib_s:.2f} s "
        f"({len(flagged_rows) / contrib_s:,.0f} rows/s), shap.TreeExplainer {shap_s:.2f} s "
        f"({len(flagged_rows) / shap_s:,.0f} rows/s); identical values: {same}; predict "
        f"{len(sample) / predict_s:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
