"""The training job: examples -> tune -> fit -> calibrate -> compare -> save -> track."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from earlywarn import __version__ as earlywarn_version
from earlywarn.config import Config, Population, config_hash
from earlywarn.data.columns import (
    AS_OF,
    HOUSEHOLD_ID,
)
from earlywarn.data.storage import (
    atomic_path,
    check_writable,
    write_text_atomic,
)
from earlywarn.model.model_file import RiskModel

log = logging.getLogger(__name__)


TRAIN_SCORE_NAMES = ("model", "logistic", "rule", "oracle")


@dataclass(frozen=True)
class TrainingResult:
    """What ``earlywarn train`` produced: the saved model, its test-year comparison, the URI.

    ``comparison`` has one row per score (model, logistic, rule, oracle when truth exists) on
    the test year; ``oracle_gap`` is the model's average precision minus the oracle's on the
    rows where the oracle is known (None without truth). ``model_uri`` is the registered
    model's URI when tracked, else the model directory.
    """

    model: RiskModel
    model_dir: Path
    model_uri: str
    run_id: str | None
    comparison: pd.DataFrame
    oracle_gap: float | None
    test_year: int
    metrics: dict[str, float]
    tuning_history: pd.DataFrame
    artifacts: dict[str, Path]


def _study_name(cfg: Config, population: str, examples_fingerprint: str) -> str:
    """Stable across reruns of the same data and search settings (so tuning resumes)."""
    from earlywarn.features.catalog import catalog_hash
    from earlywarn.model.search import SEARCH_SPACE_VERSION

    settings = json.dumps(
        {
            "tune": cfg.tune.model_dump(
                mode="json",
                exclude={"n_trials", "timeout_seconds", "storage", "study_name", "num_threads"},
            ),
            "train": cfg.train.model_dump(
                mode="json",
                include={
                    "max_boost_rounds",
                    "early_stopping_rounds",
                    "n_valid_years",
                    "as_of_months",
                    "calibration_share",
                    "first_target_year",
                    "last_target_year",
                },
            ),
            "population": population,
            "examples": examples_fingerprint,
            "search_space": SEARCH_SPACE_VERSION,
            "catalog": catalog_hash(),
        },
        sort_keys=True,
    )
    return f"earlywarn-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def _read_truth(data_dir: Path) -> pd.DataFrame | None:
    """The simulator's truth.parquet (oracle probabilities), if the data directory has one."""
    path = data_dir / "truth.parquet"
    if not path.is_file():
        return None
    truth = pd.read_parquet(path)
    truth[HOUSEHOLD_ID] = truth[HOUSEHOLD_ID].astype("str")
    truth[AS_OF] = pd.to_datetime(truth[AS_OF]).astype("datetime64[us]")
    return truth


def _oracle_scores(keys: pd.DataFrame, truth: pd.DataFrame | None) -> np.ndarray | None:
    """Oracle probability per example row (NaN where truth has no such household and date)."""
    if truth is None:
        return None
    lookup = truth.drop_duplicates([HOUSEHOLD_ID, AS_OF]).set_index([HOUSEHOLD_ID, AS_OF])
    index = pd.MultiIndex.from_arrays(
        [keys[HOUSEHOLD_ID].astype("str"), keys[AS_OF].astype("datetime64[us]")]
    )
    return lookup["oracle_probability"].reindex(index).to_numpy(dtype=float)


def _rule_scores(tables: Any, keys: pd.DataFrame, cfg: Config) -> np.ndarray:
    """The current rule's flags (1.0/0.0) per example row, computed at each as-of date."""
    from earlywarn.model.rule import RULE_FLAGGED, rule_flags

    flagged = np.zeros(len(keys), dtype=float)
    for as_of, rows in keys.groupby(AS_OF, sort=True).indices.items():
        ids = keys[HOUSEHOLD_ID].to_numpy()[rows]
        flags = rule_flags(tables, pd.Timestamp(as_of), ids, cfg=cfg.rule)
        flagged[rows] = flags[RULE_FLAGGED].to_numpy(dtype=float)
    return flagged


