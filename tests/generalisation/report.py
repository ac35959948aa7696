"""The harness's tables, and plain Markdown for them (no extra dependency)."""

from __future__ import annotations

import pandas as pd

from earlywarn.data.columns import AS_OF

SCORE_ORDER = (
    "earlywarn",
    "peer_lgbm",
    "peer_logistic",
    "peer_lgbm_catalog",
    "peer_lgbm_catalog_no_place",
    "rule",
    "rule_income",
    "oracle",
)


MONTHS = {1: "jan", 4: "apr", 7: "jul", 10: "oct"}


def _when(as_of: str) -> str:
    return as_of if as_of == "all" else MONTHS.get(pd.Timestamp(as_of).month, as_of)


def harness_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per world and score (baseline earlywarn, peer, rule, oracle), the mean over seeds of
    AP and ROC-AUC on 1 January and 1 July, recall at 10% (all test dates pooled) and mean
    risk over the realised rate on those two dates (every month: :func:`level_table`)."""
    rows = metrics[~metrics["score"].str.contains(":")].assign(when=metrics[AS_OF].map(_when))
    wide = rows.pivot_table(
        index=["world", "score"],
        columns="when",
        values=["average_precision", "roc_auc", "recall_at_10pct", "risk_over_rate"],
        aggfunc="mean",
    )
    table = pd.DataFrame(
        {
            "AP jan": wide[("average_precision", "jan")],
            "AP jul": wide[("average_precision", "jul")],
            "ROC jan": wide[("roc_auc", "jan")],
            "ROC jul": wide[("roc_auc", "jul")],
            "recall@10%": wide[("recall_at_10pct", "all")],
            "risk/rate jan": wide[("risk_over_rate", "jan")],
            "risk/rate jul": wide[("risk_over_rate", "jul")],
        }
    )
    n_seeds = rows.groupby(["world", "score"])["seed"].nunique()
    table["seeds"] = n_seeds.reindex(table.index)
    return _ordered(table)


def level_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per world and probability score, mean risk over the realised rate at each test month
    (mean over seeds): does the level track a year as it unfolds?"""
    rows = metrics[~metrics["score"].str.contains(":") & metrics["risk_over_rate"].notna()]
    rows = rows[rows[AS_OF] != "all"].assign(when=rows[AS_OF].map(_when))
    wide = rows.pivot_table(
        index=["world", "score"], columns="when", values="risk_over_rate", aggfunc="mean"
    )
    months = [m for m in MONTHS.values() if m in wide.columns]
    table = wide[months].rename(columns=lambda m: f"risk/rate {m}")
    return _ordered(table)


def gap_closed(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per simulated world and test month: earlywarn's AP, the best peer's (LightGBM or
    logistic regression), the oracle's, and the share of the best peer's gap to the oracle
    that earlywarn closes, (earlywarn - peer) / (oracle - peer); means over seeds."""
    rows = metrics[metrics[AS_OF] != "all"].assign(when=metrics[AS_OF].map(_when))
    ap = rows.pivot_table(
        index=["world", "when"], columns="score", values="average_precision", aggfunc="mean"
    )
    ap = ap[ap.get("oracle", pd.Series(dtype=float)).notna()] if "oracle" in ap else ap.iloc[:0]
    peer = ap[["peer_lgbm", "peer_logistic"]].max(axis=1)
    table = pd.DataFrame(
        {
            "earlywarn": ap["earlywarn"],
            "best peer": peer,
            "oracle": ap["oracle"],
            "gap closed": (ap["earlywarn"] - peer) / (ap["oracle"] - peer),
        }
    )
    order = {m: i for i, m in enumerate(MONTHS.values())}
    keys = table.index.to_frame(index=False)
    keys["rank"] = keys["when"].map(order)
    return table.iloc[keys.sort_values(["world", "rank"]).index.to_numpy()]


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    order = {name: i for i, name in enumerate(SCORE_ORDER)}
    keys = table.index.to_frame(index=False)
    keys["rank"] = keys["score"].map(order).fillna(len(order))
    return table.iloc[keys.sort_values(["world", "rank"]).index.to_numpy()]


def markdown(table: pd.DataFrame, *, digits: int = 3) -> str:
    """A GitHub Markdown table of ``table`` (index levels become the first columns)."""
    frame = table.reset_index()
    frame.columns = [
        " ".join(str(p) for p in c if str(p)) if isinstance(c, tuple) else str(c)
        for c in frame.columns
    ]

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.{digits}f}"
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)
