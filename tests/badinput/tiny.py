"""A real (tiny) model for the bad-input tests: commands given it get as far as the data."""

from __future__ import annotations

import lightgbm as lgb
import pandas as pd

from earlywarn.catalog import catalog_hash
from earlywarn.features import build_features
from earlywarn.labels import make_labels
from earlywarn.model import Calibrator, RiskModel


def tiny_model(tables, version: str) -> RiskModel:
    """A real (tiny) model, so that commands get as far as reading the data."""
    y = make_labels(tables, "2023-03-01", population="all").dropna()
    X = build_features(tables, as_of="2023-03-01", households=y.index)
    params = {
        "objective": "binary",
        "num_leaves": 4,
        "num_threads": 1,
        "verbose": -1,
        "seed": 0,
        "deterministic": True,
        "min_data_in_leaf": 5,
    }
    booster = lgb.train(params, lgb.Dataset(X, label=y.astype(int)), num_boost_round=5)
    categories = {
        name: tuple(str(v) for v in X[name].cat.categories)
        for name in X.columns
        if isinstance(X[name].dtype, pd.CategoricalDtype)
    }
    return RiskModel(
        booster=booster,
        calibrator=Calibrator("platt", 1.0, 0.0),
        feature_names=tuple(X.columns),
        categories=categories,
        catalog_hash=catalog_hash(),
        version=version,
    )
