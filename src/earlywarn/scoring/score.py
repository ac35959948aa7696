"""Scoring households: risk, flag, rank and reasons per household as of a date.

Pure stages: a model and features in, a scores frame out (columns in
:mod:`earlywarn.scoring.scores_file`). :func:`score_households` does it for one frame; a
scoring run (:mod:`earlywarn.scoring.chunks`) calls the same pieces chunk by chunk
(:func:`predict_risk_frame`, :func:`explain_households`) and once on the assembled risks
(:func:`finish_scores`), so both give the same file.

One row of the scores frame is a household in the population at ``as_of``: ``risk`` is the
calibrated probability of being poor in ``target_year``; ``flagged`` follows the configured
policy; ``reasons`` lists the top reason groups raising its risk, each
``{code, text, contribution}``: ``text`` quotes the household's own figures (reason glossary),
``contribution`` is in probability points on the calibrated risk (TreeSHAP summed over the
group's features, rescaled so that base risk + contributions = risk; see
``explain.contributions.CONTRIBUTION_SCALE``, recorded in the scores file's metadata); then
the current rule's triggers (code ``rule:...``, contribution null) when the tables are at
hand. Empty when the household was not explained.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from earlywarn.config import PolicyConfig, Population, RuleConfig
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HOUSEHOLD_ID,
    MODEL_VERSION,
    RANK_IN_VILLAGE,
    REASONS,
    RISK,
    TARGET_YEAR,
    VILLAGE,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import ModelError, SchemaError
from earlywarn.explain.contributions import explain_with_glossary
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.village_facts import village_facts
from earlywarn.features.catalog import FEATURES, catalog_hash
from earlywarn.features.labels import population as select_population
from earlywarn.features.labels import poverty_lines
from earlywarn.features.monitoring import STATUS_COLUMNS, monitoring_status
from earlywarn.features.rounds import household_codes
from earlywarn.model.model_file import RiskModel
from earlywarn.model.policy import flag
from earlywarn.scoring.scores_file import SCORE_COLUMNS

log = logging.getLogger(__name__)

Explain = Literal["flagged", "all", "none"]


# --- the model fits the installed code ---------------------------------------------------


def installed_catalog() -> tuple[str, tuple[str, ...]]:
    """The installed feature catalog: its hash and feature names."""
    return catalog_hash(), tuple(spec.name for spec in FEATURES)


def check_catalog(model: RiskModel, *, catalog_hash: str, catalog_names: Sequence[str]) -> None:
    """Refuse a model trained with a different feature catalog than the installed one.

    The message names the features the model needs that the code no longer builds, and those
    the code builds that the model never saw.
    """
    if model.catalog_hash == catalog_hash:
        return
    missing = [name for name in model.feature_names if name not in set(catalog_names)]
    extra = [name for name in catalog_names if name not in set(model.feature_names)]
    detail = []
    if missing:
        detail.append(f"features the model needs that this code does not build: {missing}")
    if extra:
        detail.append(f"features this code builds that the model was not trained on: {extra}")
    if not detail:
        detail.append("same feature names, but their definitions changed")
    raise ModelError(
        f"model {model.version} was trained with feature catalog {model.catalog_hash or '?'}"
        f", the installed code has catalog {catalog_hash}; "
        + "; ".join(detail)
        + ". Retrain the model or install the earlywarn version it was trained with."
    )


# --- who is scored -----------------------------------------------------------------------


def population_ids(tables: Tables, as_of: pd.Timestamp, population: Population) -> pd.Index:
    """The household ids of the population at ``as_of``, sorted (the scores file's order)."""
    ids = select_population(tables, as_of, population=population)
    return pd.Index(sorted(ids), name=HOUSEHOLD_ID)


# --- risk, flags, ranks ------------------------------------------------------------------


def predict_risk_frame(model: RiskModel, features: pd.DataFrame) -> pd.DataFrame:
    """Calibrated risk per household (index ``household_id``, column ``risk``)."""
    risk = model.predict_risk(features) if len(features) else np.empty(0)
    return pd.DataFrame(
        {RISK: np.asarray(risk, dtype="float64")}, index=features.index.rename(HOUSEHOLD_ID)
    )


def flag_households(
    scores: pd.DataFrame, policy_cfg: PolicyConfig, households: pd.DataFrame
) -> pd.Series:
    """Who goes to caseworkers: :func:`earlywarn.model.policy.flag` on a risk frame.

    ``scores``: index household_id, column ``risk``; ``households``: the households table.
    """
    flagged = flag(scores[RISK], households.set_index(HOUSEHOLD_ID), policy_cfg)
    return pd.Series(
        np.asarray(flagged.reindex(scores.index), dtype=bool), index=scores.index, name=FLAGGED
    )


def finish_scores(
    risks: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    policy_cfg: PolicyConfig,
    households_frame: pd.DataFrame,
    model_version: str,
) -> pd.DataFrame:
    """From risk per household to the scores frame (reasons still empty), one row each.

    Needs every household of the population at once: the policy (top share, top N per
    village) and the rank in the village look across households.
    """
    as_of = pd.Timestamp(as_of).normalize()
    risks = risks.sort_index(kind="stable")
    places = households_frame.set_index(HOUSEHOLD_ID)[[COUNTY, VILLAGE]].reindex(risks.index)
    risks = risks.rename_axis(index=None)
    places = places.rename_axis(index=None)
    scores = pd.DataFrame(
        {
            HOUSEHOLD_ID: risks.index.astype("str"),
            AS_OF: pd.Series(as_of, index=risks.index).astype("datetime64[ms]"),
            TARGET_YEAR: np.int64(as_of.year),
            COUNTY: places[COUNTY].astype("str"),
            VILLAGE: places[VILLAGE].astype("str"),
            RISK: risks[RISK].astype("float64"),
        },
        index=risks.index,
    )
    order = scores.sort_values(
        [COUNTY, VILLAGE, RISK, HOUSEHOLD_ID], ascending=[True, True, False, True], kind="stable"
    )
    rank = order.groupby([COUNTY, VILLAGE], sort=False).cumcount() + 1
    scores[RANK_IN_VILLAGE] = rank.reindex(scores.index).astype("int64")
    scores[FLAGGED] = flag_households(scores[[RISK]], policy_cfg, households_frame).to_numpy()
    scores[REASONS] = pd.Series([[] for _ in range(len(scores))], index=scores.index, dtype=object)
    scores[MODEL_VERSION] = str(model_version)
    return scores.loc[:, list(SCORE_COLUMNS)].reset_index(drop=True)


def attach_reasons(scores: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """Scores with the reasons of the explained households (index household_id)."""
    found = reasons.reindex(scores[HOUSEHOLD_ID].to_numpy())
    out = scores.copy()
    out[REASONS] = pd.Series(  # object even when no household is scored
        [r if isinstance(r, list) else [] for r in found.to_numpy()], index=out.index, dtype=object
    )
    return out


def attach_monitoring_status(
    scores: pd.DataFrame, tables: Tables, *, verified_months: int = 6
) -> pd.DataFrame:
    """Scores with each household's monitoring status at its ``as_of`` (the status columns of
    :mod:`earlywarn.features.monitoring`, after the score columns): not monitored, monitored
    since a date in a category, or exited on a date; and verified not at risk by a visit less
    than ``verified_months`` months ago with no event since. Only what is dated before
    ``as_of`` counts."""
    parts = []
    for as_of, rows in scores.groupby(AS_OF, sort=False):
        status = monitoring_status(
            tables, pd.Timestamp(as_of), rows[HOUSEHOLD_ID], verified_months=verified_months
        )
        parts.append(status.set_axis(rows.index))
    if parts:
        status = pd.concat(parts).reindex(scores.index)
    else:
        status = monitoring_status(tables, pd.Timestamp.now(), [])
    return place_status(scores, status)


def place_status(scores: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """``scores`` with the status columns of ``status`` (row for row) after ``model_version``,
    replacing any already there."""
    out = scores.drop(columns=[c for c in STATUS_COLUMNS if c in scores.columns])
    columns = list(out.columns)
    at = columns.index(MODEL_VERSION) + 1 if MODEL_VERSION in columns else len(columns)
    for offset, column in enumerate(STATUS_COLUMNS):
        out.insert(at + offset, column, status[column].to_numpy())
    return out


# --- reasons -----------------------------------------------------------------------------


def explain_households(
    model: RiskModel,
    features: pd.DataFrame,
    *,
    glossary: Glossary,
    n_reasons: int = 3,
    lang: str = "en",
    tables: Tables | None = None,
    as_of: pd.Timestamp | str | None = None,
    rule_cfg: RuleConfig | None = None,
    villages: pd.DataFrame | None = None,
    rule_triggers: bool | None = None,
) -> pd.Series:
    """Reasons per household of ``features`` (index household_id): the top ``n_reasons``
    reason groups raising its risk (probability points), texts from ``glossary``.

    With ``tables`` and ``as_of`` the texts quote the household's own figures and the current
    rule's triggers follow (``explain.contributions.explain_households``). Facts are computed
    for these households only: ``tables`` is cut down to their rows, and the village figures
    come from ``villages`` (``reasons.village_facts`` of the whole tables), computed from
    ``tables`` when not given, so pass it when ``tables`` holds only part of the villages (a
    chunk). ``rule_triggers``: whether the rule can be applied (:func:`rule_applies`, checked
    here when None).
    """
    index = features.index.rename(HOUSEHOLD_ID)
    if not len(features):
        return pd.Series([], index=index, dtype=object, name=REASONS)
    if tables is None:
        found = explain_with_glossary(model, features, glossary=glossary, lang=lang, k=n_reasons)
    else:
        if as_of is None:
            raise ValueError("explain_households needs as_of together with tables")
        if villages is None:
            villages = village_facts(tables, as_of)
        ((own_rows, _),) = partition_tables(tables, [features.index])
        if rule_triggers is None:
            rule_triggers = rule_applies(own_rows, as_of)
        found = explain_with_glossary(
            model,
            features,
            glossary=glossary,
            lang=lang,
            k=n_reasons,
            tables=own_rows,
            as_of=pd.Timestamp(as_of),
            rule_cfg=rule_cfg,
            villages=villages,
            rule_triggers=rule_triggers,
        )
    return pd.Series(list(found), index=index, dtype=object, name=REASONS)


def rule_applies(tables: Tables, as_of: pd.Timestamp | str) -> bool:
    """Whether the current rule can be applied at ``as_of``: every county of ``tables`` has a
    poverty line for the target year or an earlier one (else reasons go without the rule's
    triggers; logged)."""
    counties = pd.Index(tables.households[COUNTY].astype("str").unique())
    try:
        poverty_lines(tables).latest(np.arange(len(counties)), counties, pd.Timestamp(as_of).year)
    except SchemaError as err:
        log.warning("reasons without the current rule's triggers: %s", err)
        return False
    return True


# --- all together ------------------------------------------------------------------------


def score_households(
    model: RiskModel,
    features: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    policy_cfg: PolicyConfig,
    households_frame: pd.DataFrame,
    glossary: Glossary,
    explain: Explain = "flagged",
    n_reasons: int = 3,
    lang: str = "en",
    tables: Tables | None = None,
    rule_cfg: RuleConfig | None = None,
    verified_months: int | None = None,
) -> pd.DataFrame:
    """The scores frame for the households in ``features`` (index household_id).

    ``explain``: reasons for the flagged households, for all, or none; with ``tables`` their
    texts quote the household's figures and the rule's triggers follow
    (:func:`explain_households`). With ``tables`` and ``verified_months`` the frame carries
    the monitoring status too (:func:`attach_monitoring_status`).
    """
    risks = predict_risk_frame(model, features)
    scores = finish_scores(
        risks,
        as_of=as_of,
        policy_cfg=policy_cfg,
        households_frame=households_frame,
        model_version=model.version,
    )
    if tables is not None and verified_months is not None:
        scores = attach_monitoring_status(scores, tables, verified_months=verified_months)
    if explain == "none":
        return scores
    chosen = scores[HOUSEHOLD_ID] if explain == "all" else scores.loc[scores[FLAGGED], HOUSEHOLD_ID]
    reasons = explain_households(
        model,
        features.loc[chosen.to_numpy()],
        glossary=glossary,
        n_reasons=n_reasons,
        lang=lang,
        tables=tables,
        as_of=as_of,
        rule_cfg=rule_cfg,
    )
    return attach_reasons(scores, reasons)


# --- households in chunks ----------------------------------------------------------------


def partition_tables(
    tables: Tables, chunks: Sequence[pd.Index], places: pd.DataFrame | None = None
) -> list[tuple[Tables, pd.DataFrame | None]]:
    """The tables cut into one small ``Tables`` per chunk of households (and their rows of
    ``places``), in one pass over each table.

    Every row of a household goes to its chunk; households in no chunk are left out. Place
    rates must come from the whole tables (``place.place_rates``) since a chunk holds only
    part of a village. Chunks of the result are independent: they can go to Dask workers.
    """
    wanted = pd.Index(
        np.concatenate([np.asarray(c, dtype=object) for c in chunks]) if len(chunks) else [],
        dtype="str",
    )
    chunk_of = np.repeat(np.arange(len(chunks)), [len(c) for c in chunks])
    bounds = np.arange(len(chunks) + 1)

    def split(frame: pd.DataFrame) -> list[np.ndarray]:
        codes = household_codes(frame[HOUSEHOLD_ID], wanted)
        chunk = np.where(codes >= 0, chunk_of[np.maximum(codes, 0)] if len(chunk_of) else -1, -1)
        order = np.argsort(chunk, kind="stable")
        starts = np.searchsorted(chunk[order], bounds)
        return [order[starts[i] : starts[i + 1]] for i in range(len(chunks))]

    parts = {
        name: [getattr(tables, name).take(rows) for rows in split(getattr(tables, name))]
        for name in ("household_years", "events", "assistance", "monitoring", "visits")
    }
    out: list[tuple[Tables, pd.DataFrame | None]] = []
    for i, rows in enumerate(split(tables.households)):
        sub = replace(
            tables,
            households=tables.households.take(rows),
            household_years=parts["household_years"][i],
            events=parts["events"][i],
            assistance=parts["assistance"][i],
            personal=pd.DataFrame(),
            monitoring=parts["monitoring"][i],
            visits=parts["visits"][i],
        )
        out.append((sub, None if places is None else places.take(rows)))
    return out
