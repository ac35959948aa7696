"""The mechanism's own terms for a flagged household, as proposals for the visit to verify:
the official risk types its listed reasons point to and a monitoring category
(脱贫不稳定户, 边缘易致贫户, 突发严重困难户). Never a decision: the sheet says "to verify",
and the visit's form has the boxes for what was found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from earlywarn.explain.formatting import format_fact
from earlywarn.explain.glossary import RISK_TYPES, Glossary
from earlywarn.explain.measures import large_shock
from earlywarn.explain.reasons import Reason


@dataclass(frozen=True)
class Category:
    """A proposed monitoring category (:data:`~earlywarn.explain.glossary.CATEGORIES`), its
    name and the basis in the household's figures."""

    code: str
    name: str
    basis: str


def proposed_risk_types(
    reasons: Iterable[Reason], facts: Mapping[str, Any], glossary: Glossary
) -> list[str]:
    """The risk types of the listed reasons (true to the figures), once each, in the
    mechanism's order; ``other`` when no reason is listed."""
    found = {glossary.risk_type(reason.code, facts) for reason in reasons}
    return [risk_type for risk_type in RISK_TYPES if risk_type in found] or ["other"]


def proposed_category(facts: Mapping[str, Any], glossary: Glossary, lang: str) -> Category:
    """脱贫不稳定户 for a household registered as lifted out of poverty; otherwise
    突发严重困难户 after a large recent shock, else 边缘易致贫户 (income below or close to
    the line is what flagged a household never registered poor)."""
    exit_year = facts.get("poverty_exit_year")
    if exit_year is not None and not pd.isna(exit_year):
        basis = glossary.label("basis_exited", lang, year=f"{float(exit_year):.0f}")
        return Category("unstable_exited", glossary.category_name("unstable_exited", lang), basis)
    kind = large_shock(facts)
    if kind is not None:
        basis = glossary.label(
            "basis_shock",
            lang,
            date=format_fact("big_event_date", facts.get(f"big_{kind}_event_date"), lang, glossary),
            event=format_fact(
                "big_event_type", facts.get(f"big_{kind}_event_type"), lang, glossary
            ),
            cost=format_fact("big_event_cost", facts.get(f"big_{kind}_event_cost"), lang, glossary),
        )
        joiner = "，" if lang.startswith("zh") else "; "
        basis = f"{glossary.label('basis_not_registered', lang)}{joiner}{basis}"
        return Category("sudden_hardship", glossary.category_name("sudden_hardship", lang), basis)
    return Category(
        "edge", glossary.category_name("edge", lang), glossary.label("basis_edge", lang)
    )
