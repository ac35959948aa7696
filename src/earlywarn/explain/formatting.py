"""How figures read in each language: the facts a reason text quotes, and the risks, sums of
money and dates the report pages show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.data.columns import COUNTY, VILLAGE
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import YEAR_FACTS, ZERO_SAYS_NOTHING


def format_fact(name: str, value: Any, lang: str, glossary: Glossary) -> str | None:
    """A fact as a reader sees it in ``lang``; None when it is not known (or a count whose
    zero says nothing). Codes (events, measures, gaps) become their glossary names."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return fact_formatter(name, lang, glossary)(value)


def format_facts(name: str, values: pd.Series, lang: str, glossary: Glossary) -> list[str | None]:
    """:func:`format_fact` of every value of a column, in its order (one rule, one pass):
    what reason texts quote when they are written for many households at once. Each distinct
    value is formatted once (floats told apart by their bits: -0.0 is not 0.0)."""
    known = values.notna().to_numpy()
    if pd.api.types.is_float_dtype(values.dtype):
        bits = values.to_numpy(dtype="float64", na_value=np.nan).view("int64")
        codes, unique_bits = pd.factorize(bits)
        distinct = unique_bits.view("float64").tolist()
    else:
        codes, uniques = pd.factorize(values)
        distinct = uniques.tolist()
    formatter = fact_formatter(name, lang, glossary)
    texts = np.array([*(formatter(value) for value in distinct), None], dtype=object)
    found = texts[codes]
    found[~known] = None
    return list(found)


def fact_formatter(name: str, lang: str, glossary: Glossary) -> Callable[[Any], str | None]:
    """How a known value of the fact ``name`` reads in ``lang`` (chosen by the fact's name)."""
    if name.endswith("_date"):
        if lang.startswith("zh"):
            return lambda value: _zh_month(pd.Timestamp(value))
        return lambda value: pd.Timestamp(value).strftime("%B %Y")
    if name.endswith(("_type", "_types", "_measure", "_measures", "_gaps")):
        return lambda value: _code_names(name, str(value), lang, glossary)
    if name.endswith("_counts"):
        return lambda value: _counted_names(str(value), lang, glossary)
    if name in (COUNTY, VILLAGE):
        return str
    if name.endswith("_multiple"):
        pattern = "{:g}"
    elif name.endswith(("_pct", "_age", "_years", "_months")) or name in YEAR_FACTS:
        pattern = "{:.0f}"
    else:
        pattern = "{:,.0f}"
    if name in ZERO_SAYS_NOTHING:
        return lambda value: None if float(value) == 0 else pattern.format(float(value))
    return lambda value: pattern.format(float(value))


def _zh_month(date: pd.Timestamp) -> str:
    return f"{date.year}年{date.month}月"


def _code_names(name: str, codes: str, lang: str, glossary: Glossary) -> str | None:
    """Comma-separated codes of events, measures or gaps as their names, listed in ``lang``."""
    found = [code for code in codes.split(",") if code]
    if not found:
        return None
    if name.endswith("_gaps"):
        names = [glossary.gap_name(code, lang) for code in found]
    elif "measure" in name:
        names = [glossary.measure_name(code, lang) for code in found]
    else:
        names = [glossary.event_name(code, lang) for code in found]
    text = "、".join(names) if lang.startswith("zh") else ", ".join(names)
    return text[:1].upper() + text[1:] if name.endswith("_gaps") else text


def _counted_names(counts: str, lang: str, glossary: Glossary) -> str | None:
    """``illness:2,injury:1`` as ``疾病2次、意外伤害1次`` or ``2 × illness, 1 × injury``."""
    found = [item.rsplit(":", 1) for item in counts.split(",") if ":" in item]
    if not found:
        return None
    if lang.startswith("zh"):
        return "、".join(f"{glossary.event_name(code, lang)}{n}次" for code, n in found)
    return ", ".join(f"{n} × {glossary.event_name(code, lang)}" for code, n in found)


def points(share: float, *, signed: bool = False) -> str:
    """A share from 0 to 1 as percentage points with one decimal (``+2.3`` when signed;
    the minus sign is a real minus)."""
    text = f"{100 * share:+.1f}" if signed else f"{100 * share:.1f}"
    return text.replace("-", "−")


def percent(share: float) -> str:
    """A share from 0 to 1 as whole percent: ``0.237`` -> ``24%``."""
    return f"{100 * share:.0f}%"


def yuan(value: Any) -> str:
    """A sum of money in whole yuan with thousands separators; empty when not known."""
    return "" if value is None or pd.isna(value) else f"{float(value):,.0f}"


def day(value: Any, lang: str) -> str:
    """A date as a page shows it (``2024年3月1日`` or ``2024-03-01``); empty when not known."""
    if value is None or pd.isna(value):
        return ""
    date = pd.Timestamp(value)
    return (
        f"{date.year}年{date.month}月{date.day}日"
        if lang.startswith("zh")
        else date.strftime("%Y-%m-%d")
    )
