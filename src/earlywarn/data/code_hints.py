"""Codes the contract does not allow (``'flood'`` as an event type): one problem per code,
with a hint at the code that was probably meant (a synonym people use, or a close spelling)."""

from __future__ import annotations

import difflib

import pandas as pd

from earlywarn.data.columns import EVENT_TYPE, HEAD_SEX, MEASURE
from earlywarn.data.problems import Problem, rows_where

MAX_CODE_PROBLEMS = 8

# words people use for a contract code, for "did you mean" hints
SYNONYMS: dict[str, dict[str, str]] = {
    EVENT_TYPE: {
        "flood": "disaster",
        "drought": "disaster",
        "earthquake": "disaster",
        "storm": "disaster",
        "hail": "disaster",
        "landslide": "disaster",
        "fire": "disaster",
        "sickness": "illness",
        "disease": "illness",
        "hospital": "illness",
        "hospitalisation": "illness",
        "hospitalization": "illness",
        "accident": "injury",
        "unemployment": "job_loss",
        "layoff": "job_loss",
        "lockdown": "epidemic_lockdown",
        "covid": "epidemic_lockdown",
        "harvest": "crop_failure",
        "疾病": "illness",
        "生病": "illness",
        "大病": "illness",
        "住院": "illness",
        "受伤": "injury",
        "意外": "injury",
        "残疾": "disability",
        "慢性病": "chronic_diagnosis",
        "死亡": "death",
        "失业": "job_loss",
        "歉收": "crop_failure",
        "减产": "crop_failure",
        "牲畜死亡": "livestock_loss",
        "灾害": "disaster",
        "自然灾害": "disaster",
        "洪涝": "disaster",
        "干旱": "disaster",
        "疫情": "epidemic_lockdown",
        "其他": "other",
    },
    MEASURE: {
        "dibao": "minimum_living_allowance",
        "subsidy": "minimum_living_allowance",
        "job": "employment",
        "training": "employment",
        "health": "medical",
        "school": "education",
        "产业": "industrial",
        "产业帮扶": "industrial",
        "就业": "employment",
        "医疗": "medical",
        "低保": "minimum_living_allowance",
        "教育": "education",
        "住房": "housing",
        "保险": "insurance",
        "其他": "other",
    },
    HEAD_SEX: {"男": "M", "女": "F", "male": "M", "female": "F", "m": "M", "f": "F"},
}
CODE_NOUN = {EVENT_TYPE: "type", MEASURE: "measure", HEAD_SEX: "sex"}


def suggest(column: str, value: str, allowed: tuple[str, ...]) -> str:
    """``did you mean 'disaster'?`` for a synonym or a close spelling, else the allowed codes."""
    synonyms = SYNONYMS.get(column, {})
    synonym = synonyms.get(value.strip().lower()) or synonyms.get(value.strip())
    close = difflib.get_close_matches(value.lower(), allowed, n=1, cutoff=0.6)
    guess = synonym or (close[0] if close else None)
    if guess is not None:
        return f"did you mean {guess!r}?"
    return f"allowed: {', '.join(allowed)}"


def code_problems(
    table: str, column: str, frame: pd.DataFrame, rows: list[int], allowed: tuple[str, ...]
) -> list[Problem]:
    """One problem per unknown code at 0-based ``rows`` (``'flood' is not an allowed type;
    did you mean ...``); past the first few codes, one problem for the rest."""
    values = frame[column]
    bad = values.iloc[rows]
    problems = []
    distinct = list(dict.fromkeys(bad))
    noun = CODE_NOUN.get(column, "value")
    for value in distinct[:MAX_CODE_PROBLEMS]:
        positions = rows_where(values == value)
        hint = suggest(column, str(value), allowed)
        if not str(value).isascii():
            hint += f" (codes of an export go under codes.{column} in the column mapping)"
        problems.append(
            Problem(table, f"{value!r} is not an allowed {noun}; {hint}", column, positions)
        )
    if len(distinct) > MAX_CODE_PROBLEMS:
        rest = bad[~bad.isin(distinct[:MAX_CODE_PROBLEMS])]
        problems.append(
            Problem(
                table,
                f"{len(distinct) - MAX_CODE_PROBLEMS} more values that are not an allowed "
                f"{noun}; allowed: {', '.join(allowed)}",
                column,
                tuple(int(i) + 1 for i in rest.index),
            )
        )
    return problems
