"""earlywarn as the harness trains and scores it: the one place that calls its training API.

``train_earlywarn`` runs ``earlywarn.jobs.train.train_on_tables`` (the code behind
``earlywarn train``) with the settings of ``configs/train.yaml``, a fresh tuning study in a
work folder, no tracking and a small trial budget. The test year is the last labelled
target year of the tables: ``train_on_tables`` never fits, tunes or calibrates on it.

A :class:`Variant` changes what an ablation needs: TrainConfig/TuneConfig fields, the trial
budget, a transform of the feature frame (applied where examples are built and where the
test year is scored) and class weighting. The last two reach inside earlywarn through two
hooks, patched only while a variant trains: ``earlywarn.features.examples.build_features``
(what ``build_examples`` calls) and ``earlywarn.model.search.fixed_params`` with
``earlywarn.model.fit.REFUSED_PARAMS`` (class weighting is refused by ``fit_model``). If the
training API moves, this module is the one to adapt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

from earlywarn.config import Config, DataConfig, TrainConfig, TuneConfig, load_config
from earlywarn.data.tables import Tables
from earlywarn.features.build import build_features
from earlywarn.model.model_file import RiskModel

TRAIN_YAML = Path(__file__).resolve().parents[2] / "configs" / "train.yaml"

FeatureTransform = Callable[[Tables, pd.Timestamp, pd.DataFrame], pd.DataFrame]
"""(tables, as_of, catalog features at as_of) -> the features a variant trains and scores on."""


@dataclass(frozen=True)
class Variant:
    """One way of training earlywarn; the default is ``earlywarn train`` as configured."""

    name: str = "baseline"
    train: Mapping[str, Any] = field(default_factory=dict)
    tune: Mapping[str, Any] = field(default_factory=dict)
    trials_factor: float = 1.0
    features: FeatureTransform | None = None
    class_weight: bool = False
    patches: Mapping[str, Any] = field(default_factory=dict)  # "module.NAME" -> value
    note: str = "earlywarn train as configured (configs/train.yaml)"


BASELINE = Variant()


@dataclass(frozen=True)
class TrainedEarlywarn:
    """A trained earlywarn model and the years ``train_on_tables`` gave each part."""

    variant: Variant
    model: RiskModel
    fit_years: tuple[int, ...]
    calibration_year: int
    test_year: int
    num_boost_round: int | None  # None when the validation years chose a linear model

    def features(self, tables: Tables, as_of: pd.Timestamp, households: pd.Index) -> pd.DataFrame:
        """The model's inputs at ``as_of`` (catalog features, then the variant's transform)."""
        features = build_features(tables, as_of=as_of, households=households)
        if self.variant.features is not None:
            features = self.variant.features(tables, as_of, features)
        return features

    def score(self, tables: Tables, as_of: pd.Timestamp, households: pd.Index) -> np.ndarray:
        """Calibrated risk of each household at ``as_of``."""
        return self.model.predict_risk(self.features(tables, as_of, households))


def harness_config(population: str, work_dir: Path, variant: Variant, seed: int) -> Config:
    """``configs/train.yaml`` (or the defaults) with a fresh study in ``work_dir``, the
    world's population, ``seed`` and the variant's fields."""
    base = load_config(TRAIN_YAML if TRAIN_YAML.is_file() else None)
    tune = TuneConfig.model_validate(
        {
            **base.tune.model_dump(),
            "seed": seed,
            "storage": work_dir / "tuning.sqlite3",
            "study_name": None,
            "timeout_seconds": None,
            **variant.tune,
        }
    )
    train = TrainConfig.model_validate(
        {**base.train.model_dump(), "models_dir": work_dir, "run_name": "harness", **variant.train}
    )
    data = DataConfig.model_validate({**base.data.model_dump(), "population": population})
    return Config.model_validate({**base.model_dump(), "tune": tune, "train": train, "data": data})


@contextlib.contextmanager
def _variant_hooks(variant: Variant) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        if variant.features is not None:
            transform = variant.features

            def transformed(tables: Tables, *, as_of: Any, **options: Any) -> pd.DataFrame:
                features = build_features(tables, as_of=as_of, **options)
                return transform(tables, pd.Timestamp(as_of), features)

            stack.enter_context(
                mock.patch("earlywarn.features.examples.build_features", transformed)
            )
        if variant.class_weight:
            from earlywarn.model import search

            plain = search.fixed_params
            stack.enter_context(
                mock.patch.object(
                    search,
                    "fixed_params",
                    lambda metric="average_precision": {
                        **plain(metric),
                        "is_unbalance": True,
                    },
                )
            )
            stack.enter_context(mock.patch("earlywarn.model.fit.REFUSED_PARAMS", ()))
        for target, value in variant.patches.items():
            stack.enter_context(mock.patch(target, value))
        yield


def train_earlywarn(
    tables: Tables,
    truth: pd.DataFrame | None,
    *,
    population: str,
    variant: Variant = BASELINE,
    trials: int,
    seed: int,
    work_dir: Path,
) -> TrainedEarlywarn:
    """Train earlywarn on ``tables`` as ``earlywarn train --trials N`` would (no tracking)."""
    from earlywarn.jobs.train import train_on_tables

    work_dir.mkdir(parents=True, exist_ok=True)
    cfg = harness_config(population, work_dir, variant, seed)
    n_trials = max(1, round(trials * variant.trials_factor))
    with _variant_hooks(variant):
        result = train_on_tables(
            cfg, tables, truth=truth, track=False, out_dir=work_dir / "model", trials=n_trials
        )
    metadata = result.model.metadata
    return TrainedEarlywarn(
        variant=variant,
        model=result.model,
        fit_years=tuple(int(y) for y in metadata["fit_years"]),
        calibration_year=int(metadata["calibration_year"]),
        test_year=int(metadata["test_year"]),
        num_boost_round=(
            None if metadata.get("num_boost_round") is None else int(metadata["num_boost_round"])
        ),
    )
