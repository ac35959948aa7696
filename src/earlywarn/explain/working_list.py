"""The county's working list: every household the model or the current rule flags, with who
flags it, the change since the previous run, and the figures an official plans visits with.

Pure. :func:`with_list_facts` puts the current rule's verdict, the head's name and masked ID
(also for the households the rule alone flags, who have no sheet) and the main reason beside
each scored household; :func:`working_list` turns scored households into the list's rows;
the village and county pages render them (:mod:`earlywarn.explain.list_table`), and
``jobs.report`` writes the same rows as CSV and XLSX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import PolicyConfig, RuleConfig
from earlywarn.data.columns import (
    AS_OF,
    COUNTY,
    FLAGGED,
    HEAD_NAME,
    HOUSEHOLD_ID,
    ID_NUMBER,
    RANK_IN_VILLAGE,
    REASONS,
    RISK,
    VILLAGE,
)
from earlywarn.data.tables import Tables
from earlywarn.explain.formatting import yuan
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_sheet import mask_id
from earlywarn.explain.list_words import ListWords, list_words
from earlywarn.features.monitoring import MONITORING_STATUS, VERIFIED_NOT_AT_RISK_ON
from earlywarn.model.rule import (
    INCOME_NEAR_LINE,
    LAST_INCOME,
    LAST_ROUND_YEAR,
    RULE_FLAGGED,
    RULE_LINE,
    SHOCK_TYPES,
    rule_flags,
)

# the scores file's comparison with the previous run (scoring.scores_file.HISTORY_COLUMNS;
# scoring is above explain, so named again here)
PREVIOUS_AS_OF = "previous_as_of"
PREVIOUS_RISK = "previous_risk"
NEWLY_FLAGGED = "newly_flagged"
RISK_DOUBLED = "risk_doubled"

MASKED_ID = "masked_id"
MAIN_REASON = "main_reason"
RULE_INCOME_LIMIT = "rule_income_limit"
RULE_COLUMNS = (RULE_FLAGGED, INCOME_NEAR_LINE, LAST_INCOME, RULE_INCOME_LIMIT, SHOCK_TYPES)
LIST_FACTS = (*RULE_COLUMNS, LAST_ROUND_YEAR, HEAD_NAME, MASKED_ID, MAIN_REASON)
"""What :func:`with_list_facts` adds to the scores."""

BOTH, MODEL_ONLY, RULE_ONLY = "both", "model_only", "rule_only"
WHO = (BOTH, MODEL_ONLY, RULE_ONLY)
"""Who flags a household on the list: the model and the rule, the model alone, the rule alone."""

LIST_COLUMNS = (
    VILLAGE,
    RANK_IN_VILLAGE,
    HOUSEHOLD_ID,
    HEAD_NAME,
    MASKED_ID,
    RISK,
    PREVIOUS_RISK,
    "risk_change",
    NEWLY_FLAGGED,
    RISK_DOUBLED,
    "who",
    MAIN_REASON,
)
"""The list's columns, in order (risks as shares 0..1, change in shares)."""


def with_list_facts(
    scores: pd.DataFrame, tables: Tables, rule_cfg: RuleConfig, glossary: Glossary, lang: str
) -> pd.DataFrame:
    """``scores`` with what the working list shows of every scored household
    (:data:`LIST_FACTS`): the current rule's verdict as of its date (whether it flags, each
    trigger, the last per-person income against the rule's limit, i.e. the line of the
    target year plus the margin, in yuan; the last survey round's year), the head's name and
    masked ID (never the full ID) and its main reason in ``lang``."""
    out = _with_places(scores, tables)
    verdicts = [pd.DataFrame(columns=[*RULE_COLUMNS, LAST_ROUND_YEAR])]
    for as_of, on_date in out.groupby(AS_OF, sort=True):
        ids = on_date[HOUSEHOLD_ID].astype(str).tolist()
        rule = rule_flags(tables, pd.Timestamp(as_of), ids, cfg=rule_cfg)
        rule[RULE_INCOME_LIMIT] = rule[RULE_LINE] * (1 + rule_cfg.income_margin)
        verdicts.append(rule.loc[:, [*RULE_COLUMNS, LAST_ROUND_YEAR]].set_index(on_date.index))
    verdict = pd.concat([frame for frame in verdicts if len(frame)] or verdicts[:1])
    for name in (*RULE_COLUMNS, LAST_ROUND_YEAR):
        out[name] = verdict[name].reindex(out.index)
    personal = tables.personal
    ids = out[HOUSEHOLD_ID].astype(str)
    names = personal[HEAD_NAME] if HEAD_NAME in personal else pd.Series(dtype="object")
    numbers = personal[ID_NUMBER] if ID_NUMBER in personal else pd.Series(dtype="object")
    out[HEAD_NAME] = ids.map(names).astype("string").fillna("").to_numpy()
    out[MASKED_ID] = [mask_id(numbers.get(household)) for household in ids]
    out[MAIN_REASON] = _main_reasons(out, glossary, lang)
    return out


