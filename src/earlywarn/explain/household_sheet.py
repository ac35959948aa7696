"""The household sheet: one A4 page per flagged household for its caseworker, with the head's
name and masked ID, the risk and its rank in the village, the model's reasons and the current
rule's triggers (in the report's language, with the household's figures as of the scores'
date), its income against the line with its shocks, the assistance it receives and the
measures its reasons suggest."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import (
    AMOUNT,
    COST,
    COUNTY,
    DATE,
    EVENT_TYPE,
    HEAD_NAME,
    HOUSEHOLD_ID,
    ID_NUMBER,
    LINE,
    MEASURE,
    MODEL_VERSION,
    RANK_IN_VILLAGE,
    REASONS,
    RISK,
    START_DATE,
    VILLAGE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.explain.charts import chart_legend, income_chart_svg
from earlywarn.explain.formatting import day, percent, yuan
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import household_facts, running_assistance
from earlywarn.explain.reasons import Reason, rule_reasons, stored_reasons
from earlywarn.features.labels import NET_INCOME_PER_CAPITA, poverty_by_year
from earlywarn.model.rule import rule_flags

log = logging.getLogger(__name__)

N_IN_VILLAGE = "n_in_village"
NO_HISTORY = pd.DataFrame(
    {
        YEAR: pd.Series(dtype="int64"),
        NET_INCOME_PER_CAPITA: pd.Series(dtype="float64"),
        LINE: pd.Series(dtype="float64"),
    }
)
NO_EVENTS = pd.DataFrame(
    {
        DATE: pd.Series(dtype="datetime64[ns]"),
        EVENT_TYPE: pd.Series(dtype="str"),
        COST: pd.Series(dtype="float64"),
    }
)


def mask_id(id_number: Any) -> str:
    """First 4 and last 4 characters of an ID, the rest as ``*``; too short: all ``*``."""
    if id_number is None or (not isinstance(id_number, str) and pd.isna(id_number)):
        return ""
    text = str(id_number).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


@dataclass(frozen=True)
class _Records:
    """What the sheets of one as-of date quote, per household id: the facts reasons quote,
    the rule's figures and triggers, income by year, shocks and assistance running at
    ``as_of``, and the personal columns."""

    facts: dict[str, dict[str, Any]]
    triggers: pd.DataFrame
    history: dict[str, pd.DataFrame]
    events: dict[str, pd.DataFrame]
    running: dict[str, pd.DataFrame]
    no_assistance: pd.DataFrame
    personal: pd.DataFrame


def household_sheets(
    flagged: pd.DataFrame,
    tables: Tables,
    as_of: pd.Timestamp,
    glossary: Glossary,
    lang: str,
    *,
    rule_cfg: RuleConfig | None = None,
) -> list[dict[str, Any]]:
    """The template context of each flagged household's sheet (``flagged``: rows of one
    as-of date of the scores, with county, village, rank_in_village and n_in_village)."""
    ids = pd.Index(flagged[HOUSEHOLD_ID].astype(str), name=HOUSEHOLD_ID)
    records = _records(ids, tables, as_of, rule_cfg)
    return [_sheet(row, records, as_of, glossary, lang) for row in flagged.itertuples(index=False)]


def _records(
    ids: pd.Index, tables: Tables, as_of: pd.Timestamp, rule_cfg: RuleConfig | None
) -> _Records:
    """Everything the sheets of households ``ids`` quote, read from ``tables`` at ``as_of``."""
    known = ids[ids.isin(tables.households[HOUSEHOLD_ID].astype(str))]
    if len(known) < len(ids):
        log.warning(
            "%d flagged households are not in the households table; their sheets show no figures",
            len(ids) - len(known),
        )
    years = tables.household_years
    closed = replace(tables, household_years=years[years[YEAR] < as_of.year])
    poverty = poverty_by_year(closed)
    events = tables.events[(tables.events[DATE] < as_of) & tables.events[HOUSEHOLD_ID].isin(ids)]
    running = running_assistance(tables.assistance, as_of)
    running = running[running[HOUSEHOLD_ID].isin(ids)]
    return _Records(
        facts=household_facts(tables, as_of, known).reindex(ids).to_dict("index"),
        triggers=rule_flags(tables, as_of, known, cfg=rule_cfg).reindex(ids),
        history=dict(tuple(poverty[poverty[HOUSEHOLD_ID].isin(ids)].groupby(HOUSEHOLD_ID))),
        events=dict(tuple(events.groupby(HOUSEHOLD_ID))),
        running=dict(tuple(running.groupby(HOUSEHOLD_ID))),
        no_assistance=tables.assistance.iloc[:0],
        personal=(
            tables.personal
            if len(tables.personal.columns)
            else pd.DataFrame(index=pd.Index([], name=HOUSEHOLD_ID))
        ),
    )


def _sheet(
    row: Any, records: _Records, as_of: pd.Timestamp, glossary: Glossary, lang: str
) -> dict[str, Any]:
    """One household's sheet (``row``: its scores row, as a named tuple)."""
    household_id = str(getattr(row, HOUSEHOLD_ID))
    model = stored_reasons(
        getattr(row, REASONS), records.facts.get(household_id, {}), glossary, lang
    )
    trigger = records.triggers.loc[household_id]
    rule_known = pd.notna(trigger.get("rule_flagged"))
    rules = (
        rule_reasons(trigger.to_dict(), glossary, lang, target_year=as_of.year)
        if rule_known
        else []
    )
    running = records.running.get(household_id, records.no_assistance)
    events = records.events.get(household_id, NO_EVENTS)
    personal = records.personal
    name = personal[HEAD_NAME].get(household_id) if HEAD_NAME in personal else None
    id_number = personal[ID_NUMBER].get(household_id) if ID_NUMBER in personal else None
    risk = float(getattr(row, RISK))
    rank = int(getattr(row, RANK_IN_VILLAGE))
    return {
        "id": household_id,
        "county": str(getattr(row, COUNTY)),
        "village": str(getattr(row, VILLAGE)),
        "name": "" if name is None or pd.isna(name) else str(name),
        "masked_id": mask_id(id_number),
        "risk": percent(risk),
        "risk_pct": f"{100 * risk:.0f}",
        "rank": glossary.label(
            "rank_in_village", lang, rank=rank, n=int(getattr(row, N_IN_VILLAGE))
        ),
        "reasons": [_reason_item(reason, glossary, lang) for reason in model],
        "rules": [reason.text for reason in rules],
        "first_group": model[0].code if model else "",
        "groups": list(dict.fromkeys(reason.code for reason in model)),
        "first_reason": (
            f"{glossary.group_name(model[0].code, lang)}: {model[0].text}" if model else ""
        ),
        "rule_flagged": bool(trigger.get("rule_flagged")) if rule_known else False,
        "legend": chart_legend(glossary, lang),
        "chart": income_chart_svg(
            records.history.get(household_id, NO_HISTORY),
            events,
            as_of=as_of,
            glossary=glossary,
            lang=lang,
        ),
        "assistance": _assistance_items(running, glossary, lang),
        "suggested": suggested_measures(model, set(running[MEASURE].astype(str)), glossary, lang),
        "events": recent_events(events, glossary, lang),
        "as_of": day(as_of, lang),
        "target_year": as_of.year,
        "model_version": str(getattr(row, MODEL_VERSION)),
    }


