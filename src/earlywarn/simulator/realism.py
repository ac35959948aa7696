"""How close the simulator comes to public figures, and how good its oracle is.

``calibration_figures(sim)`` computes, from the tables as a model would see them: the median
per-capita income and income mix of lifted-out households in 2023, the default population and
its return-to-poverty rate each year 2018..2025, which shocks preceded returns; and from
``truth``: the oracle's ROC-AUC on its own labels and its mean probability against the realised
rate. Targets (rural China, households lifted out of poverty): median income near 16,000 yuan
per person in 2023; wages 35-42%, business 34-36%, transfers 21-27%; 2-12% poor again a year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from earlywarn.data import columns as c
from earlywarn.data.tables import Tables
from earlywarn.features.labels import poverty_by_year
from earlywarn.simulator.households import Simulation

CALIBRATION_YEAR = 2023
RETURN_YEARS = range(2018, 2026)
MEDIAN_INCOME_TARGET = (14_000.0, 18_000.0)
MIX_TARGETS = {
    c.WAGE_INCOME: (0.35, 0.42),
    c.BUSINESS_INCOME: (0.34, 0.36),
    c.TRANSFER_INCOME: (0.21, 0.27),
    c.PROPERTY_INCOME: (0.0, 0.10),
}
RETURN_RATE_TARGET = (0.02, 0.12)
ORACLE_AUC_TARGET = 0.85
ORACLE_MEAN_TOLERANCE = 0.10
SHOCK_LOOKBACK_MONTHS = 6  # a shock "precedes" a return if dated from 1 July of Y-1 to 31 Dec Y


@dataclass(frozen=True)
class CalibrationFigures:
    """The simulator's figures against their targets.

    ``median_income``: median per-capita income (four sources, before expenses) of lifted-out
    households in ``CALIBRATION_YEAR``, yuan. ``income_mix``: source -> share of their total
    income. ``returns``: one row per year: population (default population size), poor (how
    many poor again), rate. ``shocks_before_return``: event type -> share of returns (all years)
    with such an event from 1 July of Y-1 to the end of Y, and the same share among households
    that did not return (``share_not_returned``). ``oracle``: one row per as-of date: n, AUC,
    mean probability, realised rate; ``oracle_auc`` and ``oracle_mean`` / ``oracle_rate``
    pooled over all dates.
    """

    median_income: float
    income_mix: dict[str, float]
    returns: pd.DataFrame
    shocks_before_return: pd.DataFrame
    oracle: pd.DataFrame
    oracle_auc: float
    oracle_mean: float
    oracle_rate: float

    def problems(self) -> list[str]:
        """Every figure outside its target range (empty when calibrated)."""
        found = []
        low, high = MEDIAN_INCOME_TARGET
        if not low <= self.median_income <= high:
            found.append(f"median income {self.median_income:,.0f} outside {low:,.0f}-{high:,.0f}")
        for source, (low, high) in MIX_TARGETS.items():
            share = self.income_mix[source]
            if not low <= share <= high:
                found.append(f"{source} share {share:.1%} outside {low:.0%}-{high:.0%}")
        low, high = RETURN_RATE_TARGET
        for year, rate in self.returns["rate"].items():
            if not low <= rate <= high:
                found.append(f"return rate {year} {rate:.1%} outside {low:.0%}-{high:.0%}")
        shares = self.shocks_before_return["share_returned"]
        if len(shares) and shares.idxmax() != "illness":
            found.append(f"largest shock before returns is {shares.idxmax()}, not illness")
        if not self.oracle_auc > ORACLE_AUC_TARGET:
            found.append(f"oracle AUC {self.oracle_auc:.3f} not above {ORACLE_AUC_TARGET}")
        if abs(self.oracle_mean - self.oracle_rate) > ORACLE_MEAN_TOLERANCE * self.oracle_rate:
            found.append(
                f"oracle mean {self.oracle_mean:.4f} not within 10% of the realised "
                f"rate {self.oracle_rate:.4f}"
            )
        return found


def roc_auc(label: np.ndarray, score: np.ndarray | pd.Series) -> float:
    """Area under the ROC curve (scikit-learn's; ties count half); NaN when only one class is
    present, as on a small world's as-of date with nobody poor."""
    label = np.asarray(label, bool)
    if label.all() or not label.any():
        return float("nan")
    return float(roc_auc_score(label, np.asarray(score, float)))


def calibration_figures(sim: Simulation) -> CalibrationFigures:
    """The calibration figures of a simulation (tables + truth)."""
    tables, truth = sim.tables, sim.truth
    households = tables.households
    years = tables.household_years
    exited_ids = households.loc[households[c.POVERTY_EXIT_YEAR].notna(), c.HOUSEHOLD_ID]
    now = years[(years[c.YEAR] == CALIBRATION_YEAR) & years[c.HOUSEHOLD_ID].isin(exited_ids)]
    now = now.dropna(subset=list(c.INCOME_SOURCES))
    income = now[list(c.INCOME_SOURCES)].sum(axis=1)
    median_income = float((income / now[c.HOUSEHOLD_SIZE]).median())
    totals = now[list(c.INCOME_SOURCES)].sum()
    income_mix = {source: float(totals[source] / totals.sum()) for source in c.INCOME_SOURCES}

    returned = _returns(tables)
    returns = returned.groupby(c.YEAR).agg(population=(c.POOR, "size"), poor=(c.POOR, "sum"))
    returns["rate"] = returns["poor"] / returns["population"]
    shocks = _shocks_before(tables, returned)
    oracle = truth.groupby(c.AS_OF).apply(
        lambda g: pd.Series(
            {
                "n": len(g),
                "auc": roc_auc(g[c.POOR], g[c.ORACLE_PROBABILITY]),
                "mean_probability": g[c.ORACLE_PROBABILITY].mean(),
                "rate": g[c.POOR].astype(float).mean(),
            }
        ),
        include_groups=False,
    )
    return CalibrationFigures(
        median_income=median_income,
        income_mix=income_mix,
        returns=returns,
        shocks_before_return=shocks,
        oracle=oracle,
        oracle_auc=roc_auc(truth[c.POOR].to_numpy(bool), truth[c.ORACLE_PROBABILITY]),
        oracle_mean=float(truth[c.ORACLE_PROBABILITY].mean()),
        oracle_rate=float(truth[c.POOR].astype(float).mean()),
    )


def _returns(tables: Tables) -> pd.DataFrame:
    """The default population of each year 2018..2025 with a known status: household_id,
    year, poor (returned to poverty)."""
    poverty = poverty_by_year(tables)
    exit_year = tables.households.set_index(c.HOUSEHOLD_ID)[c.POVERTY_EXIT_YEAR]
    status = poverty.set_index([c.HOUSEHOLD_ID, c.YEAR])[c.POOR]
    parts = []
    for year in RETURN_YEARS:
        before = status.xs(year - 1, level=c.YEAR)
        now = status.xs(year, level=c.YEAR).dropna()
        exited = exit_year.reindex(now.index)
        known_before = before.reindex(now.index)
        keep = (known_before == False) & (exited <= year - 1)  # noqa: E712 (nullable)
        keep = keep.fillna(False).astype(bool)
        parts.append(
            pd.DataFrame(
                {
                    c.HOUSEHOLD_ID: now.index[keep],
                    c.YEAR: year,
                    c.POOR: now[keep].astype(bool).to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _shocks_before(tables: Tables, returned: pd.DataFrame) -> pd.DataFrame:
    events = tables.events[[c.HOUSEHOLD_ID, c.DATE, c.EVENT_TYPE]]
    merged = returned.merge(events, on=c.HOUSEHOLD_ID, how="left")
    start = pd.to_datetime((merged[c.YEAR] - 1).astype(str) + "-07-01")
    end = pd.to_datetime((merged[c.YEAR] + 1).astype(str) + "-01-01")
    inside = (merged[c.DATE] >= start) & (merged[c.DATE] < end)
    hits = merged[inside].drop_duplicates([c.HOUSEHOLD_ID, c.YEAR, c.EVENT_TYPE])
    counts = hits.groupby([c.EVENT_TYPE, c.POOR]).size().unstack(fill_value=0)
    counts = counts.reindex(index=list(c.EVENT_TYPES), columns=[True, False], fill_value=0)
    n_returned = max(int(returned[c.POOR].sum()), 1)
    n_stayed = max(int((~returned[c.POOR]).sum()), 1)
    shares = pd.DataFrame(
        {
            "share_returned": counts[True] / n_returned,
            "share_not_returned": counts[False] / n_stayed,
        }
    )
    shares.index.name = c.EVENT_TYPE
    return shares.sort_values("share_returned", ascending=False)


def render_calibration(figures: CalibrationFigures) -> list[tuple[str, list[list[str]]]]:
    """The figures as titled tables of text (first row: header), for the CLI to print."""
    low, high = MEDIAN_INCOME_TARGET
    income = [
        ["figure", "value", "target"],
        [
            f"median per-capita income, lifted-out households {CALIBRATION_YEAR}",
            f"{figures.median_income:,.0f}",
            f"near 16,000 ({low:,.0f}-{high:,.0f})",
        ],
    ]
    for source, (low, high) in MIX_TARGETS.items():
        income.append(
            [
                f"share of income: {source}",
                f"{figures.income_mix[source]:.1%}",
                f"{low:.0%}-{high:.0%}",
            ]
        )
    returns = [["year", "default population", "poor again", "rate (target 2%-12%)"]]
    for year, row in figures.returns.iterrows():
        returns.append(
            [
                str(year),
                f"{int(row['population']):,}",
                f"{int(row['poor']):,}",
                f"{row['rate']:.1%}",
            ]
        )
    shocks = [["event type", "share of returns", "share of the others"]]
    for event_type, row in figures.shocks_before_return.iterrows():
        shocks.append(
            [str(event_type), f"{row['share_returned']:.1%}", f"{row['share_not_returned']:.1%}"]
        )
    oracle = [["as of", "households", "ROC-AUC", "mean probability", "realised rate"]]
    for as_of, row in figures.oracle.iterrows():
        oracle.append(
            [
                str(pd.Timestamp(as_of).date()),
                f"{int(row['n']):,}",
                f"{row['auc']:.3f}",
                f"{row['mean_probability']:.2%}",
                f"{row['rate']:.2%}",
            ]
        )
    oracle.append(
        [
            "all",
            f"{int(figures.oracle['n'].sum()):,}",
            f"{figures.oracle_auc:.3f}",
            f"{figures.oracle_mean:.2%}",
            f"{figures.oracle_rate:.2%}",
        ]
    )
    return [
        ("Income of lifted-out households", income),
        ("Return to poverty in the default population", returns),
        ("Shocks from 1 July of Y-1 to the end of Y, returns vs the others", shocks),
        (
            f"Oracle (target: ROC-AUC > {ORACLE_AUC_TARGET}, mean within "
            f"{ORACLE_MEAN_TOLERANCE:.0%} of the rate)",
            oracle,
        ),
    ]
