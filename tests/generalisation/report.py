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


def _when(as_of: str) -> str:
    return as_of if as_of == "all" else {1: "jan", 7: "jul"}.get(pd.Timestamp(as_of).month, as_of)


def harness_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per world and score (baseline earlywarn, peer, rule, oracle), the mean over seeds of
    AP and ROC-AUC on 1 January and 1 July, recall at 10% (both dates) and mean risk over
    the realised rate on each date."""
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