def _reason_item(reason: Reason, glossary: Glossary, lang: str) -> dict[str, str]:
    """A model reason as the sheet lists it: the group's name, the text and the points."""
    points = (
        ""
        if reason.contribution is None
        else glossary.label("points", lang, points=f"{100 * reason.contribution:.1f}")
    )
    return {"name": glossary.group_name(reason.code, lang), "text": reason.text, "points": points}


def _assistance_items(running: pd.DataFrame, glossary: Glossary, lang: str) -> list[dict[str, str]]:
    """The measures the household receives at ``as_of``: name, since when, yuan a year."""
    return [
        {"measure": glossary.measure_name(code, lang), "since": day(start, lang), "amount": yuan(a)}
        for code, start, a in zip(
            running[MEASURE].astype(str), running[START_DATE], running[AMOUNT], strict=True
        )
    ]


def recent_events(events: pd.DataFrame, glossary: Glossary, lang: str, limit: int = 8) -> list[str]:
    """The household's latest shocks, newest first: date, type and known cost."""
    latest = events.sort_values(DATE, ascending=False, kind="stable").head(limit)
    items = []
    for date, event_type, cost in zip(
        latest[DATE],
        latest[EVENT_TYPE],
        latest[COST] if COST in latest else [np.nan] * len(latest),
        strict=True,
    ):
        name = glossary.event_name(str(event_type), lang)
        money = f" ({yuan(cost)} {glossary.label('yuan', lang)})" if pd.notna(cost) else ""
        items.append(f"{day(date, lang)} {name}{money}")
    return items


def suggested_measures(
    reasons: list[Reason], running: set[str], glossary: Glossary, lang: str
) -> list[dict[str, Any]]:
    """Each measure the mechanism offers for the household's reasons, once, with the reasons
    it answers, whether the household already receives it and the caseworker's advice."""
    by_measure: dict[str, dict[str, Any]] = {}
    seen_advice: set[str] = set()
    for reason in reasons:
        for measure in glossary.measures_for(reason.code):
            entry = by_measure.setdefault(
                measure,
                {
                    "name": glossary.measure_name(measure, lang),
                    "running": measure in running,
                    "reasons": [],
                    "advice": [],
                },
            )
            entry["reasons"].append(glossary.group_name(reason.code, lang))
            advice = glossary.advice(reason.code, lang)
            if advice not in seen_advice:
                seen_advice.add(advice)
                entry["advice"].append(advice)
    return list(by_measure.values())
