"""The test year side by side: the risk model, logistic regression, the current rule and, on
simulated data, the oracle, measured on the same examples.

Each probabilistic score (all but the rule) is flagged by the policy at each as-of date; the
rule flags whom it flags. The oracle (the simulator's probability, from its truth table) is
known only at some dates, so it is measured on its known rows, and the model's gap to it is
measured on those rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.config import Config, RuleConfig
from earlywarn.data.columns import (
    AS_OF,
    FLAGGED,
    HOUSEHOLD_ID,
    LABEL_POOR,
    ORACLE_PROBABILITY,
    RISK,
)
from earlywarn.data.tables import Tables
from earlywarn.model.baselines import fit_calibrated_logistic
from earlywarn.model.choice import LOGISTIC as LOGISTIC_CANDIDATE
from earlywarn.model.evaluate import (
    by_month,
    compare,
    reliability_table,
    subgroup_attributes,
    subgroup_gaps,
    subgroup_table,
)
from earlywarn.model.policy import flag_rounds
from earlywarn.model.rule import RULE_FLAGGED, rule_flags
from earlywarn.model.training import TrainedModel, refit_before_test

MODEL, LOGISTIC, RULE, ORACLE = "model", "logistic", "rule", "oracle"
ORACLE_GAP_METRIC = "test_average_precision_gap_to_oracle"


def metric_key(metric: str, score: str) -> str:
    """The run metric of ``metric`` for ``score`` on the test year: ``test_<metric>_<score>``."""
    return f"test_{metric}_{score}"


def oracle_scores(keys: pd.DataFrame, truth: pd.DataFrame | None) -> np.ndarray | None:
    """The oracle's probability per example row of ``keys`` (NaN where ``truth`` has no such
    household and as-of date); None without truth."""
    if truth is None:
        return None
    truth = truth.assign(
        **{
            HOUSEHOLD_ID: truth[HOUSEHOLD_ID].astype("str"),
            AS_OF: pd.to_datetime(truth[AS_OF]).astype("datetime64[us]"),
        }
    )
    lookup = truth.drop_duplicates([HOUSEHOLD_ID, AS_OF]).set_index([HOUSEHOLD_ID, AS_OF])
    index = pd.MultiIndex.from_arrays(
        [keys[HOUSEHOLD_ID].astype("str"), keys[AS_OF].astype("datetime64[us]")]
    )
    return lookup[ORACLE_PROBABILITY].reindex(index).to_numpy(dtype=float)


def rule_scores(tables: Tables, keys: pd.DataFrame, cfg: RuleConfig) -> np.ndarray:
    """The current rule's flags (1.0/0.0) per example row, computed at each as-of date."""
    flagged = np.zeros(len(keys), dtype=float)
    for as_of, rows in keys.groupby(AS_OF, sort=True).indices.items():
        ids = keys[HOUSEHOLD_ID].to_numpy()[rows]
        flags = rule_flags(tables, pd.Timestamp(as_of), ids, cfg=cfg)
        flagged[rows] = flags[RULE_FLAGGED].to_numpy(dtype=float)
    return flagged


@dataclass(frozen=True)
class YearComparison:
    """Every score on the test year, and the tables the model card shows.

    ``scores`` and ``flagged`` map a score's name (model, logistic, rule, oracle when known)
    to one value per test example; ``comparison`` has one row per score; ``oracle_gap`` is
    the model's average precision minus the oracle's on the rows where the oracle is known.
    ``subgroups``, ``gaps``, ``by_month`` and ``reliability`` measure the model alone.
    """

    labels: np.ndarray
    scores: dict[str, np.ndarray]
    flagged: dict[str, np.ndarray]
    comparison: pd.DataFrame
    oracle_gap: float | None
    subgroups: pd.DataFrame
    gaps: pd.DataFrame
    by_month: pd.DataFrame
    reliability: pd.DataFrame

    @property
    def risks(self) -> dict[str, np.ndarray]:
        """The probabilistic scores: every score but the rule's flags."""
        return {name: score for name, score in self.scores.items() if name != RULE}

    def test_metrics(self) -> dict[str, float]:
        """``test_<metric>_<score>`` for every cell of the comparison, and the oracle gap."""
        metrics: dict[str, float] = {}
        for row in self.comparison.to_dict("records"):
            for key, value in row.items():
                if key != "model":
                    metrics[metric_key(str(key), row["model"])] = float(value)
        if self.oracle_gap is not None:
            metrics[ORACLE_GAP_METRIC] = self.oracle_gap
        return metrics

    def subgroup_metrics(self) -> dict[str, float]:
        """``subgroup_<group>_<metric>_gap``: the model's spread across each subgroup."""
        metrics: dict[str, float] = {}
        for _, gap in self.gaps.iterrows():
            for key in gap.index:
                if key.endswith("_gap"):
                    metrics[f"subgroup_{gap['group']}_{key}"] = float(gap[key])
        return metrics


