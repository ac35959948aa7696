"""A plain peer, written once and kept simple: what earlywarn must beat away from home.

About 55 plain features per household as of a date d (target year Y = year(d)), computed
point in time from the contract tables with plain pandas, independently of
``earlywarn.features`` (only the contract's income rule, the lines and the population/label
are shared, since they define the task):

- per-capita net income over the line (a ratio) in each of the years Y-1, Y-2, Y-3 and its
  minimum over the three;
- the last closed round's four incomes and two rigid expenses (household totals, yuan), its
  per-capita net income and its household composition (size and member counts);
- per event type: events in the 365 days before d, events from 1 January of Y to d, days
  since the last one (events dated before d only);
- years since the exit year (if before Y), the head's age in Y and years of schooling.

Two default models on those features, fitted on every example they are given (no tuning, no
held-out calibration): LightGBM with 400 trees of 31 leaves at learning rate 0.05, and
logistic regression on median-imputed (with missing indicators), standardised features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from earlywarn.config import Population
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    DATE,
    EVENT_TYPE,
    EVENT_TYPES,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    INCOME_SOURCES,
    MEMBER_COUNTS,
    POVERTY_EXIT_YEAR,
    RIGID_EXPENSES,
    TARGET_YEAR,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.features.labels import make_labels, per_capita_net_income, poverty_lines

LAGS = (1, 2, 3)
PEER_LGBM = {
    "objective": "binary",
    "num_leaves": 31,
    "learning_rate": 0.05,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
    "num_threads": 1,
}
PEER_TREES = 400


def peer_feature_names() -> list[str]:
    """The peer's columns, in order."""
    names = [f"income_over_line_lag{lag}" for lag in LAGS] + ["income_over_line_min3"]
    names += [f"last_{name}" for name in (*INCOME_SOURCES, *RIGID_EXPENSES)]
    names += ["last_net_income_per_capita", f"last_{HOUSEHOLD_SIZE}"]
    names += [f"last_{name}" for name in MEMBER_COUNTS]
    for event_type in EVENT_TYPES:
        names += [f"{event_type}_365d", f"{event_type}_ytd", f"{event_type}_days_since"]
    return [*names, "years_since_exit", "head_age", "head_schooling"]


def _lines(tables: Tables, rounds: pd.DataFrame) -> np.ndarray:
    """The line of each round's year (its county's own line where the lines table sets one)."""
    county = tables.households.set_index(HOUSEHOLD_ID)[COUNTY].reindex(rounds[HOUSEHOLD_ID])
    codes, counties = pd.factorize(county)
    return poverty_lines(tables).lookup(codes, list(counties), rounds[YEAR].to_numpy())


