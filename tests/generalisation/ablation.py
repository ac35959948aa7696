"""Why does the plain peer win? One change at a time to ``earlywarn train``, on every world.

Each :class:`Variant` differs from the baseline (``configs/train.yaml``) in one respect; all
variants of a world train on the same drawn tables with the same seed, so with a budget of
at most 10 trials they also see the same sampled hyper-parameters (TPE draws its first 10
trials at random from the seed): the comparison is paired.
"""

from __future__ import annotations

import lightgbm
import pandas as pd

from earlywarn.data.columns import COUNTY, DATE, EVENT_TYPE, EVENT_TYPES, HOUSEHOLD_ID, VILLAGE
from earlywarn.data.tables import Tables
from earlywarn.features.catalog import FEATURES
from generalisation.runner import BASELINE, Variant
from peer import peer_features


def without_place_names(
    tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame
) -> pd.DataFrame:
    """County and village codes out; place enters only through the catalog's rates."""
    return features.drop(columns=[COUNTY, VILLAGE], errors="ignore")


def with_income_lags(tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame) -> pd.DataFrame:
    """Plus income over the line in Y-2 and Y-3 (the catalog has Y-1's and the 3-round min)."""
    lags = peer_features(tables, as_of, features.index)
    return features.join(lags[["income_over_line_lag2", "income_over_line_lag3"]])


def only_peer_features(tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame) -> pd.DataFrame:
    """earlywarn's pipeline on the peer's plain features alone (pipeline vs feature set)."""
    return peer_features(tables, as_of, features.index)


def place_shocks_this_year(tables: Tables, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per household: the share of its village's and its county's households with each
    shock type from 1 January of year(as_of) to the day before ``as_of`` (known at as_of)."""
    households = tables.households.set_index(HOUSEHOLD_ID)[[COUNTY, VILLAGE]]
    events = tables.events
    start = pd.Timestamp(year=as_of.year, month=1, day=1)
    events = events[(events[DATE] >= start) & (events[DATE] < as_of)]
    hit = (
        events.assign(one=1.0)
        .pivot_table(index=HOUSEHOLD_ID, columns=EVENT_TYPE, values="one", aggfunc="max")
        .reindex(index=households.index, columns=list(EVENT_TYPES))
        .fillna(0.0)
    )
    out = pd.DataFrame(index=households.index)
    for level, keys in (("village", [COUNTY, VILLAGE]), ("county", [COUNTY])):
        groups = [households[key] for key in keys]
        shares = hit.groupby(groups).transform("mean")
        for event_type in EVENT_TYPES:
            out[f"{level}_{event_type}_share_this_year"] = shares[event_type].to_numpy()
    return out


def with_place_shocks_this_year(
    tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame
) -> pd.DataFrame:
    """Place as known at the date: no county/village codes, plus this year's shock shares."""
    shares = place_shocks_this_year(tables, as_of).reindex(features.index)
    return without_place_names(tables, as_of, features).join(shares)


def without_monitoring_features(
    tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame
) -> pd.DataFrame:
    """The catalog's monitoring-cycle features (spells and visits) out."""
    names = [spec.name for spec in FEATURES if spec.reason_group == "monitoring"]
    return features.drop(columns=names, errors="ignore")


def with_days_into_year(
    tables: Tables, as_of: pd.Timestamp, features: pd.DataFrame
) -> pd.DataFrame:
    """Plus how far into the target year the as-of date is (days since 1 January): the
    year-to-date counts and rates mean little on 1 January and much by October."""
    start = pd.Timestamp(year=as_of.year, month=1, day=1)
    return features.assign(days_into_year=float((as_of - start).days))


INCOME_OVER_LINE = ("income_to_line_ratio_last_round", "min_income_to_line_ratio_3_rounds")
"""Features whose rise can only lower the booster's risk under ``monotone_income``."""


class _MonotoneLightGBM:
    """lightgbm, except that every booster it trains or grows is constrained to lower the
    risk as income over the line rises (``monotone_constraints``: -1 on INCOME_OVER_LINE)."""

    def __getattr__(self, name: str) -> object:
        return getattr(lightgbm, name)

    @staticmethod
    def _constrained(params: dict, dataset: lightgbm.Dataset) -> dict:
        data = getattr(dataset, "data", None)
        names = list(data.columns) if isinstance(data, pd.DataFrame) else dataset.get_feature_name()
        signs = [-1 if name in INCOME_OVER_LINE else 0 for name in names]
        return {**params, "monotone_constraints": signs}

    def Booster(self, params: dict, train_set: lightgbm.Dataset, **options: object):
        return lightgbm.Booster(
            params=self._constrained(params, train_set), train_set=train_set, **options
        )

    def train(self, params: dict, train_set: lightgbm.Dataset, **options: object):
        return lightgbm.train(self._constrained(params, train_set), train_set, **options)


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        BASELINE,
        Variant("no_place_codes", features=without_place_names, note="county/village dropped"),
        Variant(
            "place_known_at_date",
            features=with_place_shocks_this_year,
            note="no place codes; + village/county shock shares so far this year",
        ),
        Variant(
            "no_monitoring_features",
            features=without_monitoring_features,
            note="the monitoring spells and visits features dropped",
        ),
        Variant("income_lags", features=with_income_lags, note="+ income/line in Y-2, Y-3"),
        Variant("peer_features_only", features=only_peer_features, note="the peer's features"),
        Variant(
            "calibrate_10pct",
            train={"calibration_share": 0.1},
            note="10% of the last year's households calibrate, 90% fit (default 50%)",
        ),
        Variant("size_tolerance_0", train={"size_tolerance": 0.0}, note="best trial, any size"),
        Variant(
            "early_stop_100", train={"early_stopping_rounds": 100}, note="patience 100 (default 30)"
        ),
        Variant("as_of_jan_jul", train={"as_of_months": (1, 7)}, note="as-of months 1, 7"),
        Variant("trials_x3", trials_factor=3.0, note="three times the trials"),
        Variant("class_weight", class_weight=True, note="is_unbalance, then Platt"),
        Variant(
            "no_blend",
            train={"candidates": ("rule_score", "logistic", "lightgbm")},
            note="the blend of booster and logistic regression not a candidate",
        ),
        Variant("blend_only", train={"candidates": ("blend",)}, note="always the blend"),
        Variant("lightgbm_only", train={"candidates": ("lightgbm",)}, note="always the booster"),
        Variant(
            "start_from_defaults",
            patches={"earlywarn.model.search.START_FROM_DEFAULTS": True},
            note="the search's first trial is LightGBM's defaults (then the sampled ones)",
        ),
        Variant(
            "no_clip_linear",
            patches={"earlywarn.model.linear.CLIP_TO_FIT": False},
            note="the logistic regression extrapolates beyond its fitted range (as before)",
        ),
        Variant(
            "days_into_year",
            features=with_days_into_year,
            note="+ days since 1 January of the target year",
        ),
        Variant(
            "monotone_income",
            patches={
                "earlywarn.model.search_data.lgb": _MonotoneLightGBM(),
                "earlywarn.model.fit.lgb": _MonotoneLightGBM(),
            },
            note="the booster's risk can only fall as income over the line rises",
        ),
        Variant(
            "no_refit",
            train={"refit_on_calibration_year": False},
            note="no refit after calibrating: the model keeps half the last year out (as before)",
        ),
        Variant(
            "before_december",
            train={"refit_on_calibration_year": False},
            patches={"earlywarn.model.linear.CLIP_TO_FIT": False},
            note="earlywarn as of 1 December 2026: no refit, the linear part unclipped",
        ),
    )
}


