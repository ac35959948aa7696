"""One tiny, real risk model for the tests: LightGBM on the simulator's features, fitted by
earlywarn's own ``fit_model`` (seeded, one thread), with a drift reference, uncalibrated."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from earlywarn.data.tables import Tables
from earlywarn.features.build import build_features
from earlywarn.features.catalog import catalog_hash
from earlywarn.features.labels import make_labels
from earlywarn.model.fit import fit_model
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.drift import drift_reference

AS_OF_DATES = ("2021-03-01", "2022-03-01", "2023-03-01")
PARAMS = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 10}


def examples(tables: Tables, as_of_dates=AS_OF_DATES) -> tuple[pd.DataFrame, pd.Series]:
    """Features and labels of every household not poor the year before, at each date."""
    frames, labels = [], []
    for as_of in as_of_dates:
        y = make_labels(tables, as_of, population="all").dropna()
        frames.append(build_features(tables, as_of=as_of, households=y.index))
        labels.append(y.astype(int))
    return pd.concat(frames, ignore_index=True), pd.concat(labels, ignore_index=True)


def tiny_model(tables: Tables, version: str = "tiny-1", rounds: int = 30) -> RiskModel:
    """A 7-leaf, ``rounds``-tree model of ``tables`` that the scoring path accepts."""
    X, y = examples(tables)
    model = fit_model(
        X, y, PARAMS, seed=0, num_threads=1, num_boost_round=rounds, catalog_hash=catalog_hash()
    )
    reference = drift_reference(X, model.predict_risk(X))
    return replace(model, version=version, metadata={"drift_reference": reference})
