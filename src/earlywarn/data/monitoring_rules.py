"""The rules of the ``monitoring`` and ``visits`` tables that span a list, columns or rows.

The per-column checks (:mod:`earlywarn.data.checks`) cover dates, known households and
single codes; these cover codes inside code lists, exits after entries, exit reasons only with
exits, one monitoring spell at a time, and visits that met nobody finding nothing.
"""

from __future__ import annotations

import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.monitoring import (
    CODE_LISTS,
    CODED_TABLE,
    ENTERED,
    EXIT_REASON,
    EXITED,
    MEASURES_AGREED,
    MONITORING,
    OUTCOME,
    RISK_TYPES_FOUND,
    UNREACHABLE,
    VISITS,
    split_codes,
)
from earlywarn.data.problems import Problem, describe_keys, describe_values, rows_where


def monitoring_problems(table: str, frame: pd.DataFrame) -> list[Problem]:
    """The rules of ``monitoring`` or ``visits`` that span a list, columns or rows (parsed
    frame, 0-based rows); nothing for other tables or columns that could not be read."""
    problems: list[Problem] = []
    for column in frame.columns:
        if CODED_TABLE.get(column) == table and column in CODE_LISTS:
            problems += _list_code_problems(table, column, frame[column], CODE_LISTS[column])
    if table == MONITORING:
        problems += _spell_problems(frame)
    if table == VISITS and {OUTCOME} <= set(frame.columns):
        unreachable = frame[OUTCOME] == UNREACHABLE
        for column in (RISK_TYPES_FOUND, MEASURES_AGREED):
            if column in frame.columns:
                bad = (unreachable & frame[column].notna()).fillna(False)
                if bad.any():
                    problems.append(
                        Problem(
                            table,
                            "must be empty when outcome is unreachable (nobody was met)",
                            column,
                            rows_where(bad),
                            describe_values(frame.loc[bad, column]),
                        )
                    )
    return problems


def _list_code_problems(
    table: str, column: str, values: pd.Series, allowed: tuple[str, ...]
) -> list[Problem]:
    """One problem per code in a list that is not allowed, naming the rows that hold it."""
    codes = values.map(split_codes)
    problems = []
    bad_codes = dict.fromkeys(c for found in codes for c in found if c not in allowed)
    for code in bad_codes:
        rows = rows_where(codes.map(lambda found, code=code: code in found).astype(bool))
        hint = f"allowed: {', '.join(allowed)}; separate codes with ';'"
        if not code.isascii():
            hint += f" (codes of an export go under codes.{column} in the column mapping)"
        problems.append(Problem(table, f"{code!r} is not an allowed code", column, rows, "", hint))
    return problems


def _spell_problems(monitoring: pd.DataFrame) -> list[Problem]:
    """Exits after entries, reasons only with exits, one spell at a time per household."""
    problems: list[Problem] = []
    columns = set(monitoring.columns)
    if {ENTERED, EXITED} <= columns:
        early = (monitoring[EXITED] < monitoring[ENTERED]).fillna(False).astype(bool)
        if early.any():
            problems.append(
                Problem(
                    MONITORING,
                    f"must not be before {ENTERED}",
                    EXITED,
                    rows_where(early),
                    describe_values(monitoring.loc[early, EXITED].dt.strftime("%Y-%m-%d")),
                )
            )
    if EXIT_REASON in columns:
        exited = monitoring[EXITED].notna() if EXITED in columns else False
        orphan = (monitoring[EXIT_REASON].notna() & ~exited).astype(bool)
        if orphan.any():
            problems.append(
                Problem(
                    MONITORING,
                    f"must be empty while {EXITED} is empty (the household is still monitored)",
                    EXIT_REASON,
                    rows_where(orphan),
                )
            )
    if {HOUSEHOLD_ID, ENTERED} <= columns:
        problems += _overlap_problems(monitoring)
    return problems


def _overlap_problems(monitoring: pd.DataFrame) -> list[Problem]:
    """(household_id, entered) unique; a spell starts only after the household's last exit."""
    keyed = monitoring.dropna(subset=[HOUSEHOLD_ID, ENTERED])
    problems: list[Problem] = []
    duplicated = keyed.duplicated([HOUSEHOLD_ID, ENTERED], keep=False)
    if duplicated.any():
        rows = tuple(int(i) + 1 for i in keyed.index[duplicated])
        found = describe_keys(keyed.loc[duplicated, [HOUSEHOLD_ID, ENTERED]])
        problems.append(
            Problem(MONITORING, f"({HOUSEHOLD_ID}, {ENTERED}) duplicated", None, rows, found)
        )
    spells = keyed[~duplicated].sort_values([HOUSEHOLD_ID, ENTERED], kind="stable")
    exited = spells[EXITED] if EXITED in spells.columns else pd.Series(pd.NaT, spells.index)
    previous_end = exited.groupby(spells[HOUSEHOLD_ID]).shift(1)
    same = spells[HOUSEHOLD_ID].eq(spells[HOUSEHOLD_ID].shift(1))
    open_before = same & previous_end.isna()
    overlaps = (same & (open_before | (spells[ENTERED] < previous_end).fillna(False))).astype(bool)
    if overlaps.any():
        rows = tuple(sorted(int(i) + 1 for i in spells.index[overlaps]))
        ids = describe_values(spells.loc[overlaps, HOUSEHOLD_ID])
        problems.append(
            Problem(
                MONITORING,
                f"starts before the household's previous spell has {EXITED} "
                "(one spell at a time per household)",
                ENTERED,
                rows,
                ids,
            )
        )
    return problems