def _logit(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(clipped / (1 - clipped))


def _save_figure(figure: Any, target: Path) -> Path:
    with atomic_path(target) as staged:
        figure.savefig(staged, format="png")
    return target


def run_training(
    cfg: Config,
    data_dir: Path,
    *,
    out_dir: Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
) -> TrainingResult:
    """Read a data directory (and its truth.parquet, if simulated) and train on it: see
    :func:`train_on_tables`."""
    from earlywarn.data.schema import read_tables

    if track:  # fail before reading anything when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    check_writable(Path(out_dir) if out_dir is not None else cfg.train.models_dir, folder=True)
    data_dir = Path(data_dir)
    tables = read_tables(data_dir, mapping=cfg.data.mapping)
    return train_on_tables(
        cfg,
        tables,
        truth=_read_truth(data_dir),
        out_dir=out_dir,
        trials=trials,
        population=population,
        track=track,
    )


def train_on_tables(
    cfg: Config,
    tables: Any,
    *,
    truth: pd.DataFrame | None = None,
    out_dir: Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
) -> TrainingResult:
    """Train, calibrate and compare the risk model on a data directory; save and track it.

    Examples at ``cfg.train.as_of_months`` of every labelled target year; the last target
    year is the test (never tuned, calibrated or chosen on), the one before calibrates, the
    rest fit (see :mod:`earlywarn.features.examples`). The model goes to ``out_dir`` (default
    ``models/<run-name>``), the card, plots and tables to ``<out_dir>_card/``; the study to
    ``cfg.tune.storage`` (default ``tuning.sqlite3`` beside the model directory) so that an
    interrupted tuning resumes. ``track=False`` (unit tests only) skips MLflow.
    """
    from dataclasses import replace

    import optuna

    from earlywarn.data.storage import fingerprint_frame
    from earlywarn.features.catalog import catalog_frame, catalog_hash
    from earlywarn.features.examples import (
        as_of_dates,
        build_examples,
        labelled_target_years,
        split_out_of_time,
    )
    from earlywarn.model.baselines import fit_logistic, predict_logistic
    from earlywarn.model.card import ModelCard, render_model_card
    from earlywarn.model.charts import precision_recall_figure, reliability_figure
    from earlywarn.model.evaluate import (
        by_month,
        compare,
        expected_calibration_error,
        reliability_table,
        subgroup_attributes,
        subgroup_gaps,
        subgroup_table,
    )
    from earlywarn.model.fit import calibrate, fit_calibrator, fit_model
    from earlywarn.model.model_file import save_model
    from earlywarn.model.policy import flag_rounds
    from earlywarn.model.search import SearchBounds, effective_leaves, explanation_rate, search
    from earlywarn.scoring.drift import drift_reference

    if track:  # fail before any tuning when the tracking store cannot be used
        from earlywarn.tracking import check_tracking_available

        check_tracking_available()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    population = population or cfg.data.population
    fingerprints = {
        name: fingerprint_frame(getattr(tables, name))
        for name in ("households", "household_years", "events", "assistance", "lines")
    }

    years = [
        y
        for y in labelled_target_years(tables)
        if (cfg.train.first_target_year is None or y >= cfg.train.first_target_year)
        and (cfg.train.last_target_year is None or y <= cfg.train.last_target_year)
    ]
    examples = build_examples(
        tables, as_of_dates(years, cfg.train.as_of_months), population=population
    )
    split = split_out_of_time(
        examples.keys,
        n_valid_years=cfg.train.n_valid_years,
        calibration_share=cfg.train.calibration_share,
        seed=cfg.tune.seed,
    )
    fit, calibration, test = (
        examples.take(split.fit),
        examples.take(split.calibration),
        examples.take(split.test),
    )
    log.info(
        "examples: fit %d (%s), calibration %d (%d), test %d (%d)",
        len(fit),
        split.fit_years,
        len(calibration),
        split.calibration_year,
        len(test),
        split.test_year,
    )

    run_name = cfg.train.run_name or (f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{config_hash(cfg)[:8]}")
    model_dir = Path(out_dir) if out_dir is not None else cfg.train.models_dir / run_name
    storage_path = cfg.tune.storage or model_dir.parent / "tuning.sqlite3"
    storage_path.parent.mkdir(parents=True, exist_ok=True)
    examples_fingerprint = fingerprint_frame(pd.concat([examples.keys, examples.labels], axis=1))
    study_name = cfg.tune.study_name or _study_name(cfg, population, examples_fingerprint)
    bounds = SearchBounds(
        max_boost_rounds=cfg.train.max_boost_rounds,
        early_stopping_rounds=cfg.train.early_stopping_rounds,
        size_tolerance=cfg.train.size_tolerance,
    )
    tuning = search(
        fit.features,
        fit.labels,
        split.folds,
        cfg.tune,
        storage_url=f"sqlite:///{Path(storage_path).resolve()}",
        study_name=study_name,
        n_trials=trials,
        bounds=bounds,
    )

    seed, threads = cfg.tune.seed, cfg.tune.num_threads
    model = fit_model(
        fit.features,
        fit.labels,
        tuning.params,
        seed=seed,
        num_threads=threads,
        num_boost_round=tuning.num_boost_round,
        catalog_hash=catalog_hash(),
    )
    uncalibrated_cal_ece = expected_calibration_error(
        calibration.labels.to_numpy(dtype=float), model.predict_risk(calibration.features)
    )
    model = calibrate(model, calibration.features, calibration.labels, method=cfg.train.calibration)
    logistic = fit_logistic(fit.features, fit.labels, seed=seed)
    logistic_calibrator = fit_calibrator(  # same held-out recalibration as the booster
        _logit(predict_logistic(logistic, calibration.features)),
        calibration.labels.to_numpy(dtype=float),
        cfg.train.calibration,
    )

    y_test = test.labels.to_numpy(dtype=float)
    scores: dict[str, np.ndarray] = {
        "model": model.predict_risk(test.features),
        "logistic": logistic_calibrator(_logit(predict_logistic(logistic, test.features))),
        "rule": _rule_scores(tables, test.keys, cfg),
    }
    oracle = _oracle_scores(test.keys, truth)
    if oracle is not None and np.isfinite(oracle).any():
        scores["oracle"] = oracle
    households = tables.households.set_index(HOUSEHOLD_ID)
    flagged = {
        name: flag_rounds(test.keys, score, households, cfg.policy)
        for name, score in scores.items()
        if name != "rule"
    }
    flagged["rule"] = scores["rule"] > 0
    comparison = compare(y_test, scores, flagged, probabilistic=[n for n in scores if n != "rule"])
    oracle_gap: float | None = None
    if "oracle" in scores:
        known = np.isfinite(scores["oracle"])
        same_rows = compare(
            y_test[known],
            {n: s[known] for n, s in scores.items()},
            {n: f[known] for n, f in flagged.items()},
            probabilistic=[n for n in scores if n != "rule"],
        )
        ap = same_rows.set_index("model")["average_precision"]
        oracle_gap = float(ap["model"] - ap["oracle"])

    evaluation = pd.concat([test.keys, subgroup_attributes(tables, test.keys)], axis=1)
    evaluation = evaluation.assign(label=y_test, risk=scores["model"], flagged=flagged["model"])
    subgroups = subgroup_table(evaluation, label="label", risk="risk", flagged="flagged")
    gaps = subgroup_gaps(subgroups)
    months = by_month(evaluation, label="label", risk="risk", flagged="flagged")
    reliability = reliability_table(y_test, scores["model"])
    rate = explanation_rate(
        model.booster, model.prepare(test.features), n_rows=cfg.train.explain_rate_rows
    )

    metrics: dict[str, float] = {}
    for row in comparison.to_dict("records"):
        for key, value in row.items():
            if key != "model":
                metrics[f"test_{key}_{row['model']}"] = float(value)
    if oracle_gap is not None:
        metrics["test_average_precision_gap_to_oracle"] = oracle_gap
    metrics.update(
        {
            "tune_best_value": tuning.best_value,
            "tune_chosen_value": tuning.chosen_value,
            "tune_n_trials": float((tuning.history["state"] != "RUNNING").sum()),
            "model_num_trees": float(model.booster.num_trees()),
            "explanation_rate_households_per_second": rate,
            "calibration_ece_before": uncalibrated_cal_ece,
            "calibration_ece_after": expected_calibration_error(
                calibration.labels.to_numpy(dtype=float), model.predict_risk(calibration.features)
            ),
            "n_examples_fit": float(len(fit)),
            "n_examples_calibration": float(len(calibration)),
            "n_examples_test": float(len(test)),
        }
    )
    for _, gap in gaps.iterrows():
        for key in gap.index:
            if key.endswith("_gap"):
                metrics[f"subgroup_{gap['group']}_{key}"] = float(gap[key])

    chosen = {
        k.removeprefix("param_"): v
        for k, v in tuning.history.set_index("number").loc[tuning.chosen_trial].items()
        if k.startswith("param_")
    }
    metadata = {
        "config_hash": config_hash(cfg),
        "run_name": run_name,
        "population": population,
        "as_of_months": list(cfg.train.as_of_months),
        "fit_years": list(split.fit_years),
        "calibration_year": split.calibration_year,
        "test_year": split.test_year,
        "num_boost_round": tuning.num_boost_round,
        "params": tuning.params,
        "study_name": tuning.study_name,
        "chosen_trial": tuning.chosen_trial,
        "table_fingerprints": fingerprints,
        "earlywarn_version": earlywarn_version,
        "test_metrics": {k: v for k, v in metrics.items() if k.startswith("test_")},
        "explanation_rate_households_per_second": rate,
        # binned features and risk of the calibration rows (the latest year before the test,
        # the population closest in time to what is scored): scoring measures PSI against it
        "drift_reference": drift_reference(
            calibration.features, model.predict_risk(calibration.features)
        ),
    }
    model = replace(model, metadata=metadata)
    save_model(model, model_dir)

    card_dir = model_dir.with_name(f"{model_dir.name}_card")
    card_dir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Path] = {}
    plots = {
        "precision_recall": precision_recall_figure(y_test, scores),
        "reliability": reliability_figure(y_test, {n: s for n, s in scores.items() if n != "rule"}),
    }
    for name, figure in plots.items():
        artifacts[f"plots/{name}.png"] = _save_figure(figure, card_dir / f"{name}.png")
    from earlywarn.explain.contributions import contributions, shap_summary_png

    shap_sample = test.features.sample(n=min(2_000, len(test)), random_state=seed)
    shap_png = shap_summary_png(contributions(model, shap_sample), shap_sample)
    with atomic_path(card_dir / "shap_summary.png") as staged:
        staged.write_bytes(shap_png)
    artifacts["plots/shap_summary.png"] = card_dir / "shap_summary.png"
    tables_out = {
        "comparison": comparison,
        "subgroups": subgroups,
        "subgroup_gaps": gaps,
        "by_month": months,
        "reliability": reliability,
        "tuning_history": tuning.history,
    }
    for name, frame in tables_out.items():
        target = card_dir / f"{name}.csv"
        write_text_atomic(frame.to_csv(index=False), target)
        artifacts[f"evaluation/{name}.csv"] = target
    card = ModelCard(
        model_version=run_name,
        created=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        population=population,
        data_window=f"{min(years)}-{max(years)}",
        fit_years=f"{min(split.fit_years)}-{max(split.fit_years)}"
        + (
            f" and {1 - cfg.train.calibration_share:.0%} of the households of "
            f"{split.calibration_year}"
            if cfg.train.calibration_share is not None and cfg.train.calibration_share < 1
            else ""
        ),
        calibration_year=split.calibration_year,
        test_year=split.test_year,
        as_of_months=", ".join(map(str, cfg.train.as_of_months)),
        n_examples={"fit": len(fit), "calibration": len(calibration), "test": len(test)},
        comparison=comparison,
        subgroups=subgroups,
        gaps=gaps,
        by_month=months,
        reliability=reliability,
        calibration_method=cfg.train.calibration,
        tuning={
            "n_trials": int(metrics["tune_n_trials"]),
            "best_value": tuning.best_value,
            "best_trial": tuning.best_trial,
            "chosen_trial": tuning.chosen_trial,
            "chosen_value": tuning.chosen_value,
            "num_boost_round": tuning.num_boost_round,
            "num_leaves": effective_leaves(chosen),
            "max_depth": chosen.get("max_depth"),
        },
        explanation_rate=rate,
        config_hash=config_hash(cfg),
        catalog_hash=catalog_hash(),
        limitations=_limitations(oracle_gap, gaps),
        plots={**{name: f"{name}.png" for name in plots}, "shap_summary": "shap_summary.png"},
    )
    markdown, html = render_model_card(card)
    for suffix, text in (("md", markdown), ("html", html)):
        write_text_atomic(text, card_dir / f"model_card.{suffix}")
        artifacts[f"model_card.{suffix}"] = card_dir / f"model_card.{suffix}"

    model_uri, run_id = str(model_dir), None
    if track:
        from earlywarn.tracking import log_training_run

        params = {
            **tuning.params,
            "num_boost_round": tuning.num_boost_round,
            "population": population,
            "study_name": tuning.study_name,
            "chosen_trial": tuning.chosen_trial,
        }
        ref = log_training_run(
            config=cfg,
            model=model,
            model_dir=model_dir,
            metrics=metrics,
            params=params,
            table_fingerprints=fingerprints,
            artifacts=artifacts,
            input_example=test.features.head(5),
            tuning_history=tuning.history,
            feature_catalog=catalog_frame(),
            run_name=run_name,
        )
        model_uri, run_id = ref.registered_uri, ref.run_id
    log.info("training finished in %.1f s: %s", time.perf_counter() - started, model_uri)
    return TrainingResult(
        model=model,
        model_dir=model_dir,
        model_uri=model_uri,
        run_id=run_id,
        comparison=comparison,
        oracle_gap=oracle_gap,
        test_year=split.test_year,
        metrics=metrics,
        tuning_history=tuning.history,
        artifacts=artifacts,
    )


def _limitations(oracle_gap: float | None, gaps: pd.DataFrame) -> tuple[str, ...]:
    """The model card's limitations: fixed caveats plus what this run measured."""
    items = [
        "Trained on past target years; a new poverty line, a new assistance policy or a shock "
        "unlike past ones (a pandemic) can change who becomes poor faster than the model learns.",
        "Income comes from yearly survey rounds: a household's situation between rounds is "
        "known only through reported events, so early-year scores rest mostly on last year.",
        "Unknown or unseen villages/counties are treated as missing by the booster.",
        "Subgroup gaps are measured on one test year; small groups vary a lot by chance.",
    ]
    if oracle_gap is not None:
        items.append(
            f"On simulated data the model's average precision is {oracle_gap:+.3f} "
            "from the oracle's (which knows the simulated world's state)."
        )
    if not gaps.empty and "average_precision_gap" in gaps.columns:
        worst = gaps.sort_values("average_precision_gap", ascending=False).iloc[0]
        if pd.notna(worst["average_precision_gap"]):
            items.append(
                f"Largest subgroup gap in average precision: "
                f"{worst['average_precision_gap']:.3f} across {worst['group']}."
            )
    return tuple(items)
