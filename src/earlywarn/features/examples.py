"""Training examples at past as-of dates, and the out-of-time split that keeps the test honest.

One example is one household at one as-of date d: the features known at d and whether the
household was poor in the target year Y = year(d). Several dates per target year (1 Jan,
1 Apr, 1 Jul, 1 Oct by default) teach the model to use the shocks of the current year.

The split is by target year, never at random:

- **test**: the last target year with labels. Never used to tune, calibrate or choose.
- **calibration**: the second-to-last target year, or (``calibration_share``) a seeded,
  household-grouped share of it. Held out from fitting, so the calibrator sees log-odds the
  booster did not learn from; being the most recent year before the test, it carries the
  latest base rate (lines rise every year, a jump in 2021), which a random household slice
  of older years would not. With a share, the rest of that year's households join the fit,
  so the final model learns up to the year before the test, as every tuning fold does (on
  the simulator, a one-year gap between training and prediction cost about 0.03 average
  precision on the validation years, for the booster and logistic regression alike).
- **fit**: every earlier target year. Tuning folds inside it validate on each of the last
  ``n_valid_years`` fit years with a model trained only on earlier years (expanding window);
  the calibration year's fit rows are in no fold.

Every row of one household in one target year shares a label, so the rows are grouped by
(household, target year): a split by target year keeps each group on one side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.config import Population
from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, LABEL_POOR, TARGET_YEAR, YEAR
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError
from earlywarn.features.build import build_features
from earlywarn.features.labels import make_labels

log = logging.getLogger(__name__)

DEFAULT_AS_OF_MONTHS = (1, 4, 7, 10)
MIN_TARGET_YEARS = 4  # one to fit, one to validate, one to calibrate, one to test


class NotEnoughYearsError(EarlywarnError):
    """The data span too few target years for an out-of-time split."""


@dataclass(frozen=True)
class Examples:
    """Stacked examples: row i of ``features``, ``labels`` and ``keys`` is the same example.

    ``features``: model inputs (one row per household and as-of date, positional index);
    ``labels``: bool, poor in the target year; ``keys``: household_id, as_of, target_year.
    """

    features: pd.DataFrame
    labels: pd.Series
    keys: pd.DataFrame

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, positions: np.ndarray) -> Examples:
        """The examples at ``positions``, re-indexed from 0."""
        return Examples(
            features=self.features.iloc[positions].reset_index(drop=True),
            labels=self.labels.iloc[positions].reset_index(drop=True),
            keys=self.keys.iloc[positions].reset_index(drop=True),
        )


@dataclass(frozen=True)
class Split:
    """Positions (into the stacked examples) of each part of the out-of-time split.

    ``folds`` are (train, valid) positions *into the fit part* (what ``lgb.cv`` gets), each
    validating on one target year later than every year it trains on.
    """

    fit_years: tuple[int, ...]
    calibration_year: int
    test_year: int
    fit: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    folds: tuple[tuple[np.ndarray, np.ndarray], ...]
    fold_years: tuple[tuple[tuple[int, ...], int], ...]


def labelled_target_years(tables: Tables) -> list[int]:
    """Target years Y with a survey round in Y - 1 (population known) and in Y (label known)."""
    years = set(tables.household_years[YEAR].astype(int).unique().tolist())
    return sorted(year for year in years if year - 1 in years)


def as_of_dates(
    target_years: Iterable[int], months: Sequence[int] = DEFAULT_AS_OF_MONTHS
) -> list[pd.Timestamp]:
    """The first day of each of ``months`` in each target year, in time order."""
    return [
        pd.Timestamp(year=int(year), month=int(month), day=1)
        for year in sorted(target_years)
        for month in sorted(months)
    ]


def build_examples(
    tables: Tables, dates: Sequence[pd.Timestamp], *, population: Population = "exited"
) -> Examples:
    """Features and labels of the population at every date, stacked; unknown labels dropped."""
    feature_frames, label_frames, key_frames = [], [], []
    for as_of in dates:
        labels = make_labels(tables, as_of, population=population)
        labels = labels[labels.notna()]
        if labels.empty:
            log.info("no labelled households at %s", as_of.date())
            continue
        features = build_features(tables, as_of=as_of, households=labels.index)
        features = features.reindex(labels.index)
        feature_frames.append(features.reset_index(drop=True))
        label_frames.append(labels.astype(bool).reset_index(drop=True))
        key_frames.append(
            pd.DataFrame(
                {
                    HOUSEHOLD_ID: labels.index.astype("str"),
                    AS_OF: pd.Series(as_of, index=range(len(labels))).astype("datetime64[us]"),
                    TARGET_YEAR: np.full(len(labels), as_of.year, dtype="int64"),
                }
            )
        )
    if not feature_frames:
        raise NotEnoughYearsError("no as-of date has a labelled household in its population")
    return Examples(
        features=concat_features(feature_frames),
        labels=pd.concat(label_frames, ignore_index=True).rename(LABEL_POOR),
        keys=pd.concat(key_frames, ignore_index=True),
    )


def concat_features(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack feature frames, keeping categoricals categorical (union of levels, sorted)."""
    stacked = pd.concat(frames, ignore_index=True)
    for name in frames[0].columns:
        if any(isinstance(frame[name].dtype, pd.CategoricalDtype) for frame in frames):
            levels = sorted(
                {str(level) for frame in frames for level in frame[name].dropna().unique()}
            )
            stacked[name] = pd.Categorical(stacked[name].astype("string"), categories=levels)
    return stacked


