"""Out-of-time results on one world: earlywarn, the plain peer, the rule and the oracle, all
scored on the same rows.

The test year is the world's last labelled target year; its rows are the population on the
1st of January, April, July and October (``TEST_MONTHS``) whose label is known (at the dates
the simulator's oracle is drawn, 1 January and 1 July, those it knows). earlywarn trains as
``earlywarn train`` does on the same tables (it never fits, tunes or calibrates on the test
year); the peer fits on every earlier target year at the 1st of ``PEER_MONTHS``; the rule
needs no fitting.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    HOUSEHOLD_ID,
    ORACLE_PROBABILITY,
    TARGET_YEAR,
    VILLAGE,
)
from earlywarn.data.tables import Tables
from earlywarn.features.build import build_features
from earlywarn.features.examples import as_of_dates, build_examples, labelled_target_years
from earlywarn.model.rule import LAST_INCOME, RULE_FLAGGED, RULE_LINE, rule_flags
from generalisation.metrics import metrics_table
from generalisation.runner import BASELINE, TrainedEarlywarn, Variant, train_earlywarn
from generalisation.worlds import WorldData
from peer import PeerExamples, fit_lgbm, fit_peer, peer_examples

log = logging.getLogger(__name__)

TEST_MONTHS = (1, 4, 7, 10)
PEER_MONTHS = (1, 4, 7, 10)
LABEL = "label"
EARLYWARN = "earlywarn"
NOT_PROBABILITIES = ("rule", "rule_income")
Scorer = Callable[[Tables, pd.Timestamp, pd.Index], np.ndarray]
"""(tables, as_of, household ids) -> one score per household."""


def score_name(variant: Variant) -> str:
    return EARLYWARN if variant.name == BASELINE.name else f"{EARLYWARN}:{variant.name}"


@dataclass(frozen=True)
class WorldResult:
    """``rows``: one per test household and as-of date (household_id, as_of, label, one
    column per score); ``metrics``: :func:`metrics_table` of them; ``peer_years``: the
    target years the peer fitted on; ``earlywarn``: each variant's trained model."""

    world: str
    seed: int
    test_year: int
    rows: pd.DataFrame
    metrics: pd.DataFrame
    peer_years: tuple[int, ...]
    earlywarn: dict[str, TrainedEarlywarn]
    n_without_oracle: int


def evaluate_world(
    world: WorldData,
    *,
    trials: int,
    variants: Sequence[Variant] = (BASELINE,),
    catalog_peer: bool = False,
    work_dir: Path | None = None,
) -> WorldResult:
    """Train every variant of earlywarn and the peer on ``world`` and score its test year."""
    tables, seed = world.tables, world.seed
    years = labelled_target_years(tables)
    test_year = years[-1]
    test = peer_examples(
        tables, [pd.Timestamp(test_year, m, 1) for m in TEST_MONTHS], population=world.population
    )
    rows = test.keys.assign(**{LABEL: test.labels.to_numpy(dtype=float)})

    earlier = [y for y in years if y < test_year]
    train = peer_examples(tables, as_of_dates(earlier, PEER_MONTHS), population=world.population)
    peer_years = tuple(sorted(int(y) for y in train.keys[TARGET_YEAR].unique()))
    for name, score in (
        fit_peer(train.features, train.labels, seed=seed).predict(test.features).items()
    ):
        rows[name] = score
    if catalog_peer:
        for name, score in _catalog_peer(world, earlier, test).items():
            rows[name] = score
    rows["rule"], rows["rule_income"] = _rule(world, test)
    n_without_oracle = 0
    if world.truth is not None:
        rows["oracle"] = _oracle(world.truth, test.keys)
        # the oracle is drawn at some dates only (1 January and 1 July): at those, every
        # score is measured on the rows the oracle knows; at the others, on all rows
        has_oracle = rows.groupby(AS_OF)["oracle"].transform(lambda s: s.notna().any())
        missing = has_oracle & rows["oracle"].isna()
        n_without_oracle = int(missing.sum())
        rows = rows[~missing].reset_index(drop=True)

    trained: dict[str, TrainedEarlywarn] = {}
    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        for variant in variants:
            model = train_earlywarn(
                tables,
                world.truth,
                population=world.population,
                variant=variant,
                trials=trials,
                seed=seed,
                work_dir=Path(scratch) / variant.name,
            )
            if model.test_year != test_year or max(model.fit_years) >= test_year:
                raise AssertionError(f"earlywarn was fitted on {model.fit_years}, test {test_year}")
            trained[variant.name] = model
            rows[score_name(variant)] = _per_date(rows, model.score, tables)
            log.info("%s seed %d: trained %s", world.world, seed, variant.name)

    scores = [c for c in rows.columns if c not in (HOUSEHOLD_ID, AS_OF, TARGET_YEAR, LABEL)]
    metrics = metrics_table(rows, {name: name not in NOT_PROBABILITIES for name in scores})
    metrics.insert(0, "seed", seed)
    metrics.insert(0, "world", world.world)
    return WorldResult(
        world=world.world,
        seed=seed,
        test_year=test_year,
        rows=rows,
        metrics=metrics,
        peer_years=peer_years,
        earlywarn=trained,
        n_without_oracle=n_without_oracle,
    )


