"""Why a household scored what it did: exact contributions, summed into reason groups.

Contributions come from :meth:`RiskModel.log_odds_contributions
<earlywarn.model.model_file.RiskModel.log_odds_contributions>`: for a booster LightGBM's own
TreeSHAP (``pred_contrib``), which gives the same values as ``shap.TreeExplainer`` on the same
booster and is faster (see ``benchmarks/bench_explain.py``); for logistic regression each
feature's coefficients times its inputs' distance from their fitting mean. Per feature they
are on the model's raw **log-odds** scale: ``base_value + sum(values) == log-odds`` for every
row.

For people, reason groups are given on one scale everywhere (scores file, reports, texts):
**probability points on the calibrated risk** (:data:`CONTRIBUTION_SCALE`). The move from the
base risk to the household's risk is shared among the groups in proportion to their log-odds
contributions (one factor per household: the secant slope of the calibration between the base
log-odds and the household's log-odds), so each group keeps its sign and

    base_risk + sum(group contributions) == risk        (exactly, per household)

where ``base_risk = calibrator(base_value)`` is the risk of a household with the model's
average output.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import HOUSEHOLD_ID, REASONS
from earlywarn.data.tables import Tables
from earlywarn.errors import ModelError
from earlywarn.explain.glossary import Glossary, load_glossary
from earlywarn.explain.household_facts import facts_from_features, household_facts
from earlywarn.explain.reason_lists import MaterialGroups, reason_lists
from earlywarn.explain.reasons import rule_triggers as rule_trigger_frame
from earlywarn.features.catalog import FEATURES
from earlywarn.model.model_file import RiskModel

log = logging.getLogger(__name__)

CONTRIBUTION_SCALE = "probability points on the calibrated risk (0..1, like risk)"
"""What every group contribution means: risk = base_risk + sum of group contributions."""

OTHER_GROUP = "other"
"""Reason group of a feature the catalog does not list."""

MATERIAL_POINTS = 0.01
"""A reason group is listed only when it raises the household's risk by at least one
percentage point (0.01). Risk is shown in whole percent, so a smaller push cannot by itself
move the figure the caseworker reads; listing it as a "main" reason (18 of 147 demo sheets
once did, issue 12) sends the visit after noise. What is not listed is still on the sheet, in
"all other factors (net)"."""

MAX_REASONS = 4
"""At most this many reasons on a sheet, however many are material."""

_FLAT_SLOPE_STEP = 1e-4


@dataclass(frozen=True)
class Contributions:
    """Per-feature contributions for some households, on the log-odds scale.

    ``values``: one row per household (the index of the features given), one column per model
    feature; ``base_value``: the model's expected log-odds. ``log_odds`` = base + row sums.
    """

    values: pd.DataFrame
    base_value: float

    @property
    def log_odds(self) -> pd.Series:
        """The model's raw output per household, rebuilt from the contributions."""
        return (self.values.sum(axis=1) + self.base_value).rename("log_odds")


@dataclass(frozen=True)
class GroupContributions:
    """Contributions summed by reason group, in probability points on the calibrated risk.

    ``points``: one row per household, one column per reason group (sorted by code);
    ``log_odds``: the same sums on the log-odds scale; ``base_risk``: calibrated risk at the base
    log-odds; ``risk``: calibrated risk per household (= base_risk + points row sum).
    """

    points: pd.DataFrame
    log_odds: pd.DataFrame
    base_risk: float
    risk: pd.Series
    scale: str = CONTRIBUTION_SCALE

    def ranked(
        self, household_id: str, *, k: int | None = None, positive_only: bool = True
    ) -> pd.Series:
        """One household's groups, largest contribution first (only those raising the risk)."""
        row = self.points.loc[household_id].sort_values(ascending=False, kind="stable")
        if positive_only:
            row = row[row > 0]
        return row if k is None else row.iloc[:k]

    def material(self, household_id: str, *, k: int = MAX_REASONS) -> pd.Series:
        """The groups a sheet lists: those raising the risk by at least
        :data:`MATERIAL_POINTS`, largest first, at most ``k`` (and :data:`MAX_REASONS`)."""
        row = self.ranked(household_id, k=min(k, MAX_REASONS))
        return row[row >= MATERIAL_POINTS]

    def other_factors(self, household_id: str, listed: pd.Series) -> float:
        """The net contribution of every group not in ``listed``: risk - base - listed."""
        return float(self.risk[household_id] - self.base_risk - listed.sum())

    def material_all(self, k: int = MAX_REASONS) -> MaterialGroups:
        """:meth:`material` and :meth:`other_factors` of every household at once, the same
        values (rows in the order of :attr:`points`)."""
        values = self.points.to_numpy(dtype="float64")
        places = max(min(k, MAX_REASONS, values.shape[1]), 0)
        # descending, ties in column order: what a stable descending pandas sort gives
        order = np.argsort(-values, axis=1, kind="stable")[:, :places]
        top = np.take_along_axis(values, order, axis=1)
        with np.errstate(invalid="ignore"):
            listed = (top > 0) & (top >= MATERIAL_POINTS)
        listed &= np.cumprod(listed, axis=1).astype(bool)  # a prefix: sorted, NaN last
        total = np.zeros(len(values))  # left to right, as pandas sums a short Series
        for place in range(places):
            total = np.where(listed[:, place], total + top[:, place], total)
        return MaterialGroups(
            codes=np.asarray(self.points.columns, dtype=object)[order],
            points=top,
            counts=listed.sum(axis=1),
            other=self.risk.to_numpy(dtype="float64") - self.base_risk - total,
            base_risk=self.base_risk,
        )


