"""How figures read in each language: the facts a reason text quotes, and the risks, sums of
money and dates the report pages show."""

from __future__ import annotations

from typing import Any

import pandas as pd

from earlywarn.data.columns import COUNTY, VILLAGE
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.household_facts import YEAR_FACTS, ZERO_SAYS_NOTHING


def format_fact(name: str, value: Any, lang: str, glossary: Glossary) -> str | None:
    """A fact as a reader sees it in ``lang``; None when it is not known (or a count whose
    zero says nothing). Codes (events, measures, gaps) become their glossary names."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if name.endswith("_date"):
        date = pd.Timestamp(value)
        return f"{date.year}年{date.month}月" if lang.startswith("zh") else date.strftime("%B %Y")
    if name.endswith(("_type", "_types", "_measure", "_measures", "_gaps")):
        return _code_names(name, str(value), lang, glossary)
    if name.endswith("_counts"):
        return _counted_names(str(value), lang, glossary)
    if name in (COUNTY, VILLAGE):
        return str(value)
    number = float(value)
    if name in ZERO_SAYS_NOTHING and number == 0:
        return None
    if name.endswith("_multiple"):
        return f"{number:g}"
    if name.endswith(("_pct", "_age", "_years", "_months")) or name in YEAR_FACTS:
        return f"{number:.0f}"
    return f"{number:,.0f}"


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
