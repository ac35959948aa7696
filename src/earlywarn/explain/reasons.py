"""Reasons in words: the glossary's text of a reason group, or of the current rule's trigger,
with the household's own figures filled in. Reports write a household's texts through
:func:`group_reason` and :func:`rule_reasons`; the scores file writes a chunk's at once, a
column at a time, through :func:`render_texts` and :func:`rule_reason_columns`, which apply
the same templates and the same formatting (:mod:`~earlywarn.explain.formatting`), so given
the same glossary, language and figures they say the same, character for character
(``tests/unit/explain/test_reason_lists.py``).

A :class:`Reason` is ``code``, ``text`` and ``contribution`` (probability points on the
calibrated risk, see :data:`~earlywarn.explain.contributions.CONTRIBUTION_SCALE`; ``None`` for a
rule trigger, code ``rule:...``). A reasons list written with the household's tables ends with
two sums (code ``sum:...``): the average household's risk and the net of all factors not
listed, so that the listed points, the two sums and nothing else add up to the risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.tables import Tables
from earlywarn.explain.formatting import format_fact, format_facts
from earlywarn.explain.glossary import Glossary, check_lang, template_fields
from earlywarn.explain.household_facts import event_counts
from earlywarn.model.rule import (
    INCOME_NEAR_LINE,
    LAST_INCOME,
    RULE_LINE,
    SERIOUS_SHOCK,
    rule_flags,
    serious_shocks,
)

# Moved to their own modules; re-exported here until jobs/score.py, scoring/score.py and
# benchmarks/bench_reason_facts.py import them from there (drop at the merge of issue 10).

RULE_PREFIX = "rule:"
"""Code prefix of the current rule's triggers (``rule:serious_shock``)."""
SUM_PREFIX = "sum:"
AVERAGE_RISK = "sum:average_risk"
"""The average household's risk (the model's base value, calibrated), the sums' start."""
OTHER_FACTORS = "sum:other_factors"
"""The net contribution of every reason group not listed (may be negative)."""


@dataclass(frozen=True)
class Reason:
    """One reason on a household's list: a group (or ``rule:`` trigger) code, its text in the
    chosen language and its contribution (probability points; None for a rule trigger)."""

    code: str
    text: str
    contribution: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "contribution": self.contribution}


def render_text(
    templates: Iterable[str], facts: Mapping[str, Any], lang: str, glossary: Glossary
) -> str:
    """The first template whose placeholders all have a value, filled in."""
    text = ""
    for template in templates:
        values = {
            name: format_fact(name, facts.get(name), lang, glossary)
            for name in template_fields(template)
        }
        if all(value is not None for value in values.values()):
            return _sentence(template.format(**values), lang)
        text = template
    return text


def render_texts(
    templates: Sequence[str],
    facts: pd.DataFrame,
    lang: str,
    glossary: Glossary,
    rows: np.ndarray | None = None,
) -> list[str]:
    """:func:`render_text` for the rows of ``facts`` at positions ``rows`` (default: all; one
    household a row, the facts as columns), in that order. Each template's placeholders are
    formatted a column at a time (:func:`~earlywarn.explain.formatting.format_facts`); a row
    takes the first template whose placeholders all have a value."""
    rows = np.arange(len(facts)) if rows is None else np.asarray(rows, dtype="int64")
    texts: list[str] = [""] * len(rows)
    undecided = np.arange(len(rows))
    for template in templates:
        if not len(undecided):
            break
        at = rows[undecided]
        values = {
            name: format_facts(name, facts[name].iloc[at], lang, glossary)
            if name in facts.columns
            else [None] * len(at)
            for name in dict.fromkeys(template_fields(template))
        }
        filled = np.ones(len(at), dtype=bool)
        for column in values.values():
            filled &= np.fromiter((value is not None for value in column), bool, len(column))
        for j in np.flatnonzero(filled).tolist():
            fields = {name: column[j] for name, column in values.items()}
            texts[undecided[j]] = _sentence(template.format(**fields), lang)
        undecided = undecided[~filled]
        for j in undecided.tolist():
            texts[j] = template
    return texts


def _sentence(text: str, lang: str) -> str:
    """A text that starts with a capital (an event's name can come first in English)."""
    return text if lang.startswith("zh") else text[:1].upper() + text[1:]


def group_reason(
    code: str,
    contribution: float | None,
    facts: Mapping[str, Any],
    glossary: Glossary,
    lang: str,
) -> Reason:
    """The reason of one reason group (``other``'s texts for a group the glossary lacks)."""
    text = render_text(glossary.templates(code, lang), facts, lang, glossary)
    return Reason(code=code, text=text, contribution=contribution)


def reasons_for(
    facts: Mapping[str, Any], ranked: pd.Series, glossary: Glossary, lang: str
) -> list[Reason]:
    """The reasons of ``ranked`` (reason group -> contribution), in its order: the top groups
    that :meth:`~earlywarn.explain.contributions.GroupContributions.ranked` picked."""
    check_lang(glossary, lang)
    return [
        group_reason(str(code), float(contribution), facts, glossary, lang)
        for code, contribution in ranked.items()
    ]


def sum_reasons(base_risk: float, other: float, glossary: Glossary, lang: str) -> list[Reason]:
    """The two sums that close a reasons list: average risk and all other factors (net),
    worded by the glossary's entries of the same codes."""
    return [
        group_reason(AVERAGE_RISK, float(base_risk), {}, glossary, lang),
        group_reason(OTHER_FACTORS, float(other), {}, glossary, lang),
    ]