def peer_features(tables: Tables, as_of: pd.Timestamp | str, households: pd.Index) -> pd.DataFrame:
    """One row per household in ``households`` (index household_id): the peer's features at
    ``as_of``, from rounds of years before year(as_of) and events dated before ``as_of``."""
    as_of = pd.Timestamp(as_of)
    target_year = as_of.year
    index = pd.Index(households, name=HOUSEHOLD_ID)
    out = pd.DataFrame(index=index)

    years = tables.household_years
    rounds = years[(years[YEAR] < target_year) & years[HOUSEHOLD_ID].isin(index)].copy()
    rounds["income"] = per_capita_net_income(rounds).to_numpy()
    rounds["over_line"] = rounds["income"] / _lines(tables, rounds)
    over = rounds.pivot_table(index=HOUSEHOLD_ID, columns=YEAR, values="over_line", dropna=False)
    for lag in LAGS:
        column = over[target_year - lag] if target_year - lag in over.columns else np.nan
        out[f"income_over_line_lag{lag}"] = pd.Series(column).reindex(index)
    out["income_over_line_min3"] = out[[f"income_over_line_lag{lag}" for lag in LAGS]].min(axis=1)

    last = rounds.sort_values(YEAR).drop_duplicates(HOUSEHOLD_ID, keep="last")
    last = last.set_index(HOUSEHOLD_ID).reindex(index)
    for name in (*INCOME_SOURCES, *RIGID_EXPENSES, HOUSEHOLD_SIZE, *MEMBER_COUNTS):
        out[f"last_{name}"] = last[name].astype("float64")
    out["last_net_income_per_capita"] = last["income"].astype("float64")

    events = tables.events
    events = events[(events[DATE] < as_of) & events[HOUSEHOLD_ID].isin(index)]
    recent = events[events[DATE] >= as_of - pd.Timedelta(days=365)]
    this_year = events[events[DATE] >= pd.Timestamp(year=target_year, month=1, day=1)]
    last_date = events.pivot_table(
        index=HOUSEHOLD_ID, columns=EVENT_TYPE, values=DATE, aggfunc="max"
    )
    for event_type in EVENT_TYPES:
        for suffix, frame in (("365d", recent), ("ytd", this_year)):
            counts = frame[frame[EVENT_TYPE] == event_type].groupby(HOUSEHOLD_ID).size()
            out[f"{event_type}_{suffix}"] = counts.reindex(index, fill_value=0).astype("float64")
        when = last_date.get(event_type, pd.Series(dtype="datetime64[us]")).reindex(index)
        out[f"{event_type}_days_since"] = (as_of - when).dt.days.astype("float64")

    info = tables.households.set_index(HOUSEHOLD_ID).reindex(index)
    exit_year = info[POVERTY_EXIT_YEAR].astype("float64")
    out["years_since_exit"] = (target_year - exit_year).where(exit_year < target_year)
    out["head_age"] = target_year - info[HEAD_BIRTH_YEAR].astype("float64")
    out["head_schooling"] = info[HEAD_EDUCATION_YEARS].astype("float64")
    return out[peer_feature_names()]


@dataclass(frozen=True)
class PeerExamples:
    """Row i of ``features``, ``labels`` and ``keys`` (household_id, as_of, target_year) is
    one household at one as-of date."""

    features: pd.DataFrame
    labels: pd.Series
    keys: pd.DataFrame


def peer_examples(
    tables: Tables, dates: Sequence[pd.Timestamp], *, population: Population
) -> PeerExamples:
    """The peer's features and the label of every household of the population with a known
    label, at each date, stacked."""
    features, labels, keys = [], [], []
    for as_of in dates:
        label = make_labels(tables, as_of, population=population).dropna()
        if label.empty:
            continue
        features.append(peer_features(tables, as_of, label.index).reset_index(drop=True))
        labels.append(label.astype(bool).reset_index(drop=True))
        keys.append(
            pd.DataFrame(
                {
                    HOUSEHOLD_ID: label.index.astype("str"),
                    AS_OF: pd.Timestamp(as_of),
                    TARGET_YEAR: pd.Timestamp(as_of).year,
                }
            )
        )
    return PeerExamples(
        features=pd.concat(features, ignore_index=True),
        labels=pd.concat(labels, ignore_index=True),
        keys=pd.concat(keys, ignore_index=True),
    )


@dataclass(frozen=True)
class Peer:
    """The two fitted peer models; ``predict`` gives each one's probability per row."""

    booster: lgb.Booster
    logistic: Pipeline
    columns: tuple[str, ...]

    def predict(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        X = X.loc[:, list(self.columns)]
        return {
            "peer_lgbm": np.asarray(self.booster.predict(X), dtype=float),
            "peer_logistic": self.logistic.predict_proba(X.to_numpy(dtype=float))[:, 1],
        }


def fit_lgbm(X: pd.DataFrame, y: pd.Series, *, seed: int = 0) -> lgb.Booster:
    """Default LightGBM: 400 trees, 31 leaves, learning rate 0.05, seeded, one thread."""
    dataset = lgb.Dataset(X, label=np.asarray(y, dtype=float))
    return lgb.train({**PEER_LGBM, "seed": seed}, dataset, num_boost_round=PEER_TREES)


def fit_peer(X: pd.DataFrame, y: pd.Series, *, seed: int = 0) -> Peer:
    """Fit both peer models on all of ``X``, ``y`` (no tuning, no held-out calibration)."""
    logistic = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=5_000, random_state=seed),
    )
    logistic.fit(X.to_numpy(dtype=float), np.asarray(y, dtype=int))
    return Peer(booster=fit_lgbm(X, y, seed=seed), logistic=logistic, columns=tuple(X.columns))
