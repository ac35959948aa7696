"""The monitoring cycle in the data contract: who is a monitoring subject, what visits found.

Two optional tables (``docs/data-contract.md``):

- ``monitoring``: one row per spell as a monitoring subject (监测对象): household_id,
  ``entered`` (date), ``category`` (unstable / edge / sudden_hardship), ``risk_types``,
  ``exited`` (date; null while monitored) and ``exit_reason``;
- ``visits``: one row per home visit: household_id, ``visit_date``, ``outcome`` (confirmed /
  not_at_risk / unreachable), ``risk_types_found`` and ``measures_agreed``.

``risk_types``, ``risk_types_found`` and ``measures_agreed`` are code lists: codes separated
by ``;`` (``,``, ``、`` and ``，`` are read too). This module names the columns and codes and
their codes; :mod:`earlywarn.data.monitoring_rules` checks the rules beyond single columns.
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

from earlywarn.data.columns import MEASURES

# tables
MONITORING: Final = "monitoring"
VISITS: Final = "visits"

# monitoring
ENTERED: Final = "entered"
CATEGORY: Final = "category"
RISK_TYPES: Final = "risk_types"
EXITED: Final = "exited"
EXIT_REASON: Final = "exit_reason"

# visits
VISIT_DATE: Final = "visit_date"
OUTCOME: Final = "outcome"
RISK_TYPES_FOUND: Final = "risk_types_found"
MEASURES_AGREED: Final = "measures_agreed"

#: 脱贫不稳定户, 边缘易致贫户, 突发严重困难户.
CATEGORIES: Final = ("unstable", "edge", "sudden_hardship")
RISK_TYPE_CODES: Final = (
    "illness",
    "disability",
    "education",
    "disaster",
    "accident",
    "business_failure",
    "employment",
    "lack_of_labor",
    "housing",
    "water",
    "other",
)
#: 风险消除 (risk eliminated) is the exit the cycle is for; the others close a spell anyway.
EXIT_REASONS: Final = ("risk_eliminated", "moved_away", "household_dissolved", "other")
CONFIRMED: Final = "confirmed"
NOT_AT_RISK: Final = "not_at_risk"
UNREACHABLE: Final = "unreachable"
OUTCOMES: Final = (CONFIRMED, NOT_AT_RISK, UNREACHABLE)

#: Single-code columns: allowed values (checked like event types, mapped like them).
SINGLE_CODES: Final[dict[str, tuple[str, ...]]] = {
    CATEGORY: CATEGORIES,
    EXIT_REASON: EXIT_REASONS,
    OUTCOME: OUTCOMES,
}
#: Code-list columns: allowed values of each element.
CODE_LISTS: Final[dict[str, tuple[str, ...]]] = {
    RISK_TYPES: RISK_TYPE_CODES,
    RISK_TYPES_FOUND: RISK_TYPE_CODES,
    MEASURES_AGREED: MEASURES,
}
#: The table each coded column lives in.
CODED_TABLE: Final[dict[str, str]] = {
    CATEGORY: MONITORING,
    EXIT_REASON: MONITORING,
    RISK_TYPES: MONITORING,
    OUTCOME: VISITS,
    RISK_TYPES_FOUND: VISITS,
    MEASURES_AGREED: VISITS,
}
LIST_SEPARATOR: Final = ";"
_SEPARATORS = re.compile(r"\s*[;,、，；]\s*")


def split_codes(value: object) -> list[str]:
    """The codes of one code-list value (empty for a null or blank value)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return []
    return [code for code in _SEPARATORS.split(str(value).strip()) if code]


def translate_code_list(values: pd.Series, codes: dict[str, str]) -> pd.Series:
    """Each list's codes translated by ``codes`` (an export's own codes), joined by ``;``."""

    def translate(value: object) -> object:
        found = split_codes(value)
        if not found:
            return value
        return LIST_SEPARATOR.join(codes.get(code, code) for code in found)

    return values.map(translate).astype(values.dtype) if len(values) else values
