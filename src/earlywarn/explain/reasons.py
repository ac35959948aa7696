"""Reasons in words: the household's own figures put into the texts of the reason glossary.

The glossary (``resources/reason_glossary.yaml``) is data: per reason group a name, templates
in preference order (the first whose placeholders all have a value is used), suggested
measures and advice, in every language; plus the current rule's trigger texts, event, measure
and label names. :func:`household_facts` computes the placeholders from the tables as known at
``as_of`` (closed survey rounds before its year, events before it). A :class:`Reason` is
``code``, ``text`` and ``contribution`` (probability points on the calibrated risk, see
:data:`~earlywarn.explain.contributions.CONTRIBUTION_SCALE`;
 ``None`` for a rule trigger, code ``rule:...``).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import read_yaml_mapping
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
    HAS_MEDICAL_INSURANCE,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSING_SAFE,
    INCOME_SOURCES,
    MEASURE,
    MEASURES,
    MEDICAL_EXPENSE,
    MEMBER_COUNTS,
    POVERTY_EXIT_YEAR,
    START_DATE,
    TRANSFER_INCOME,
    VILLAGE,
    WAGE_INCOME,
    WATER_SAFE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import ConfigError
from earlywarn.features.labels import yearly_poverty
from earlywarn.features.rounds import household_codes
from earlywarn.resources import RESOURCES

log = logging.getLogger(__name__)

LANGUAGES = ("zh-CN", "en")
DEFAULT_GLOSSARY = RESOURCES / "reason_glossary.yaml"
RULE_PREFIX = "rule:"
MIN_FALL_PCT = 5.0

HEALTH_EVENTS = ("illness", "injury", "disability", "chronic_diagnosis", "death")
WORK_EVENTS = ("job_loss", "epidemic_lockdown")
FARM_EVENTS = ("crop_failure", "livestock_loss", "disaster")
EVENT_KINDS = {
    "health": HEALTH_EVENTS,
    "work": WORK_EVENTS,
    "farm": FARM_EVENTS,
    "other": ("other",),
}
GAPS = {
    "housing_unsafe": HOUSING_SAFE,
    "water_unsafe": WATER_SAFE,
    "no_medical_insurance": HAS_MEDICAL_INSURANCE,
}


@dataclass(frozen=True)
class Reason:
    """One reason on a household's list: a group (or ``rule:`` trigger) code, its text in the
    chosen language and its contribution (probability points; None for a rule trigger)."""

    code: str
    text: str
    contribution: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "contribution": self.contribution}


@dataclass(frozen=True)
class Glossary:
    """The reason glossary as loaded: nested mappings ``section -> code -> lang -> text``."""

    languages: tuple[str, ...]
    groups: Mapping[str, Mapping[str, Any]]
    rules: Mapping[str, Mapping[str, str]]
    events: Mapping[str, Mapping[str, str]]
    measures: Mapping[str, Mapping[str, str]]
    gaps: Mapping[str, Mapping[str, str]]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def group_name(self, code: str, lang: str) -> str:
        entry = self.groups.get(code) or self.groups["other"]
        return str(entry["name"][lang])

    def measures_for(self, code: str) -> tuple[str, ...]:
        entry = self.groups.get(code) or self.groups["other"]
        return tuple(entry.get("measures", ()))

    def advice(self, code: str, lang: str) -> str:
        entry = self.groups.get(code) or self.groups["other"]
        return str(entry["advice"][lang])

    def label(self, key: str, lang: str) -> str:
        return str(self.labels[key][lang])


def load_glossary(path: Path | None = None) -> Glossary:
    """Read and check a reason glossary (default: ``earlywarn/resources/reason_glossary.yaml``)."""
    return _load_glossary(Path(path) if path is not None else DEFAULT_GLOSSARY)


@lru_cache(maxsize=4)
def _load_glossary(path: Path) -> Glossary:
    raw = read_yaml_mapping(path, "reason glossary")
    try:
        glossary = Glossary(
            languages=tuple(raw["languages"]),
            groups=raw["groups"],
            rules=raw["rules"],
            events=raw["events"],
            measures=raw["measures"],
            gaps=raw["gaps"],
            labels=raw.get("labels", {}),
        )
    except KeyError as err:
        raise ConfigError(f"reason glossary {path} has no section {err}") from err
    problems = glossary_problems(glossary)
    if problems:
        raise ConfigError(
            f"{len(problems)} problems in reason glossary {path}:\n  " + "\n  ".join(problems)
        )
    return glossary


def glossary_problems(glossary: Glossary, reason_groups: Iterable[str] = ()) -> list[str]:
    """Every missing translation, missing group, unknown measure or unknown placeholder."""
    problems: list[str] = []
    langs = glossary.languages
    if "other" not in glossary.groups:
        problems.append("groups: needs an 'other' group for features the catalog does not list")
    for code in reason_groups:
        if code not in glossary.groups:
            problems.append(f"groups.{code}: reason group of the feature catalog has no text")
    for code, entry in glossary.groups.items():
        for part in ("name", "templates", "advice"):
            for lang in langs:
                if not (entry.get(part) or {}).get(lang):
                    problems.append(f"groups.{code}.{part}: no {lang} text")
        for lang in langs:
            for text in (entry.get("templates") or {}).get(lang) or ():
                problems += _placeholder_problems(f"groups.{code}.templates.{lang}", text)
            templates = (entry.get("templates") or {}).get(lang) or ["{x}"]
            if _fields(templates[-1]):
                problems.append(
                    f"groups.{code}.templates.{lang}: the last template must have "
                    "no placeholders (the text when figures are missing)"
                )
        for measure in entry.get("measures", ()):
            if measure not in MEASURES:
                problems.append(f"groups.{code}.measures: {measure!r} is not a measure code")
    for section, codes in (
        ("rules", RULE_CODES),
        ("events", EVENT_TYPES),
        ("measures", MEASURES),
        ("gaps", tuple(GAPS)),
    ):
        entries = getattr(glossary, section)
        for code in codes:
            for lang in langs:
                if not (entries.get(code) or {}).get(lang):
                    problems.append(f"{section}.{code}: no {lang} text")
    for code, entry in glossary.rules.items():
        for lang in langs:
            problems += _placeholder_problems(f"rules.{code}.{lang}", entry.get(lang, ""))
    for key, entry in glossary.labels.items():
        for lang in langs:
            if not (entry or {}).get(lang):
                problems.append(f"labels.{key}: no {lang} text")
    sections = ("groups", "rules", "events", "measures", "gaps", "labels")
    for section in sections:
        problems += _stray_keys(section, getattr(glossary, section), langs)
    return problems


def _stray_keys(where: str, node: Any, langs: tuple[str, ...]) -> list[str]:
    """Keys beside the languages of a text (``{en: Few earners, many dependants}`` in YAML's
    flow style splits at the comma: the text must be quoted)."""
    if not isinstance(node, Mapping):
        return []
    if any(lang in node for lang in langs):
        stray = [str(key) for key in node if key not in langs]
        return [
            f"{where}: {key!r} is not a language; quote a text that holds a comma" for key in stray
        ]
    return [
        problem
        for key, child in node.items()
        for problem in _stray_keys(f"{where}.{key}", child, langs)
    ]


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def _placeholder_problems(where: str, template: str) -> list[str]:
    try:
        names = _fields(template)
    except ValueError as err:
        return [f"{where}: {err}"]
    return [f"{where}: unknown placeholder {{{name}}}" for name in names if name not in FACT_NAMES]


# --- the household's own figures --------------------------------------------------------

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
            for kind in ("health", "work", "farm", "other")
            for name in (
                f"n_{kind}_events_12m",
                f"{kind}_cost_12m",
                f"last_{kind}_event_date",
                f"last_{kind}_event_type",
            )
        ),
        # the current rule (earlywarn.model.rule.rule_flags)
        "last_income_per_capita",
        "line_target_year",
        "n_serious_shocks",
        "serious_shock_types",
    }
)

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
    (:func:`village_facts` of the whole tables) when given: then ``tables`` need only hold
    the rows of the households asked for, and the cost is theirs alone.
    """
    as_of = pd.Timestamp(as_of)
    frame = tables.households.set_index(HOUSEHOLD_ID)
    ids = frame.index if households is None else pd.Index(list(households), name=HOUSEHOLD_ID)
    facts = pd.DataFrame(index=frame.index)
    facts[COUNTY] = frame[COUNTY]
    facts[VILLAGE] = frame[VILLAGE]
    rounds = _rounds(tables, as_of)
    facts = facts.join(_round_facts(rounds))
    year = as_of.year
    if villages is None:
        villages = _village_facts(facts, rounds, frame[VILLAGE], year)
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
    facts = facts.join(_event_facts(tables.events, as_of))
    for name in [*(f"n_{kind}_events_12m" for kind in EVENT_KINDS), "n_events_this_year"]:
        facts[name] = facts[name].fillna(0.0)
    facts = facts.join(_assistance_facts(tables.assistance, as_of))
    missing = ids.difference(facts.index)
    if len(missing):
        log.warning("%d households asked for are not in the households table", len(missing))
    out = facts.reindex(ids)
    out.index.name = HOUSEHOLD_ID
    return out


