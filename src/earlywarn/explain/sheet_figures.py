"""The figures at the head of a household sheet: who the household is (names of its places
from the optional places table, members, workers, income), its risk band beside the cut-off,
and how its risk adds up (average risk + the listed reasons' points + all other factors,
net), shown so that the printed figures add up exactly."""

from __future__ import annotations

from typing import Any

import pandas as pd

from earlywarn.data.columns import COUNTY, COUNTY_NAME, HEAD_NAME, ID_NUMBER, VILLAGE, VILLAGE_NAME
from earlywarn.explain.formatting import percent, points, yuan
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.reasons import AVERAGE_RISK, OTHER_FACTORS, Reason


def mask_id(id_number: Any) -> str:
    """First 4 and last 4 characters of an ID, the rest as ``*``; too short: all ``*``."""
    if id_number is None or (not isinstance(id_number, str) and pd.isna(id_number)):
        return ""
    text = str(id_number).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def place_names(places: pd.DataFrame) -> dict[tuple[str, str], tuple[str, str]]:
    """(county, village) codes -> (county name, village name) from the optional places table;
    a name not given is empty (the sheet then prints the code)."""
    if not {COUNTY, VILLAGE, COUNTY_NAME, VILLAGE_NAME} <= set(places.columns):
        return {}
    return {
        (str(county), str(village)): (
            "" if pd.isna(county_name) else str(county_name),
            "" if pd.isna(village_name) else str(village_name),
        )
        for county, village, county_name, village_name in zip(
            places[COUNTY], places[VILLAGE], places[COUNTY_NAME], places[VILLAGE_NAME], strict=True
        )
    }


def identity(
    household_id: str,
    facts: dict[str, Any],
    personal: pd.DataFrame,
    glossary: Glossary,
    lang: str,
) -> dict[str, str]:
    """Who the household is: head's name, masked ID, members, workers and last round's net
    income in all and per person (so the per-person figures can be checked)."""
    name = personal[HEAD_NAME].get(household_id) if HEAD_NAME in personal else None
    id_number = personal[ID_NUMBER].get(household_id) if ID_NUMBER in personal else None
    year = facts.get("last_year")

    def count(key: str) -> str:
        value = facts.get(key)
        if value is None or pd.isna(value):
            return "—"
        return glossary.label("n_persons", lang, n=f"{float(value):.0f}")

    def money(key: str) -> str:
        value = facts.get(key)
        if value is None or pd.isna(value):
            return "—"
        return glossary.label("yuan_amount", lang, amount=yuan(value))

    return {
        "name": "" if name is None or pd.isna(name) else str(name),
        "masked_id": mask_id(id_number),
        "members": count("household_size"),
        "workers": count("n_labor"),
        "income_year": "—" if year is None or pd.isna(year) else f"{float(year):.0f}",
        "net_income": money("net_income"),
        "income_pc": money("income_per_capita"),
    }


def risk_band(risk: float, cutoff: float | None, glossary: Glossary, lang: str) -> dict[str, str]:
    """The risk's band and the cut-off stated beside it: very high from 50%, high from twice
    the cut-off, elevated from the cut-off."""
    if cutoff is None or pd.isna(cutoff):
        return {"band": "", "band_code": "", "cutoff": ""}
    if risk >= 0.5:
        code = "very_high"
    elif risk >= 2 * cutoff:
        code = "high"
    elif risk >= cutoff:
        code = "flagged"
    else:
        code = "below"
    return {
        "band": glossary.label(f"band_{code}", lang),
        "band_code": code,
        "cutoff": glossary.label("cutoff", lang, cutoff=percent(cutoff)),
    }


def breakdown(
    risk: float,
    model: list[Reason],
    sums: tuple[float, float] | None,
    facts: dict[str, Any],
    glossary: Glossary,
    lang: str,
) -> list[dict[str, str]]:
    """How the risk adds up, in percentage points with one decimal: the average risk, each
    listed reason, all other factors (net), and the household's risk. The shown figures add
    up exactly: the net of other factors takes up the rounding. Without stored sums the
    average and the other factors are one line."""
    tenths = round(1000 * risk)
    listed = [round(1000 * (reason.contribution or 0.0)) for reason in model]
    rows = []
    if sums is not None:
        base = round(1000 * sums[0])
        rows.append(
            {"label": glossary.group_name(AVERAGE_RISK, lang), "points": _tenths(base) + "%"}
        )
    else:
        base = 0
    for reason, value in zip(model, listed, strict=True):
        rows.append(
            {"label": glossary.group_name(reason.code, lang, facts), "points": _tenths(value, True)}
        )
    other = tenths - base - sum(listed)
    label = (
        glossary.group_name(OTHER_FACTORS, lang)
        if sums is not None
        else glossary.label("average_and_other", lang)
    )
    rows.append({"label": label, "points": _tenths(other, sums is not None)})
    rows.append({"label": glossary.label("household_risk", lang), "points": _tenths(tenths) + "%"})
    return rows


def _tenths(value: int, signed: bool = False) -> str:
    """Tenths of a percentage point as points (``+2.3``), minus as a real minus."""
    return points(value / 1000, signed=signed)
