"""Figures of a training run: precision-recall curves and reliability (calibration) diagrams.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas (no pyplot, no GUI
backend, no global state); the caller saves them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

from earlywarn.model.evaluate import reliability_table


def precision_recall_figure(
    labels: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    title: str = "Precision-recall on the test year",
) -> Figure:
    """One precision-recall curve per score (name -> score per example), and the base rate."""
    figure = Figure(figsize=(6, 4.5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    y = np.asarray(labels, dtype=int)
    for name, score in scores.items():
        values = np.asarray(score, dtype=float)
        keep = ~np.isnan(values)
        if len(np.unique(y[keep])) < 2:
            continue
        precision, recall, _ = precision_recall_curve(y[keep], values[keep])
        axes.step(recall, precision, where="post", label=name)
    if len(y):
        axes.axhline(y.mean(), color="grey", linestyle=":", label=f"base rate {y.mean():.3f}")
    axes.set(
        xlabel="recall (share of households that became poor)",
        ylabel="precision (share of flagged that became poor)",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=title,
    )
    axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    return figure


def reliability_figure(
    labels: np.ndarray,
    risks: Mapping[str, np.ndarray],
    *,
    n_bins: int = 10,
    title: str = "Reliability on the test year",
) -> Figure:
    """Observed poor rate against mean predicted risk per bin, one line per model."""
    figure = Figure(figsize=(5, 5), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for name, risk in risks.items():
        table: pd.DataFrame = reliability_table(labels, risk, n_bins=n_bins)
        axes.plot(table["mean_risk"], table["observed_rate"], marker="o", label=name)
    axes.set(
        xlabel="mean predicted risk",
        ylabel="observed share poor",
        xlim=(0, 1),
        ylim=(0, 1),
        title=title,
    )
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return figure