def contributions(model: RiskModel, features: pd.DataFrame) -> Contributions:
    """Exact contributions (log-odds) of each model feature for each row of ``features``."""
    if len(features) == 0:
        base = float(model.log_odds_contributions(_one_empty_row(model))[0, -1])
        empty = pd.DataFrame(
            columns=list(model.feature_names), index=features.index, dtype="float64"
        )
        return Contributions(empty, base)
    raw = model.log_odds_contributions(features)
    if raw.ndim != 2 or raw.shape[1] != len(model.feature_names) + 1:
        raise ModelError(
            f"contributions have shape {raw.shape}; expected "
            f"(n, {len(model.feature_names) + 1}) for a binary model"
        )
    values = pd.DataFrame(raw[:, :-1], index=features.index, columns=list(model.feature_names))
    return Contributions(values=values, base_value=float(raw[0, -1]))


def _one_empty_row(model: RiskModel) -> pd.DataFrame:
    """A row with every feature missing (to read the base value when there is no row)."""
    return pd.DataFrame({name: [np.nan] for name in model.feature_names}, dtype="float64")


def feature_groups(
    feature_names: tuple[str, ...] | list[str], catalog: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Reason group of each feature: from ``catalog`` (feature -> group) or the feature
    catalog of :mod:`earlywarn.features.catalog`; a feature it does not list goes to ``other``."""
    if catalog is None:
        catalog = {spec.name: spec.reason_group for spec in FEATURES}
    unknown = [name for name in feature_names if name not in catalog]
    if unknown:
        log.warning(
            "%d model features are not in the catalog; grouped as %r", len(unknown), OTHER_GROUP
        )
    return {name: catalog.get(name, OTHER_GROUP) for name in feature_names}


def group_contributions(
    model: RiskModel, contribs: Contributions, groups: Mapping[str, str] | None = None
) -> GroupContributions:
    """Sum contributions by reason group and put them on the calibrated-risk scale."""
    mapping = feature_groups(tuple(contribs.values.columns), groups)
    by_group = contribs.values.T.groupby(pd.Series(mapping)).sum().T
    by_group = by_group.reindex(sorted(by_group.columns), axis=1)
    log_odds = contribs.log_odds.to_numpy()
    base = contribs.base_value
    risk = model.calibrator(log_odds)
    base_risk = float(model.calibrator(np.array([base]))[0])
    slope = _secant_slope(model, base, base_risk, log_odds, risk)
    points = by_group.mul(slope, axis=0)
    return GroupContributions(
        points=points,
        log_odds=by_group,
        base_risk=base_risk,
        risk=pd.Series(risk, index=by_group.index, name="risk"),
    )


def _secant_slope(
    model: RiskModel, base: float, base_risk: float, log_odds: np.ndarray, risk: np.ndarray
) -> np.ndarray:
    """(risk - base_risk) / (log_odds - base) per row; the local slope where they coincide."""
    delta = log_odds - base
    near = np.abs(delta) < _FLAT_SLOPE_STEP
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(near, 0.0, (risk - base_risk) / delta)
    if near.any():
        up = model.calibrator(np.array([base + _FLAT_SLOPE_STEP]))[0]
        down = model.calibrator(np.array([base - _FLAT_SLOPE_STEP]))[0]
        slope[near] = (up - down) / (2 * _FLAT_SLOPE_STEP)
    return np.asarray(slope, dtype="float64")


def explain(
    model: RiskModel, features: pd.DataFrame, groups: Mapping[str, str] | None = None
) -> GroupContributions:
    """Contributions of each reason group for each household, in probability points."""
    return group_contributions(model, contributions(model, features), groups)


def import_shap() -> ModuleType:
    """``import shap`` without the matplotlib deprecation notice its import triggers."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="The set_(bad|over|under) function",
            category=PendingDeprecationWarning,
        )
        import shap
    return shap