def _per_date(rows: pd.DataFrame, score: Scorer, tables: Tables) -> np.ndarray:
    """Apply ``score(tables, as_of, households)`` date by date to ``rows``."""
    out = np.full(len(rows), np.nan)
    for as_of, positions in rows.groupby(AS_OF, sort=True).indices.items():
        ids = pd.Index(rows[HOUSEHOLD_ID].to_numpy()[positions])
        out[positions] = score(tables, pd.Timestamp(as_of), ids)
    return out


def _rule(world: WorldData, test: PeerExamples) -> tuple[np.ndarray, np.ndarray]:
    """earlywarn's rule (1 flagged, 0 not) and its one-line ranking: minus the last known
    per-capita income over the line in force (unknown income ranks in the middle)."""
    frames = {
        as_of: rule_flags(world.tables, pd.Timestamp(as_of), pd.Index(ids), cfg=RuleConfig())
        for as_of, ids in test.keys.groupby(AS_OF, sort=True)[HOUSEHOLD_ID]
    }

    def pick(column: str) -> Scorer:
        return lambda tables, as_of, ids: frames[as_of].loc[ids, column].to_numpy(dtype=float)

    flagged = _per_date(test.keys, pick(RULE_FLAGGED), world.tables)
    income = _per_date(test.keys, pick(LAST_INCOME), world.tables)
    line = _per_date(test.keys, pick(RULE_LINE), world.tables)
    over = -income / line
    return flagged, np.where(np.isnan(over), np.nanmedian(over), over)


def _oracle(truth: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    lookup = truth.drop_duplicates([HOUSEHOLD_ID, AS_OF]).set_index([HOUSEHOLD_ID, AS_OF])
    index = pd.MultiIndex.from_arrays(
        [keys[HOUSEHOLD_ID].astype("str"), pd.to_datetime(keys[AS_OF]).astype("datetime64[us]")]
    )
    lookup.index = lookup.index.set_levels(lookup.index.levels[1].astype("datetime64[us]"), level=1)
    return lookup[ORACLE_PROBABILITY].reindex(index).to_numpy(dtype=float)


def _catalog_peer(
    world: WorldData, earlier: Sequence[int], test: PeerExamples
) -> dict[str, np.ndarray]:
    """The peer's default LightGBM on earlywarn's catalog features, with and without the
    county and village categoricals (the issue's first diagnosis)."""
    tables = world.tables
    examples = build_examples(
        tables, as_of_dates(earlier, PEER_MONTHS), population=world.population
    )
    out: dict[str, np.ndarray] = {}
    for name, drop in (
        ("peer_lgbm_catalog", []),
        ("peer_lgbm_catalog_no_place", [COUNTY, VILLAGE]),
    ):
        X = examples.features.drop(columns=drop)
        booster = fit_lgbm(X, examples.labels, seed=world.seed)
        out[name] = _per_date(test.keys, _catalog_predictor(booster, X, drop), tables)
    return out


def _catalog_predictor(booster: lgb.Booster, X: pd.DataFrame, drop: list[str]) -> Scorer:
    def predict(tables: Tables, as_of: pd.Timestamp, ids: pd.Index) -> np.ndarray:
        features = build_features(tables, as_of=as_of, households=ids).drop(columns=drop)
        for column in X.columns:  # the training levels, as LightGBM saw them
            if isinstance(X[column].dtype, pd.CategoricalDtype):
                features[column] = pd.Categorical(
                    features[column].astype("string"), categories=X[column].cat.categories
                )
        return np.asarray(booster.predict(features), dtype=float)

    return predict