def ablation_table(metrics: pd.DataFrame, *, as_of: str = "all") -> pd.DataFrame:
    """Variant x world: mean over seeds of AP and ROC-AUC, and of AP minus the baseline's on
    the same seed, its worst seed, and on how many seeds the variant beat the baseline (the
    peer, rule and oracle are listed for reference)."""
    rows = metrics[metrics["as_of"] == as_of]
    baseline = rows[rows["score"] == "earlywarn"].set_index(["world", "seed"])["average_precision"]
    keys = pd.MultiIndex.from_frame(rows[["world", "seed"]])
    rows = rows.assign(
        d_ap=rows["average_precision"].to_numpy() - baseline.reindex(keys).to_numpy()
    )
    rows = rows.assign(won=(rows["d_ap"] > 0).astype(float))
    table = rows.groupby(["score", "world"], sort=False).agg(
        AP=("average_precision", "mean"),
        ROC=("roc_auc", "mean"),
        dAP=("d_ap", "mean"),
        dAP_worst=("d_ap", "min"),
        won=("won", "sum"),
        seeds=("seed", "nunique"),
    )
    table["won"] = table["won"].astype(int).astype(str) + "/" + table["seeds"].astype(str)
    wide = table.drop(columns="seeds").unstack("world")
    worlds = list(dict.fromkeys(rows["world"]))
    wide = wide[
        [(name, world) for world in worlds for name in ("AP", "ROC", "dAP", "dAP_worst", "won")]
    ]
    wide.columns = [f"{world} {name}" for name, world in wide.columns]
    return wide
