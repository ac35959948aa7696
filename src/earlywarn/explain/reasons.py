"""Reasons in words: the glossary's text of a reason group, or of the current rule's trigger,
with the household's own figures filled in. The scores file and the reports write every
reason text through :func:`group_reason` and :func:`rule_reasons`, so given the same glossary,
language and figures they say the same.

A :class:`Reason` is ``code``, ``text`` and ``contribution`` (probability points on the
calibrated risk, see :data:`~earlywarn.explain.contributions.CONTRIBUTION_SCALE`; ``None`` for a
rule trigger, code ``rule:...``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.explain.formatting import format_fact
from earlywarn.explain.glossary import Glossary, check_lang, template_fields

# Moved to their own modules; re-exported here until jobs/score.py, scoring/score.py and
# benchmarks/bench_reason_facts.py import them from there (drop at the merge of issue 10).

RULE_PREFIX = "rule:"
"""Code prefix of the current rule's triggers (``rule:serious_shock``)."""


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
            return template.format(**values)
        text = template
    return text


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
        if not code or code.startswith(RULE_PREFIX):
            continue
        contribution = item.get("contribution")
        points = None if contribution is None or pd.isna(contribution) else float(contribution)
        reasons.append(group_reason(code, points, facts, glossary, lang))
    return reasons


def _as_list(value: Any) -> list[Mapping[str, Any]]:
    """A stored reasons list as Python dicts (Parquet gives an array; a missing list None)."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, float) and pd.isna(value):
        return []
    return [item for item in value if isinstance(item, Mapping)]
