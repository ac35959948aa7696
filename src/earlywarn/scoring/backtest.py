"""How good past warnings were, once the target year's survey round is in.

Each stored scoring run of year Y (an as-of date d in Y and a model version: household_id,
risk, flagged) is set against what happened: ``poor`` in Y from the round of Y (unknown when
the household has no round in Y or a null component; those rows are left out of every
figure). Beside the model stands the current rule, applied at the same d to the same
households from what was known then (``model.rule.rule_flags``):

- **capacity** K is the number of households the run flagged (the policy's capacity); the
  rule *at the same capacity* sends its triggered households first, those with the lowest
  last income relative to the line first, up to K; the rule's own triggers (however many)
  are reported too;
- **prevention**: of the households poor in Y that were *not monitored at d* (never, or their
  spell had exited: nobody was helping them), the share each flagged at capacity K; and how
  much of K each spent on households already monitored at d;
- **the run's own estimate**: the expected number poor among the flagged (the sum of their
  risks), against the realised number;
- **calibration**: mean risk against the realised share poor.

Pure: score runs and tables in, tables of figures out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import AS_OF, COUNTY, FLAGGED, HOUSEHOLD_ID, MODEL_VERSION, RISK, YEAR
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError
from earlywarn.features.labels import poverty_by_year
from earlywarn.features.monitoring import MONITORED, MONITORING_STATUS, monitoring_status
from earlywarn.model.evaluate import score_metrics
from earlywarn.model.rule import LAST_INCOME, RULE_FLAGGED, RULE_LINE, rule_flags

POOR = "poor"
RULE_AT_CAPACITY = "rule_at_capacity"
NOT_MONITORED = "not_monitored_at_as_of"


@dataclass(frozen=True)
class ScoreRun:
    """One stored scoring run: its scores (household_id, risk, flagged) at ``as_of``."""

    as_of: pd.Timestamp
    model_version: str
    scores: pd.DataFrame


@dataclass(frozen=True)
class Backtest:
    """The figures of every run of ``target_year``.

    ``runs``: one row per run (as_of, model_version) with the model's and the rule's figures;
    ``by_county``: one row per run, county and scorer (``model`` or ``rule``);
    ``households``: one row per run and household with its risk, flags, rule flags, label and
    monitoring status (what every figure is computed from).
    """

    target_year: int
    runs: pd.DataFrame
    by_county: pd.DataFrame
    households: pd.DataFrame


def backtest(
    runs: Sequence[ScoreRun], tables: Tables, *, target_year: int, rule_cfg: RuleConfig
) -> Backtest:
    """Evaluate every run whose as_of falls in ``target_year`` against the round of that year.

    Raises when the tables hold no household's poverty status in ``target_year`` (its round
    has not arrived) or no run is of that year.
    """
    labels = target_labels(tables, target_year)
    chosen = sorted(
        (run for run in runs if run.as_of.year == target_year),
        key=lambda run: (run.as_of, run.model_version),
    )
    if not chosen:
        years = sorted({run.as_of.year for run in runs})
        raise EarlywarnError(
            f"no stored scoring run of {target_year} (runs found for: "
            f"{', '.join(map(str, years)) or 'none'})"
        )
    frames = [run_households(run, tables, labels, rule_cfg) for run in chosen]
    households = pd.concat(frames, ignore_index=True)
    rows = [run_figures(frame) for frame in frames]
    counties = [county_figures(frame) for frame in frames]
    return Backtest(
        target_year=target_year,
        runs=pd.DataFrame(rows),
        by_county=pd.concat(counties, ignore_index=True),
        households=households,
    )


def target_labels(tables: Tables, target_year: int) -> pd.Series:
    """Poor in ``target_year`` per household (boolean, NA unknown), from that year's round."""
    yearly = poverty_by_year(tables)
    rows = yearly[yearly[YEAR] == target_year]
    if not rows[POOR].notna().any():
        raise EarlywarnError(
            f"the data hold no household's poverty status in {target_year}: its survey round "
            "has not arrived (a backtest needs the target year's round)"
        )
    return rows.set_index(rows[HOUSEHOLD_ID].astype(str))[POOR]


def run_households(
    run: ScoreRun, tables: Tables, labels: pd.Series, rule_cfg: RuleConfig
) -> pd.DataFrame:
    """One row per household of ``run``: county, risk, flagged, the rule's triggers and its
    pick at the run's capacity, poor in the target year, monitored at as_of or not."""
    scores = run.scores.drop_duplicates(HOUSEHOLD_ID)
    ids = pd.Index(scores[HOUSEHOLD_ID].astype(str), name=HOUSEHOLD_ID)
    county = tables.households.set_index(tables.households[HOUSEHOLD_ID].astype(str))[COUNTY]
    rule = rule_flags(tables, run.as_of, ids, cfg=rule_cfg)
    status = monitoring_status(tables, run.as_of, ids)
    frame = pd.DataFrame(
        {
            AS_OF: run.as_of,
            MODEL_VERSION: run.model_version,
            HOUSEHOLD_ID: ids,
            COUNTY: county.reindex(ids).astype("str").to_numpy(),
            RISK: scores[RISK].astype("float64").to_numpy(),
            FLAGGED: scores[FLAGGED].astype(bool).to_numpy(),
            RULE_FLAGGED: rule[RULE_FLAGGED].to_numpy(dtype=bool),
            POOR: labels.reindex(ids).astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            NOT_MONITORED: (status[MONITORING_STATUS] != MONITORED).to_numpy(dtype=bool),
        }
    )
    frame[RULE_AT_CAPACITY] = rule_at_capacity(rule, int(frame[FLAGGED].sum())).to_numpy()
    return frame