def calibration_households(ids: pd.Series, share: float, *, seed: int = 0) -> np.ndarray:
    """True for the households (a stable, seeded hash of the id) that go to calibration."""
    hashed = pd.util.hash_array(ids.astype(str).to_numpy(dtype=object), hash_key=f"{seed:016d}")
    return (hashed % 10_000) < round(share * 10_000)


def split_out_of_time(
    keys: pd.DataFrame,
    *,
    n_valid_years: int = 2,
    calibration_share: float | None = None,
    seed: int = 0,
) -> Split:
    """Test = last target year, calibration = the one before, fit = the rest (see module doc).

    With ``calibration_share`` only that share of the households of the calibration year
    (all their as-of rows) calibrate; the other households' rows of that year join the fit,
    so the final model, like each tuning fold, learns from the year just before the one it
    predicts. Tuning folds never use the calibration year.
    """
    years = sorted(keys[TARGET_YEAR].astype(int).unique().tolist())
    if len(years) < MIN_TARGET_YEARS:
        raise NotEnoughYearsError(
            f"the data give {len(years)} labelled target years ({years}); an out-of-time "
            f"split needs at least {MIN_TARGET_YEARS} (fit, validate, calibrate, test): "
            "supply more survey years"
        )
    test_year, calibration_year, fit_years = years[-1], years[-2], years[:-2]
    target = keys[TARGET_YEAR].to_numpy()
    in_calibration_year = target == calibration_year
    to_calibrate = in_calibration_year.copy()
    if calibration_share is not None:
        to_calibrate &= calibration_households(keys[HOUSEHOLD_ID], calibration_share, seed=seed)
    fit = np.flatnonzero(np.isin(target, fit_years) | (in_calibration_year & ~to_calibrate))
    fit_target = np.where(target[fit] == calibration_year, np.iinfo(np.int64).max, target[fit])
    n_valid = min(n_valid_years, len(fit_years) - 1)
    folds, fold_years = [], []
    for valid_year in fit_years[-n_valid:]:
        train_years = tuple(year for year in fit_years if year < valid_year)
        folds.append(
            (np.flatnonzero(fit_target < valid_year), np.flatnonzero(fit_target == valid_year))
        )
        fold_years.append((train_years, valid_year))
    return Split(
        fit_years=tuple(fit_years),
        calibration_year=calibration_year,
        test_year=test_year,
        fit=fit,
        calibration=np.flatnonzero(to_calibrate),
        test=np.flatnonzero(target == test_year),
        folds=tuple(folds),
        fold_years=tuple(fold_years),
    )