def compare_on_test_year(
    tables: Tables, trained: TrainedModel, *, truth: pd.DataFrame | None, cfg: Config
) -> YearComparison:
    """Fit logistic regression on the trained model's fitting examples and recalibrate it on
    its calibration examples (then, as the model, refit it on both with
    ``refit_on_calibration_year``); score the test examples with the model, the logistic, the
    rule (``cfg.rule``) and the oracle (``truth``, if any); flag each by ``cfg.policy``;
    measure."""
    fit, calibration, test = trained.fit, trained.calibration, trained.test
    logistic = fit_calibrated_logistic(
        fit.features,
        fit.labels,
        calibration.features,
        calibration.labels,
        method=cfg.train.calibration,
        seed=cfg.tune.seed,
    )
    if cfg.train.refit_on_calibration_year:  # on the terms the registered model was given
        logistic = refit_before_test(
            logistic, LOGISTIC_CANDIDATE, fit, calibration, trained.split, None, cfg
        )
    labels = test.labels.to_numpy(dtype=float)
    scores: dict[str, np.ndarray] = {
        MODEL: trained.model.predict_risk(test.features),
        LOGISTIC: logistic.predict_risk(test.features),
        RULE: rule_scores(tables, test.keys, cfg.rule),
    }
    oracle = oracle_scores(test.keys, truth)
    if oracle is not None and np.isfinite(oracle).any():
        scores[ORACLE] = oracle
    households = tables.households.set_index(HOUSEHOLD_ID)
    flagged = {
        name: flag_rounds(test.keys, score, households, cfg.policy)
        for name, score in scores.items()
        if name != RULE
    }
    flagged[RULE] = scores[RULE] > 0
    probabilistic = [name for name in scores if name != RULE]
    comparison = compare(labels, scores, flagged, probabilistic=probabilistic)

    evaluation = pd.concat([test.keys, subgroup_attributes(tables, test.keys)], axis=1)
    evaluation = evaluation.assign(
        **{LABEL_POOR: labels, RISK: scores[MODEL], FLAGGED: flagged[MODEL]}
    )
    subgroups = subgroup_table(evaluation, label=LABEL_POOR, risk=RISK, flagged=FLAGGED)
    return YearComparison(
        labels=labels,
        scores=scores,
        flagged=flagged,
        comparison=comparison,
        oracle_gap=_oracle_gap(labels, scores, flagged) if ORACLE in scores else None,
        subgroups=subgroups,
        gaps=subgroup_gaps(subgroups),
        by_month=by_month(evaluation, label=LABEL_POOR, risk=RISK, flagged=FLAGGED),
        reliability=reliability_table(labels, scores[MODEL]),
    )


def _oracle_gap(
    labels: np.ndarray, scores: dict[str, np.ndarray], flagged: dict[str, np.ndarray]
) -> float:
    """The model's average precision minus the oracle's, on the rows the oracle knows."""
    known = np.isfinite(scores[ORACLE])
    same_rows = compare(
        labels[known],
        {name: score[known] for name, score in scores.items()},
        {name: flags[known] for name, flags in flagged.items()},
        probabilistic=[name for name in scores if name != RULE],
    )
    average_precision = same_rows.set_index("model")["average_precision"]
    return float(average_precision[MODEL] - average_precision[ORACLE])