def rule_at_capacity(rule: pd.DataFrame, capacity: int) -> pd.Series:
    """The rule's ``capacity`` households: triggered first, then the lowest last income
    relative to the line (unknown income last), ties by household id."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (rule[LAST_INCOME] / rule[RULE_LINE]).astype(float).fillna(np.inf)
    order = pd.DataFrame(
        {"untriggered": ~rule[RULE_FLAGGED].astype(bool), "ratio": ratio, "id": rule.index},
        index=rule.index,
    ).sort_values(["untriggered", "ratio", "id"], kind="mergesort")
    picked = pd.Series(False, index=rule.index)
    picked.loc[order.index[:capacity]] = True
    return picked


def _scorer_figures(frame: pd.DataFrame, prefix: str, score: str, flags: str) -> dict[str, float]:
    known = frame[frame[POOR].notna()]
    metrics = score_metrics(
        known[POOR].to_numpy(), known[score].to_numpy(dtype=float), known[flags].to_numpy()
    )
    poor_free = known[(known[POOR] == 1) & known[NOT_MONITORED]]
    return {
        f"{prefix}roc_auc": metrics["roc_auc"],
        f"{prefix}average_precision": metrics["average_precision"],
        f"{prefix}recall_at_capacity": metrics["recall_at_capacity"],
        f"{prefix}precision_at_capacity": metrics["precision_at_capacity"],
        f"{prefix}prevention_share": (
            float(poor_free[flags].mean()) if len(poor_free) else float("nan")
        ),
        # capacity spent on households the county already monitors (all rows, known or not)
        f"{prefix}flagged_monitored": int((frame[flags] & ~frame[NOT_MONITORED]).sum()),
    }


def run_figures(frame: pd.DataFrame) -> dict[str, object]:
    """One run's figures (see the module docstring); rows with an unknown label left out,
    except in ``n_households`` and ``capacity``."""
    known = frame[frame[POOR].notna()]
    flagged = known[known[FLAGGED]]
    own = score_metrics(
        known[POOR].to_numpy(),
        known[RULE_FLAGGED].to_numpy(dtype=float),
        known[RULE_FLAGGED].to_numpy(),
        probabilistic=False,
    )
    return {
        AS_OF: frame[AS_OF].iloc[0],
        MODEL_VERSION: frame[MODEL_VERSION].iloc[0],
        "n_households": len(frame),
        "n_known": len(known),
        "n_poor": int(known[POOR].sum()),
        "capacity": int(frame[FLAGGED].sum()),
        "mean_risk": float(known[RISK].mean()) if len(known) else float("nan"),
        "realised_rate": float(known[POOR].mean()) if len(known) else float("nan"),
        "expected_poor_flagged": float(flagged[RISK].sum()),
        "realised_poor_flagged": int(flagged[POOR].sum()),
        "n_poor_not_monitored": int(((known[POOR] == 1) & known[NOT_MONITORED]).sum()),
        **_scorer_figures(frame, "model_", RISK, FLAGGED),
        **_scorer_figures(
            frame.assign(_rule=frame[RULE_FLAGGED] * 1.0), "rule_", "_rule", RULE_AT_CAPACITY
        ),
        "rule_n_triggered": int(frame[RULE_FLAGGED].sum()),
        "rule_triggered_recall": own["recall_at_capacity"],
        "rule_triggered_precision": own["precision_at_capacity"],
    }


def county_figures(frame: pd.DataFrame) -> pd.DataFrame:
    """Per county: households, poor, mean risk and realised rate; recall, precision, ROC-AUC
    and average precision of the model and of the rule at the run's capacity."""
    rows = []
    for county, group in frame.groupby(COUNTY, sort=True):
        known = group[group[POOR].notna()]
        base = {
            AS_OF: frame[AS_OF].iloc[0],
            MODEL_VERSION: frame[MODEL_VERSION].iloc[0],
            COUNTY: county,
            "n_known": len(known),
            "n_poor": int(known[POOR].sum()),
            "mean_risk": float(known[RISK].mean()) if len(known) else float("nan"),
            "realised_rate": float(known[POOR].mean()) if len(known) else float("nan"),
        }
        for scorer, score, flags in (
            ("model", RISK, FLAGGED),
            ("rule", RULE_FLAGGED, RULE_AT_CAPACITY),
        ):
            metrics = score_metrics(
                known[POOR].to_numpy(),
                known[score].to_numpy(dtype=float),
                known[flags].to_numpy(),
                probabilistic=False,
            )
            rows.append(
                {
                    **base,
                    "scorer": scorer,
                    "n_flagged": int(group[flags].sum()),
                    "recall_at_capacity": metrics["recall_at_capacity"],
                    "precision_at_capacity": metrics["precision_at_capacity"],
                    "roc_auc": metrics["roc_auc"],
                    "average_precision": metrics["average_precision"],
                }
            )
    return pd.DataFrame(rows)