VILLAGE_FACTS = (
    "village_median_income_per_capita",
    "village_median_medical_share_pct",
    "village_poverty_rate_pct",
)
"""Facts about the household's village (over every household of it), in this order."""


def village_facts(tables: Tables, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """One row per village (index: the village): :data:`VILLAGE_FACTS` as known at ``as_of``,
    over every household of the village in ``tables``; pass it to :func:`household_facts` to
    compute the facts of a few households from their own rows only."""
    as_of = pd.Timestamp(as_of)
    frame = tables.households.set_index(HOUSEHOLD_ID)
    # only the rows these figures read: each household's last closed round and year - 1
    years = tables.household_years
    closed = years[years[YEAR] < as_of.year]
    last = closed[YEAR].groupby(closed[HOUSEHOLD_ID].to_numpy(), sort=False).transform("max")
    needed = closed[(closed[YEAR] == last) | (closed[YEAR] == as_of.year - 1)]
    rounds = _rounds(replace(tables, household_years=needed), as_of)
    facts = frame[[VILLAGE]].join(_round_facts(rounds)[["income_per_capita", "medical_share_pct"]])
    return _village_facts(facts, rounds, frame[VILLAGE], as_of.year)


def _village_facts(
    facts: pd.DataFrame, rounds: pd.DataFrame, village_of: pd.Series, year: int
) -> pd.DataFrame:
    """Village medians of the households' last rounds and the village's poverty rate in
    ``year - 1`` (index: the village as an object, so any household's village looks it up)."""
    place = facts[VILLAGE].astype(object)
    medians = facts[["income_per_capita", "medical_share_pct"]].groupby(place).median()
    last_year = rounds[rounds["last_year"] == year - 1]
    poor_share = (
        last_year.assign(poor=last_year["income_per_capita"] < last_year["line"])
        .join(village_of.astype(object), on=HOUSEHOLD_ID)
        .groupby(VILLAGE)["poor"]
        .mean()
    )
    out = pd.DataFrame(
        {
            "village_median_income_per_capita": medians["income_per_capita"],
            "village_median_medical_share_pct": medians["medical_share_pct"],
        }
    )
    out = out.reindex(out.index.union(poor_share.index))
    out["village_poverty_rate_pct"] = 100 * poor_share.reindex(out.index).astype("float64")
    out.index = pd.Index(out.index.to_numpy(dtype=object), name=VILLAGE)
    return out.loc[:, list(VILLAGE_FACTS)].astype("float64")


def _rounds(tables: Tables, as_of: pd.Timestamp) -> pd.DataFrame:
    """Closed survey rounds (year before ``as_of``'s) with income per person and the line."""
    years = tables.household_years
    closed = years[years[YEAR] < as_of.year]
    closed = closed[household_codes(closed[HOUSEHOLD_ID], tables.households[HOUSEHOLD_ID]) >= 0]
    yearly = yearly_poverty(tables, closed)
    return (
        pd.DataFrame(
            {
                HOUSEHOLD_ID: closed[HOUSEHOLD_ID].to_numpy(dtype=object),
                "last_year": closed[YEAR].to_numpy(dtype="int64"),
                "income_per_capita": yearly.income,
                "line": yearly.line,
                **{
                    name: closed[name].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
                    for name in (
                        *INCOME_SOURCES,
                        MEDICAL_EXPENSE,
                        EDUCATION_EXPENSE,
                        HOUSEHOLD_SIZE,
                        *MEMBER_COUNTS,
                    )
                },
                **{
                    name: closed[name].astype("boolean").to_numpy(dtype="float64", na_value=np.nan)
                    for name in GAPS.values()
                },
            }
        )
        .sort_values([HOUSEHOLD_ID, "last_year"], kind="stable")
        .reset_index(drop=True)
    )


def _round_facts(rounds: pd.DataFrame) -> pd.DataFrame:
    """Figures of each household's last closed round and the change from the round before."""
    grouped = rounds.groupby(HOUSEHOLD_ID, sort=False)
    last = grouped.tail(1).set_index(HOUSEHOLD_ID)
    previous = grouped.nth(-2).set_index(HOUSEHOLD_ID).reindex(last.index)
    gross = last[list(INCOME_SOURCES)].sum(axis=1, min_count=len(INCOME_SOURCES))
    positive = gross.where(gross > 0)
    facts = last.copy()
    facts["previous_year"] = previous["last_year"]
    facts["previous_income_per_capita"] = previous["income_per_capita"]
    facts["income_to_line_pct"] = 100 * last["income_per_capita"] / last["line"]
    facts["income_fall_pct"] = _fall_pct(last["income_per_capita"], previous["income_per_capita"])
    facts["wage_fall_pct"] = _fall_pct(last[WAGE_INCOME], previous[WAGE_INCOME])
    facts["business_fall_pct"] = _fall_pct(last[BUSINESS_INCOME], previous[BUSINESS_INCOME])
    for name, column in (
        ("medical_share_pct", MEDICAL_EXPENSE),
        ("education_share_pct", EDUCATION_EXPENSE),
        ("transfer_share_pct", TRANSFER_INCOME),
        ("wage_share_pct", WAGE_INCOME),
        ("business_share_pct", BUSINESS_INCOME),
    ):
        facts[name] = 100 * last[column] / positive
    facts["n_dependents"] = last[HOUSEHOLD_SIZE] - last["n_labor"]
    gaps = pd.Series("", index=last.index, dtype="string")
    for code, column in GAPS.items():
        gaps = gaps.where(last[column] != 0.0, gaps + "," + code)
    facts["living_gaps"] = gaps.str.lstrip(",").replace("", pd.NA)
    return facts


def _fall_pct(now: pd.Series, before: pd.Series) -> pd.Series:
    """How much ``now`` fell below ``before``, in percent of it; NaN unless it fell by at
    least :data:`MIN_FALL_PCT` (a smaller dip is no reason to mention)."""
    fall = 100 * (before - now) / before.where(before > 0)
    return fall.where(fall >= MIN_FALL_PCT)


def _event_facts(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Counts, costs and the latest event of each kind in the 12 months before ``as_of``."""
    known = events[events[DATE] < as_of]
    year_ago = known[known[DATE] >= as_of - pd.DateOffset(months=12)]
    parts = []
    for kind, types in EVENT_KINDS.items():
        chosen = year_ago[year_ago[EVENT_TYPE].isin(types)].sort_values(DATE, kind="stable")
        grouped = chosen.groupby(HOUSEHOLD_ID)
        latest = grouped.tail(1).set_index(HOUSEHOLD_ID)
        parts.append(
            pd.DataFrame(
                {
                    f"n_{kind}_events_12m": grouped.size().astype("float64"),
                    f"{kind}_cost_12m": grouped[COST].sum(min_count=1).astype("float64"),
                    f"last_{kind}_event_date": latest[DATE],
                    f"last_{kind}_event_type": latest[EVENT_TYPE].astype("string"),
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


def _assistance_facts(assistance: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Measures running at ``as_of`` (codes, comma-separated; yearly amount) and the last one
    that ended in the 12 months before it."""
    started = assistance[assistance[START_DATE] < as_of]
    running = started[started[END_DATE].isna() | (started[END_DATE] >= as_of)]
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


# --- texts -----------------------------------------------------------------------------


def format_fact(name: str, value: Any, lang: str, glossary: Glossary) -> str | None:
    """A figure as a reader sees it in ``lang``; None when it is not known."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if name.endswith("_date"):
        date = pd.Timestamp(value)
        return f"{date.year}年{date.month}月" if lang.startswith("zh") else date.strftime("%B %Y")
    if name.endswith(("_type", "_types", "_measure", "_measures", "_gaps")):
        codes = [code for code in str(value).split(",") if code]
        if not codes:
            return None
        section = (
            glossary.gaps
            if name.endswith("_gaps")
            else glossary.measures
            if "measure" in name
            else glossary.events
        )
        names = [str((section.get(code) or section["other"])[lang]) for code in codes]
        text = "、".join(names) if lang.startswith("zh") else ", ".join(names)
        return text[:1].upper() + text[1:] if name.endswith("_gaps") else text
    if name in (COUNTY, VILLAGE):
        return str(value)
    number = float(value)
    if name in ZERO_SAYS_NOTHING and number == 0:
        return None
    if name.endswith("_pct") or name in YEAR_FACTS or name.endswith(("_age", "_years")):
        return f"{number:.0f}"
    return f"{number:,.0f}"


def render_text(
    templates: Iterable[str], facts: Mapping[str, Any], lang: str, glossary: Glossary
) -> str:
    """The first template whose placeholders all have a value, filled in."""
    text = ""
    for template in templates:
        values = {
            name: format_fact(name, facts.get(name), lang, glossary) for name in _fields(template)
        }
        if all(value is not None for value in values.values()):
            return template.format(**values)
        text = template
    return text


def reasons_for(
    facts: Mapping[str, Any], ranked: pd.Series, glossary: Glossary, lang: str, k: int = 3
) -> list[Reason]:
    """The top ``k`` reason groups of ``ranked`` (group -> contribution, largest first)."""
    _check_lang(glossary, lang)
    reasons = []
    for code, contribution in ranked.iloc[:k].items():
        entry = glossary.groups.get(str(code)) or glossary.groups["other"]
        text = render_text(entry["templates"][lang], facts, lang, glossary)
        reasons.append(Reason(code=str(code), text=text, contribution=float(contribution)))
    return reasons


# --- the current rule's triggers ---------------------------------------------------------

RULE_CODES = ("income_below_line", "income_near_line", "serious_shock")


def rule_reasons(
    triggers: Mapping[str, Any], glossary: Glossary, lang: str, *, target_year: int
) -> list[Reason]:
    """The current rule's triggers that fired, as reasons (code ``rule:<trigger>``, no
    contribution). ``triggers`` is one row of :func:`earlywarn.model.rule.rule_flags`."""
    _check_lang(glossary, lang)
    fields = {**dict(triggers), "target_year": target_year}
    reasons = []
    if triggers.get("income_near_line"):
        below = fields.get("last_income_per_capita", np.nan) < fields.get(
            "line_target_year", np.nan
        )
        code = "income_below_line" if below else "income_near_line"
        reasons.append(
            Reason(
                RULE_PREFIX + code,
                render_text([glossary.rules[code][lang]], fields, lang, glossary),
                None,
            )
        )
    if triggers.get("serious_shock"):
        reasons.append(
            Reason(
                RULE_PREFIX + "serious_shock",
                render_text([glossary.rules["serious_shock"][lang]], fields, lang, glossary),
                None,
            )
        )
    return reasons


def _check_lang(glossary: Glossary, lang: str) -> None:
    if lang not in glossary.languages:
        raise ConfigError(
            f"language {lang!r} is not in the reason glossary "
            f"(it has {', '.join(glossary.languages)})"
        )


def facts_from_features(features: pd.DataFrame) -> pd.DataFrame:
    """Figures for the texts when only features are at hand: columns named like a fact."""
    return features.loc[:, [name for name in features.columns if name in FACT_NAMES]]
