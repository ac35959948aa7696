"""Measures a work team can deliver: what the household's listed reasons call for, kept only
where the household can use it, with the advice of each measure, split into new measures
and those it already receives (to check that they reach it).

Feasibility rules (each stated on the sheet as the measure's basis):

- nobody in the household can work (last round's ``n_labor`` is 0): no employment measure;
  the minimum living allowance instead when last round's income per person is under
  :data:`ALLOWANCE_LINE_PCT` of the line (or unknown), and support for people in extreme
  poverty (特困供养) when it is under the line itself and there are no children either (no one
  of working age now or soon): a household living on pensions or remittances above that is
  not offered assistance it would not qualify for;
- a large recent shock (:data:`~earlywarn.explain.household_facts.LARGE_SHOCK_LINES`):
  temporary assistance (临时救助); a large health shock also medical assistance;
- medical and farm insurance are separate measures: the household receives medical
  insurance when its last round says it is insured, either insurance when the assistance
  table lists ``insurance`` running (the table's code does not say which).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from earlywarn.data.columns import HAS_MEDICAL_INSURANCE
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import EVENT_KINDS
from earlywarn.explain.reasons import Reason

NO_WORK_MEASURES = frozenset({"employment"})
ALLOWANCE_LINE_PCT = 150.0
"""Income per person (percent of the line) under which a household nobody in which can work
is offered the minimum living allowance: the current rule's margin of 1.5 times the line."""
INCOME_TESTED = {"minimum_living_allowance": ALLOWANCE_LINE_PCT, "extreme_poverty_support": 100.0}
"""Means-tested measures and the income per person (percent of the line) from which they are
not suggested, whatever the reasons (a household already receiving one is still told to
check it reaches them)."""
"""Measures that need someone in the household who can work."""

RECEIVED_AS = {
    "medical_insurance": ("insurance",),
    "farm_insurance": ("insurance",),
}
"""Suggested measures that the assistance table records under another code."""


@dataclass
class Suggestion:
    """One measure on the sheet: its code, name, the reasons or rules it answers, its
    advice, and whether the household already receives it."""

    code: str
    name: str
    running: bool
    advice: str
    basis: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "running": self.running,
            "advice": self.advice,
            "reasons": self.basis,
        }


def _number(facts: Mapping[str, Any], name: str) -> float | None:
    value = facts.get(name)
    if value is None or isinstance(value, str) or pd.isna(value):
        return None
    return float(value)


def cannot_work(facts: Mapping[str, Any]) -> bool:
    """The last round says nobody in the household can work (unknown: not assumed)."""
    return _number(facts, "n_labor") == 0


def large_shock(facts: Mapping[str, Any]) -> str | None:
    """The kind of the costliest large shock of the last 12 months, if any."""
    costs = {
        kind: _number(facts, f"big_{kind}_event_cost")
        for kind in EVENT_KINDS
        if _number(facts, f"big_{kind}_event_cost") is not None
    }
    return max(costs, key=lambda kind: costs[kind] or 0.0) if costs else None


def receives(code: str, running: set[str], facts: Mapping[str, Any]) -> bool:
    """Whether the household already receives measure ``code``."""
    if code == "medical_insurance" and _number(facts, HAS_MEDICAL_INSURANCE) == 1:
        return True
    return code in running or any(other in running for other in RECEIVED_AS.get(code, ()))


def suggested_measures(
    reasons: Iterable[Reason],
    running: set[str],
    facts: Mapping[str, Any],
    glossary: Glossary,
    lang: str,
) -> list[dict[str, Any]]:
    """Each measure the household's reasons and circumstances call for, once, new ones
    first: name, basis (reason names or the rule that added it), the measure's own advice
    and ``running`` (already received: the advice is then to check it reaches them)."""
    wanted: dict[str, list[str]] = {}
    no_work = cannot_work(facts)
    for reason in reasons:
        name = glossary.group_name(reason.code, lang, facts)
        for code in glossary.measures_for(reason.code):
            if no_work and code in NO_WORK_MEASURES:
                continue
            wanted.setdefault(code, []).append(name)
    income_pct = _number(facts, "income_to_line_pct")
    if no_work and (income_pct is None or income_pct < ALLOWANCE_LINE_PCT):
        because = glossary.label("feasibility_no_labour", lang)
        wanted.setdefault("minimum_living_allowance", []).append(because)
        destitute = income_pct is None or income_pct < 100.0
        if destitute and not (_number(facts, "n_children") or 0):
            wanted.setdefault("extreme_poverty_support", []).append(because)
    for code, limit in INCOME_TESTED.items():  # means-tested: not where income is well above
        if income_pct is not None and income_pct >= limit and not receives(code, running, facts):
            wanted.pop(code, None)
    shock = large_shock(facts)
    if shock is not None:
        because = glossary.label("feasibility_shock", lang)
        wanted.setdefault("temporary_assistance", []).append(because)
        if shock == "health":
            wanted.setdefault("medical", []).append(because)
    suggestions = [
        Suggestion(
            code=code,
            name=glossary.measure_name(code, lang),
            running=receives(code, running, facts),
            advice=glossary.advice_for_measure(code, lang),
            basis=list(dict.fromkeys(basis)),
        )
        for code, basis in wanted.items()
    ]
    suggestions.sort(key=lambda item: item.running)  # stable: new first, in reason order
    return [item.as_dict() for item in suggestions]
