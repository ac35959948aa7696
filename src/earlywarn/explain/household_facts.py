"""The household's own figures that reason texts quote, as known at ``as_of``: its last closed
survey round and the change from the round before, its village's figures, its head, its
shocks of the past 12 months and the assistance it receives.

A text template's placeholders (``{income_per_capita}``) are the names of :data:`FACT_NAMES`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    AMOUNT,
    BUSINESS_INCOME,
    COST,
    COUNTY,
    DATE,
    EDUCATION_EXPENSE,
    END_DATE,
    EVENT_TYPE,
    EVENT_TYPES,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    MEASURE,
    MEDICAL_EXPENSE,
    MEMBER_COUNTS,
    POVERTY_EXIT_YEAR,
    START_DATE,
    TRANSFER_INCOME,
    VILLAGE,
    WAGE_INCOME,
)
from earlywarn.data.tables import Tables
from earlywarn.explain.round_facts import closed_rounds, last_round_facts
from earlywarn.explain.village_facts import VILLAGE_FACTS, village_figures

log = logging.getLogger(__name__)

HEALTH_EVENTS = ("illness", "injury", "disability", "chronic_diagnosis", "death")
WORK_EVENTS = ("job_loss", "epidemic_lockdown")
FARM_EVENTS = ("crop_failure", "livestock_loss", "disaster")
EVENT_KINDS = {
    "health": HEALTH_EVENTS,
    "work": WORK_EVENTS,
    "farm": FARM_EVENTS,
    "other": ("other",),
}
"""Kinds of shock the facts count (and the income chart marks), by event type."""

LARGE_SHOCK_LINES = 1.0
"""A shock is *large* when its cost is at least this many times the household's last
monitoring line (one person's line for a year, about 7,000 yuan): then it leads its reason's
text with its date and cost, may propose temporary assistance and the category 突发严重困难户."""

YEAR_FACTS = frozenset(
    {
        "last_year",
        "previous_year",
        "poverty_exit_year",
        "last_round_year",
        "target_year",
        "line_year",
    }
)
"""Facts that are years (written without a thousands separator)."""

FACT_NAMES = frozenset(
    {
        COUNTY,
        VILLAGE,
        *YEAR_FACTS,
        "income_per_capita",
        "previous_income_per_capita",
        "line",
        "income_to_line_pct",
        "income_fall_pct",
        "village_median_income_per_capita",
        "village_poverty_rate_pct",
        MEDICAL_EXPENSE,
        "medical_share_pct",
        "village_median_medical_share_pct",
        EDUCATION_EXPENSE,
        "education_share_pct",
        WAGE_INCOME,
        "wage_share_pct",
        "wage_fall_pct",
        BUSINESS_INCOME,
        "business_share_pct",
        "business_fall_pct",
        TRANSFER_INCOME,
        "transfer_share_pct",
        HOUSEHOLD_SIZE,
        *MEMBER_COUNTS,
        "n_dependents",
        "head_age",
        "head_education_years",
        "years_since_exit",
        "n_times_poor_again",
        "living_gaps",
        "n_events_this_year",
        "running_measures",
        "assistance_amount_running",
        "last_ended_measure",
        "last_ended_date",
        *(
            name
            for kind in EVENT_KINDS
            for name in (
                f"n_{kind}_events_12m",
                f"{kind}_cost_12m",
                f"last_{kind}_event_date",
                f"last_{kind}_event_type",
                f"{kind}_event_counts",
                f"big_{kind}_event_date",
                f"big_{kind}_event_type",
                f"big_{kind}_event_cost",
            )
        ),
        "gross_income",
        "net_income",
        # the current rule (earlywarn.explain.reasons.rule_triggers)
        "rule_line_multiple",
        "rule_income_limit",
        "shock_window_months",
        "serious_shock_counts",
        # the current rule (earlywarn.model.rule.rule_flags)
        "last_income_per_capita",
        "line_target_year",
        "n_serious_shocks",
        "serious_shock_types",
    }
)
"""Every name a text template may quote: the columns of :func:`household_facts` and of
:func:`~earlywarn.model.rule.rule_flags`, plus ``target_year``."""

ZERO_SAYS_NOTHING = frozenset(
    {
        "n_chronic_ill",
        "n_disabled",
        "n_students",
        "n_migrant_workers",
        "n_times_poor_again",
        "n_events_this_year",
        *(f"n_{kind}_events_12m" for kind in EVENT_KINDS),
    }
)
"""Counts whose zero is no reason to mention them (the next template is used instead)."""


def household_facts(
    tables: Tables,
    as_of: pd.Timestamp | str,
    households: Iterable[str] | None = None,
    *,
    villages: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per household (index household_id): the figures reasons quote, as known at
    ``as_of`` (the last closed survey round, the round before it, events and assistance dated
    before ``as_of``).

    Money in yuan (per person per year where named ``per_capita``), ``*_pct`` in percent,
    ``*_12m`` over the 12 months before ``as_of``; NaN/NA where not known. Village figures are
    over every household of the village in the tables, or taken from ``villages``
    (:func:`~earlywarn.explain.village_facts.village_facts` of the whole tables) when given:
    then ``tables`` need only hold the rows of the households asked for, and the cost is
    theirs alone.
    """
    as_of = pd.Timestamp(as_of)
    frame = tables.households.set_index(HOUSEHOLD_ID)
    ids = frame.index if households is None else pd.Index(list(households), name=HOUSEHOLD_ID)
    facts = pd.DataFrame(index=frame.index)
    facts[COUNTY] = frame[COUNTY]
    facts[VILLAGE] = frame[VILLAGE]
    rounds = closed_rounds(tables, as_of)
    facts = facts.join(last_round_facts(rounds))
    year = as_of.year
    if villages is None:
        villages = village_figures(facts, rounds, frame[VILLAGE], year)
    place = facts[VILLAGE].astype(object).to_numpy()
    for column in VILLAGE_FACTS:
        facts[column] = villages[column].reindex(place).to_numpy(dtype="float64")
    facts["head_age"] = year - frame[HEAD_BIRTH_YEAR].astype("Float64")
    facts["head_education_years"] = frame[HEAD_EDUCATION_YEARS].astype("Float64")
    facts["poverty_exit_year"] = frame[POVERTY_EXIT_YEAR].astype("Float64")
    facts["years_since_exit"] = year - facts["poverty_exit_year"]
    after_exit = rounds.join(facts["poverty_exit_year"], on=HOUSEHOLD_ID)
    after_exit = after_exit[after_exit["last_year"] > after_exit["poverty_exit_year"]]
    facts["n_times_poor_again"] = (
        (after_exit["income_per_capita"] < after_exit["line"])
        .groupby(after_exit[HOUSEHOLD_ID])
        .sum()
        .reindex(facts.index)
        .where(facts["poverty_exit_year"].notna())
    )
    facts = facts.join(_event_facts(tables.events, as_of, facts["line"]))
    for name in [*(f"n_{kind}_events_12m" for kind in EVENT_KINDS), "n_events_this_year"]:
        facts[name] = facts[name].fillna(0.0)
    facts = facts.join(_assistance_facts(tables.assistance, as_of))
    missing = ids.difference(facts.index)
    if len(missing):
        log.warning("%d households asked for are not in the households table", len(missing))
    out = facts.reindex(ids)
    out.index.name = HOUSEHOLD_ID
    return out


def _event_facts(events: pd.DataFrame, as_of: pd.Timestamp, line: pd.Series) -> pd.DataFrame:
    """Counts (in all and by type), costs, the latest event and the costliest large one
    (:data:`LARGE_SHOCK_LINES`, against ``line``: each household's last line) of each kind in
    the 12 months before ``as_of``."""
    known = events[events[DATE] < as_of]
    year_ago = known[known[DATE] >= as_of - pd.DateOffset(months=12)]
    parts = []
    for kind, types in EVENT_KINDS.items():
        chosen = year_ago[year_ago[EVENT_TYPE].isin(types)].sort_values(DATE, kind="stable")
        grouped = chosen.groupby(HOUSEHOLD_ID)
        latest = grouped.tail(1).set_index(HOUSEHOLD_ID)
        threshold = LARGE_SHOCK_LINES * chosen[HOUSEHOLD_ID].map(line).astype("float64")
        large = chosen[chosen[COST] >= threshold]
        big = large.sort_values(COST, kind="stable").groupby(HOUSEHOLD_ID).tail(1)
        big = big.set_index(HOUSEHOLD_ID)
        parts.append(
            pd.DataFrame(
                {
                    f"n_{kind}_events_12m": grouped.size().astype("float64"),
                    f"{kind}_cost_12m": grouped[COST].sum(min_count=1).astype("float64"),
                    f"last_{kind}_event_date": latest[DATE],
                    f"last_{kind}_event_type": latest[EVENT_TYPE].astype("string"),
                    f"{kind}_event_counts": event_counts(chosen),
                    f"big_{kind}_event_date": big[DATE],
                    f"big_{kind}_event_type": big[EVENT_TYPE].astype("string"),
                    f"big_{kind}_event_cost": big[COST].astype("float64"),
                }
            )
        )
    this_year = known[known[DATE] >= pd.Timestamp(year=as_of.year, month=1, day=1)]
    parts.append(
        this_year.groupby(HOUSEHOLD_ID)
        .size()
        .astype("float64")
        .rename("n_events_this_year")
        .to_frame()
    )
    facts = pd.concat(parts, axis=1)
    facts.index.name = HOUSEHOLD_ID
    return facts


def event_counts(events: pd.DataFrame) -> pd.Series:
    """Per household, its events counted by type (``illness:2,injury:1``, types in the data
    contract's order): the form reasons and the current rule's trigger both quote."""
    if events.empty:
        return pd.Series(dtype="string", index=pd.Index([], name=HOUSEHOLD_ID))
    order = {name: n for n, name in enumerate(EVENT_TYPES)}
    counted = events.groupby([HOUSEHOLD_ID, events[EVENT_TYPE].astype(str)]).size()
    households = counted.index.get_level_values(0)
    kinds = counted.index.get_level_values(1).tolist()
    rank = np.array([order.get(kind, 99) for kind in kinds], dtype="int64")
    # sorted by household, then type name: stable by (household, the contract's order)
    at = np.lexsort((rank, _group_numbers(households)))
    items = [f"{kind}:{n}" for kind, n in zip(kinds, counted.tolist(), strict=True)]
    return _joined(households.take(at), [items[i] for i in at.tolist()])


def _group_numbers(keys: pd.Index) -> np.ndarray:
    """0, 0, 1, 2, 2, ...: which run of equal neighbouring keys each position is in."""
    values = keys.to_numpy()
    return np.cumsum(np.r_[False, values[1:] != values[:-1]])


def _joined(households: pd.Index, items: list[str]) -> pd.Series:
    """Each household's items joined by commas, in their order (``households`` grouped);
    index: each household once, in that order."""
    starts = np.flatnonzero(np.diff(_group_numbers(households), prepend=-1))
    ends = [*starts[1:].tolist(), len(items)]
    return pd.Series(
        [",".join(items[start:end]) for start, end in zip(starts.tolist(), ends, strict=True)],
        index=households.take(starts),
        dtype="string",
    )


def running_assistance(assistance: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows of the assistance table running at ``as_of``: started before it, not ended."""
    started = assistance[START_DATE] < as_of
    return assistance[started & (assistance[END_DATE].isna() | (assistance[END_DATE] >= as_of))]


def _assistance_facts(assistance: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Measures running at ``as_of`` (codes, comma-separated; yearly amount) and the last one
    that ended in the 12 months before it."""
    started = assistance[assistance[START_DATE] < as_of]
    running = running_assistance(assistance, as_of)
    ended = started[
        (started[END_DATE] < as_of) & (started[END_DATE] >= as_of - pd.DateOffset(months=12))
    ]
    by_household = running.groupby(HOUSEHOLD_ID)
    latest_end = ended.sort_values(END_DATE, kind="stable").groupby(HOUSEHOLD_ID).tail(1)
    latest_end = latest_end.set_index(HOUSEHOLD_ID)
    facts = pd.DataFrame(
        {
            "running_measures": by_household[MEASURE]
            .agg(lambda codes: ",".join(sorted(set(map(str, codes)))))
            .astype("string"),
            "assistance_amount_running": by_household[AMOUNT].sum(min_count=1).astype("float64"),
            "last_ended_measure": latest_end[MEASURE].astype("string"),
            "last_ended_date": latest_end[END_DATE],
        }
    )
    facts.index.name = HOUSEHOLD_ID
    return facts


def facts_from_features(features: pd.DataFrame) -> pd.DataFrame:
    """Figures for the texts when only features are at hand: columns named like a fact."""
    return features.loc[:, [name for name in features.columns if name in FACT_NAMES]]
