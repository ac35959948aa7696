"""The household sheet: one A4 page per flagged household, the form of its verification visit:
who the household is (head's name, masked ID, village and county, members, workers, income),
its risk as a band beside the cut-off, how the risk adds up (average risk + the material
reasons' points + all other factors, net), the current rule's triggers (in the report's
language, with the household's figures as of the scores' date), its income against each
year's line with its shocks, the assistance already in place, the measures its reasons call
for, the proposed risk types and monitoring category, and the boxes to fill in on the visit."""

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
    HOUSEHOLD_ID,
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
from earlywarn.explain.contributions import MATERIAL_POINTS
from earlywarn.explain.formatting import day, percent, points, yuan
from earlywarn.explain.glossary import CATEGORIES, RISK_TYPES, Glossary
from earlywarn.explain.household_facts import household_facts, running_assistance
from earlywarn.explain.measures import suggested_measures
from earlywarn.explain.monitoring import proposed_category, proposed_risk_types
from earlywarn.explain.reasons import (
    Reason,
    rule_reasons,
    rule_triggers,
    stored_reasons,
    stored_sums,
)
from earlywarn.explain.sheet_figures import breakdown, identity, place_names, risk_band
from earlywarn.explain.sheet_figures import mask_id as mask_id  # where callers import it
from earlywarn.features.labels import NET_INCOME_PER_CAPITA, poverty_by_year

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
    names: dict[tuple[str, str], tuple[str, str]]


def household_sheets(
    flagged: pd.DataFrame,
    tables: Tables,
    as_of: pd.Timestamp,
    glossary: Glossary,
    lang: str,
    *,
    rule_cfg: RuleConfig | None = None,
    cutoff: float | None = None,
) -> list[dict[str, Any]]:
    """The template context of each flagged household's sheet (``flagged``: rows of one
    as-of date of the scores, with county, village, rank_in_village and n_in_village;
    ``cutoff``: the lowest risk flagged that day, stated beside the household's risk)."""
    ids = pd.Index(flagged[HOUSEHOLD_ID].astype(str), name=HOUSEHOLD_ID)
    records = _records(ids, tables, as_of, rule_cfg)
    return [
        _sheet(row, records, as_of, glossary, lang, cutoff)
        for row in flagged.itertuples(index=False)
    ]


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
        triggers=rule_triggers(tables, as_of, known, rule_cfg).reindex(ids),
        history=dict(tuple(poverty[poverty[HOUSEHOLD_ID].isin(ids)].groupby(HOUSEHOLD_ID))),
        events=dict(tuple(events.groupby(HOUSEHOLD_ID))),
        running=dict(tuple(running.groupby(HOUSEHOLD_ID))),
        no_assistance=tables.assistance.iloc[:0],
        personal=(
            tables.personal
            if len(tables.personal.columns)
            else pd.DataFrame(index=pd.Index([], name=HOUSEHOLD_ID))
        ),
        names=place_names(tables.places),
    )


def _sheet(
    row: Any,
    records: _Records,
    as_of: pd.Timestamp,
    glossary: Glossary,
    lang: str,
    cutoff: float | None,
) -> dict[str, Any]:
    """One household's sheet (``row``: its scores row, as a named tuple)."""
    household_id = str(getattr(row, HOUSEHOLD_ID))
    facts = records.facts.get(household_id, {})
    model = stored_reasons(getattr(row, REASONS), facts, glossary, lang)
    trigger = records.triggers.loc[household_id]
    rule_known = pd.notna(trigger.get("rule_flagged"))
    rules = (
        rule_reasons(trigger.to_dict(), glossary, lang, target_year=as_of.year)
        if rule_known
        else []
    )
    running = records.running.get(household_id, records.no_assistance)
    events = records.events.get(household_id, NO_EVENTS)
    risk = float(getattr(row, RISK))
    rank = int(getattr(row, RANK_IN_VILLAGE))
    types = proposed_risk_types(model, facts, glossary)
    county_name, village_name = records.names.get(
        (str(getattr(row, COUNTY)), str(getattr(row, VILLAGE))), ("", "")
    )
    category = proposed_category(facts, glossary, lang)
    return {
        "id": household_id,
        "county": str(getattr(row, COUNTY)),
        "village": str(getattr(row, VILLAGE)),
        **identity(household_id, facts, records.personal, glossary, lang),
        "county_name": county_name,
        "village_name": village_name,
        "risk": percent(risk),
        "risk_pct": f"{100 * risk:.0f}",
        **risk_band(risk, cutoff, glossary, lang),
        "rank": glossary.label(
            "rank_in_village", lang, rank=rank, n=int(getattr(row, N_IN_VILLAGE))
        ),
        "reasons": [_reason_item(reason, facts, glossary, lang) for reason in model],
        "breakdown": breakdown(
            risk, model, stored_sums(getattr(row, REASONS)), facts, glossary, lang
        ),
        "material": points(MATERIAL_POINTS),
        "rules": [reason.text for reason in rules],
        "first_group": model[0].code if model else "",
        "groups": list(dict.fromkeys(reason.code for reason in model)),
        "first_reason": (
            f"{glossary.group_name(model[0].code, lang, facts)}"
            f"{'：' if lang.startswith('zh') else ': '}{model[0].text}"
            if model
            else ""
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
        "suggested": suggested_measures(
            model, set(running[MEASURE].astype(str)), facts, glossary, lang
        ),
        "risk_types": [
            {"name": glossary.risk_type_name(code, lang), "proposed": code in types}
            for code in RISK_TYPES
        ],
        "proposed_types": [glossary.risk_type_name(code, lang) for code in types],
        "category": {"name": category.name, "basis": category.basis, "code": category.code},
        "categories": [
            {"name": glossary.category_name(code, lang), "proposed": code == category.code}
            for code in CATEGORIES
        ],
        "events": recent_events(events, glossary, lang),
        "as_of": day(as_of, lang),
        "target_year": as_of.year,
        "model_version": str(getattr(row, MODEL_VERSION)),
    }


def _reason_item(
    reason: Reason, facts: dict[str, Any], glossary: Glossary, lang: str
) -> dict[str, str]:
    """A model reason as the sheet lists it: its name true to the figures, its risk type,
    the text, the points and what to check on the visit."""
    return {
        "name": glossary.group_name(reason.code, lang, facts),
        "risk_type": glossary.risk_type_name(glossary.risk_type(reason.code, facts), lang),
        "text": reason.text,
        "points": (
            ""
            if reason.contribution is None
            else glossary.label("points", lang, points=points(reason.contribution))
        ),
        "check": glossary.advice(reason.code, lang),
    }


def _assistance_items(running: pd.DataFrame, glossary: Glossary, lang: str) -> list[dict[str, str]]:
    """The measures the household receives at ``as_of``: name, since when, yuan a year."""
    return [
        {"measure": glossary.measure_name(code, lang), "since": day(start, lang), "amount": yuan(a)}
        for code, start, a in zip(
            running[MEASURE].astype(str), running[START_DATE], running[AMOUNT], strict=True
        )
    ]


def recent_events(events: pd.DataFrame, glossary: Glossary, lang: str, limit: int = 3) -> list[str]:
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
        amount = glossary.label("yuan_amount", lang, amount=yuan(cost)) if pd.notna(cost) else ""
        money = (
            ("（" + amount + "）" if lang.startswith("zh") else f" ({amount})") if amount else ""
        )
        items.append(f"{day(date, lang)} {name}{money}")
    return items