def shap_summary_png(
    contribs: Contributions, features: pd.DataFrame, *, max_display: int = 20
) -> bytes:
    """A SHAP beeswarm summary (log-odds, per feature) as PNG bytes, e.g. for the test year.

    Categorical features are coloured by category code; the x axis is in log-odds (SHAP's own
    scale), which the title says.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shap = import_shap()

    columns = list(contribs.values.columns)
    shown = features.loc[contribs.values.index, columns].copy()
    for name in columns:
        column = shown[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            shown[name] = column.cat.codes.astype("float64").where(column.notna())
        else:
            shown[name] = pd.to_numeric(column, errors="coerce").astype("float64")
    plt.close("all")
    shap.summary_plot(
        contribs.values.to_numpy(),
        shown,
        feature_names=columns,
        max_display=max_display,
        show=False,
        plot_size=(8, 0.35 * min(max_display, len(columns)) + 1.5),
        rng=np.random.default_rng(0),
    )  # the dots' jitter, not the global RNG
    figure = plt.gcf()
    figure.axes[0].set_xlabel("contribution to log-odds of being poor (SHAP value)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def explain_with_glossary(
    model: RiskModel,
    features: pd.DataFrame,
    *,
    glossary: Glossary | None = None,
    lang: str = "zh-CN",
    k: int = 3,
    tables: Tables | None = None,
    as_of: pd.Timestamp | str | None = None,
    groups: Mapping[str, str] | None = None,
    rule_cfg: RuleConfig | None = None,
    villages: pd.DataFrame | None = None,
    rule_triggers: bool = True,
) -> pd.Series:
    """The reasons list of each household of ``features`` (index household_id), ready for the
    scores file: a list of ``{code, text, contribution}`` dicts, model reasons first (the
    material reason groups, :meth:`GroupContributions.material`: at most ``k``, each raising
    the risk by at least :data:`MATERIAL_POINTS`, in probability points), then, when
    ``tables`` is given, the current rule's triggers (code ``rule:...``, contribution None)
    and the two sums (average risk and all other factors, net; code ``sum:...``) with which
    the listed points add up to the risk.

    With ``tables`` and ``as_of`` the texts quote the household's own figures; without them
    only feature columns named like a fact are quoted, else the group's plain text.
    ``villages``: :func:`~earlywarn.explain.village_facts.village_facts` of the whole tables,
    so that ``tables`` need hold only these households' rows (facts then cost only theirs).
    ``rule_triggers=False`` leaves the rule out (e.g. no poverty line known yet for the target
    year). ``glossary``: the shipped one unless given.
    """
    glossary = glossary if glossary is not None else load_glossary()
    index = features.index.rename(HOUSEHOLD_ID)
    if len(features) == 0:
        return pd.Series([], index=index, dtype=object, name=REASONS)
    explained = explain(model, features, groups)
    if tables is not None:
        if as_of is None:
            raise ValueError("explain_with_glossary needs as_of together with tables")
        facts = household_facts(tables, as_of, features.index, villages=villages)
        triggers = (
            rule_trigger_frame(tables, as_of, features.index, rule_cfg) if rule_triggers else None
        )
    else:
        facts = facts_from_features(features)
        triggers = None
    lists = reason_lists(
        explained.material_all(k),
        facts,
        glossary,
        lang,
        triggers=triggers,
        target_year=None if as_of is None else pd.Timestamp(as_of).year,
        with_sums=tables is not None,
    )
    return pd.Series(lists, index=index, dtype=object, name=REASONS)