def _with_places(scores: pd.DataFrame, tables: Tables) -> pd.DataFrame:
    """Scores with county and village (from the households table where absent) and the rank
    of each household's risk in its village (where absent; 1 = the highest)."""
    out = scores.copy()
    out[AS_OF] = pd.to_datetime(out[AS_OF])
    places = tables.households.set_index(HOUSEHOLD_ID)[[COUNTY, VILLAGE]]
    for name in (COUNTY, VILLAGE):
        if name not in out.columns:
            out[name] = out[HOUSEHOLD_ID].map(places[name])
        out[name] = out[name].astype("string").fillna("?")
    if RANK_IN_VILLAGE not in out.columns:
        in_village = out.groupby([AS_OF, COUNTY, VILLAGE])[RISK]
        out[RANK_IN_VILLAGE] = in_village.rank(method="min", ascending=False).astype("int64")
    return out


def who_flags(scored: pd.DataFrame) -> pd.Series:
    """Per household: :data:`BOTH`, :data:`MODEL_ONLY`, :data:`RULE_ONLY`, or "" for neither
    (the rule's verdict unknown counts as not flagging)."""
    model = scored[FLAGGED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    rule = (
        scored[RULE_FLAGGED].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if RULE_FLAGGED in scored
        else np.zeros(len(scored), dtype=bool)
    )
    who = np.select([model & rule, model, rule], [BOTH, MODEL_ONLY, RULE_ONLY], default="")
    return pd.Series(who, index=scored.index, name="who")


def working_list(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per household the model or the rule flags (:data:`LIST_COLUMNS`, plus county):
    those the model flags first, then those only the rule flags, each by risk, highest
    first (names, masked IDs and main reasons empty where ``scored`` lacks
    :func:`with_list_facts`)."""
    who = who_flags(scored)
    rows = scored[who != ""].copy()
    rows["who"] = who[who != ""]
    for name, default in ((PREVIOUS_RISK, np.nan), (NEWLY_FLAGGED, False), (RISK_DOUBLED, False)):
        if name not in rows:
            rows[name] = default
    for name in (HEAD_NAME, MASKED_ID, MAIN_REASON):
        if name not in rows:
            rows[name] = ""
    rows[PREVIOUS_RISK] = rows[PREVIOUS_RISK].astype("float64")
    rows["risk_change"] = rows[RISK].astype("float64") - rows[PREVIOUS_RISK]
    rows[NEWLY_FLAGGED] = rows[NEWLY_FLAGGED].astype("boolean").fillna(False).astype(bool)
    rows[RISK_DOUBLED] = rows[RISK_DOUBLED].astype("boolean").fillna(False).astype(bool)
    rows["_rule_only"] = rows["who"] == RULE_ONLY
    rows = rows.sort_values(["_rule_only", RISK, HOUSEHOLD_ID], ascending=[True, False, True])
    columns = [COUNTY, *LIST_COLUMNS]
    if MONITORING_STATUS in rows:
        rows[MONITORING] = monitoring_step(rows)
        columns.append(MONITORING)
    return rows.loc[:, columns].reset_index(drop=True)


MONITORING = "monitoring"
"""What the monitoring status asks of the team (when the scores carry it):"""
VISIT, VERIFIED, CHECK_MEASURES, EXITED_AGAIN = "visit", "verified", "check_measures", "exited"
"""``visit``: at risk, not yet a monitoring subject (the team's visits); ``verified``: a visit
found it not at risk recently and nothing was reported since (not sent again);
``check_measures``: already monitored and the risk is still high (are the measures working?);
``exited``: left monitoring and the risk is high again (a warning of its own)."""


def monitoring_step(rows: pd.DataFrame) -> pd.Series:
    """Per row of scores with the monitoring status: :data:`VISIT`, :data:`VERIFIED`,
    :data:`CHECK_MEASURES` or :data:`EXITED_AGAIN`."""
    status = rows[MONITORING_STATUS].astype("string").fillna("not_monitored")
    verified = rows.get(VERIFIED_NOT_AT_RISK_ON, pd.Series(pd.NaT, index=rows.index)).notna()
    step = pd.Series(VISIT, index=rows.index, dtype="object")
    step[status == "monitored"] = CHECK_MEASURES
    step[status == "exited"] = EXITED_AGAIN
    step[(status != "monitored") & verified.to_numpy()] = VERIFIED
    return step


def _main_reasons(scored: pd.DataFrame, glossary: Glossary, lang: str) -> list[str]:
    """Per household: its first model reason's group, or where only the rule flags it, the
    rule's triggers with their figures; empty for the rest."""
    words = list_words(lang)
    frame = scored.assign(who=who_flags(scored))
    return [_main_reason(row, glossary, lang, words) for row in frame.to_dict(orient="records")]


def _main_reason(row: dict[str, Any], glossary: Glossary, lang: str, words: ListWords) -> str:
    reasons = row.get(REASONS)
    if row["who"] in (BOTH, MODEL_ONLY) and reasons is not None and len(reasons):
        first = max(
            reasons, key=lambda r: -math.inf if r["contribution"] is None else r["contribution"]
        )
        return glossary.group_name(str(first["code"]), lang)
    if row["who"] == RULE_ONLY:
        triggers = []
        if row.get(INCOME_NEAR_LINE):
            income, limit = row.get(LAST_INCOME), row.get(RULE_INCOME_LIMIT)
            triggers.append(words("trigger_income", income=yuan(income), limit=yuan(limit)))
        shocks = str(row.get(SHOCK_TYPES) or "")
        if shocks:
            names = [glossary.event_name(code, lang) for code in shocks.split(",") if code]
            triggers.append(words("trigger_shock", types=words.join(names)))
        return words.join(triggers, strong=True)
    return ""


@dataclass(frozen=True)
class ListFigures:
    """What a list's header states about the households scored in a village or county."""

    n_scored: int
    n_flagged: int
    n_both: int
    n_model_only: int
    n_rule_only: int
    rule_known: bool
    expected_flagged: float
    """Sum of the flagged households' risks: how many of them the model expects to fall
    below the line."""
    expected_all: float
    """Sum of every scored household's risk: how many the model expects to fall in all."""
    expected_rule_only: float
    n_newly: int
    n_doubled: int
    previous_as_of: str
    last_round_year: str


def list_figures(scored: pd.DataFrame) -> ListFigures:
    """The header figures of the households ``scored`` (a village's or a county's)."""
    who = who_flags(scored)
    risk = scored[RISK].astype("float64")
    flagged = who.isin([BOTH, MODEL_ONLY])
    previous = (
        pd.to_datetime(scored[PREVIOUS_AS_OF]).dropna()
        if PREVIOUS_AS_OF in scored
        else pd.Series(dtype="datetime64[ms]")
    )
    rounds = (
        pd.to_numeric(scored[LAST_ROUND_YEAR], errors="coerce").dropna()
        if LAST_ROUND_YEAR in scored
        else pd.Series(dtype="float64")
    )
    return ListFigures(
        n_scored=len(scored),
        n_flagged=int(flagged.sum()),
        n_both=int((who == BOTH).sum()),
        n_model_only=int((who == MODEL_ONLY).sum()),
        n_rule_only=int((who == RULE_ONLY).sum()),
        rule_known=RULE_FLAGGED in scored,
        expected_flagged=float(risk[flagged].sum()),
        expected_all=float(risk.sum()),
        expected_rule_only=float(risk[who == RULE_ONLY].sum()),
        n_newly=int(scored[NEWLY_FLAGGED].fillna(False).astype(bool).sum())
        if NEWLY_FLAGGED in scored and len(previous)
        else 0,
        n_doubled=int(scored[RISK_DOUBLED].fillna(False).astype(bool).sum())
        if RISK_DOUBLED in scored
        else 0,
        previous_as_of=", ".join(sorted({str(d.date()) for d in previous})),
        last_round_year=str(int(rounds.max())) if len(rounds) else "",
    )


@dataclass(frozen=True)
class ListingContext:
    """What a scoring run says about the list beyond its rows: the flagging policy (and so
    the capacity), how many households the whole run scored, when it scored them and the
    drift warnings it recorded. Pages state it when given."""

    policy: PolicyConfig | None = None
    n_scored_run: int = 0
    scored_at: str = ""
    drift_warnings: tuple[str, ...] = field(default_factory=tuple)
    config_differs: bool = False
    """The report's config is not the one the scores were made with (its policy may differ)."""


def capacity(policy: PolicyConfig, level: str, n_villages: int, n_scored_run: int) -> int | None:
    """How many households the policy sends to caseworkers on a ``level`` ("village" or
    "county") page with ``n_villages`` villages; None when the policy sets no number there
    (a risk level, a share of the whole run, or a per-county number on a village page)."""
    if policy.kind != "top_n_per_group":
        return None
    if policy.group == "village":
        return policy.n_per_group * (1 if level == "village" else n_villages)
    return policy.n_per_group if level == "county" else None


def policy_text(policy: PolicyConfig, n_scored_run: int, lang: str) -> str:
    """The flagging policy in words, with the number of places it gives."""
    words = list_words(lang)
    if policy.kind == "threshold":
        return words("policy_threshold", level=f"{100 * policy.threshold:.0f}%")
    if policy.kind == "top_share":
        places = math.ceil(policy.share * n_scored_run) if n_scored_run else 0
        return words(
            "policy_top_share",
            share=f"{100 * policy.share:g}%",
            n=f"{n_scored_run:,}",
            places=places,
        )
    group = words("per_village" if policy.group == "village" else "per_county")
    return words("policy_top_n", n=policy.n_per_group, group=group)