def rule_triggers(
    tables: Tables,
    as_of: pd.Timestamp | str,
    households: Iterable[str],
    cfg: RuleConfig | None = None,
) -> pd.DataFrame:
    """:func:`~earlywarn.model.rule.rule_flags` with what its texts quote: the serious shocks
    counted by type (the same form the reasons use), the window, and the income limit
    (the line times 1 + the margin)."""
    cfg = cfg or RuleConfig()
    flags = rule_flags(tables, as_of, households, cfg=cfg)
    shocks = serious_shocks(tables.events, pd.Timestamp(as_of), cfg)
    shocks = shocks.assign(**{HOUSEHOLD_ID: shocks[HOUSEHOLD_ID].astype(str)})
    flags["serious_shock_counts"] = event_counts(shocks).reindex(flags.index)
    flags["shock_window_months"] = float(cfg.shock_window_months)
    flags["rule_line_multiple"] = 1.0 + cfg.income_margin
    flags["rule_income_limit"] = flags[RULE_LINE] * (1.0 + cfg.income_margin)
    return flags


def rule_reasons(
    triggers: Mapping[str, Any], glossary: Glossary, lang: str, *, target_year: int
) -> list[Reason]:
    """The current rule's triggers that fired, as reasons (code ``rule:<trigger>``, no
    contribution). ``triggers`` is one row of :func:`earlywarn.model.rule.rule_flags`."""
    check_lang(glossary, lang)
    fields = {**dict(triggers), "target_year": target_year}
    reasons = []
    if triggers.get("income_near_line"):
        below = fields.get("last_income_per_capita", np.nan) < fields.get(
            "line_target_year", np.nan
        )
        code = "income_below_line" if below else "income_near_line"
        reasons.append(_rule_reason(code, fields, glossary, lang))
    if triggers.get("serious_shock"):
        reasons.append(_rule_reason("serious_shock", fields, glossary, lang))
    return reasons


def rule_reason_columns(
    triggers: pd.DataFrame, glossary: Glossary, lang: str, *, target_year: int
) -> list[list[Reason]]:
    """:func:`rule_reasons` for every row of ``triggers`` (:func:`rule_triggers`), in their
    order, written column by column."""
    check_lang(glossary, lang)
    fields = triggers.assign(target_year=target_year)
    n = len(triggers)
    found: list[list[Reason]] = [[] for _ in range(n)]
    near = _truthy(triggers, INCOME_NEAR_LINE)
    with np.errstate(invalid="ignore"):
        below = _numbers(triggers, LAST_INCOME) < _numbers(triggers, RULE_LINE)
    for code, rows in (
        ("income_below_line", np.flatnonzero(near & below)),
        ("income_near_line", np.flatnonzero(near & ~below)),
        ("serious_shock", np.flatnonzero(_truthy(triggers, SERIOUS_SHOCK))),
    ):
        texts = render_texts([glossary.rules[code][lang]], fields, lang, glossary, rows)
        for row, text in zip(rows.tolist(), texts, strict=True):
            found[row].append(Reason(RULE_PREFIX + code, text, None))
    return found  # income first, then the shock, as rule_reasons lists them


def _truthy(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Whether each row's value is true (a missing column or value is not)."""
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array([bool(value) for value in frame[name].fillna(False).tolist()], dtype=bool)


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def _rule_reason(code: str, fields: Mapping[str, Any], glossary: Glossary, lang: str) -> Reason:
    text = render_text([glossary.rules[code][lang]], fields, lang, glossary)
    return Reason(RULE_PREFIX + code, text, None)


def stored_reasons(
    stored: Any, facts: Mapping[str, Any], glossary: Glossary, lang: str
) -> list[Reason]:
    """The model's reasons of a scores file's reasons list (list of ``{code, text,
    contribution}``), texts rendered again from their codes in ``lang``; the rule's triggers
    (``rule:...``) are left out, for :func:`rule_reasons` to write from the rule's figures."""
    check_lang(glossary, lang)
    reasons = []
    for item in _as_list(stored):
        code = str(item.get("code", ""))
        if not code or code.startswith((RULE_PREFIX, SUM_PREFIX)):
            continue
        contribution = item.get("contribution")
        points = None if contribution is None or pd.isna(contribution) else float(contribution)
        reasons.append(group_reason(code, points, facts, glossary, lang))
    return reasons


def stored_sums(stored: Any) -> tuple[float, float] | None:
    """The average risk and the net of all other factors of a stored reasons list; None
    when it has no sums (written without the tables, or by an older version)."""
    sums = {
        str(item.get("code")): item.get("contribution")
        for item in _as_list(stored)
        if str(item.get("code", "")).startswith(SUM_PREFIX)
    }
    base, other = sums.get(AVERAGE_RISK), sums.get(OTHER_FACTORS)
    if base is None or other is None or pd.isna(base) or pd.isna(other):
        return None
    return float(base), float(other)


def _as_list(value: Any) -> list[Mapping[str, Any]]:
    """A stored reasons list as Python dicts (Parquet gives an array; a missing list None)."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and pd.isna(value):
        return []
    return [item for item in value if isinstance(item, Mapping)]
