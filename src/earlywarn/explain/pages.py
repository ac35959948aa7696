"""What every report page shares: where it lives (file-name-safe paths), relative links
between pages, the template context common to all, and the dates and model versions a page
states."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from earlywarn.data.columns import AS_OF, MODEL_VERSION
from earlywarn.explain.formatting import day
from earlywarn.explain.glossary import Glossary

CJK_FONTS = (
    '"WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
)
INDEX = "index.html"


def slug(name: Any) -> str:
    """A file-name-safe, unique form of a name: word characters kept, a short hash added."""
    text = str(name)
    stem = re.sub(r"[^\w-]+", "-", text, flags=re.UNICODE).strip("-_")[:40] or "x"
    return f"{stem}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def href(target: str, start: str) -> str:
    """Relative, percent-encoded link from page ``start`` to page ``target``."""
    target_parts = PurePosixPath(target).parts
    start_dir = PurePosixPath(start).parent.parts
    common = 0
    while (
        common < len(start_dir)
        and common < len(target_parts) - 1
        and start_dir[common] == target_parts[common]
    ):
        common += 1
    parts = [".."] * (len(start_dir) - common) + list(target_parts[common:])
    return "/".join(quote(part) for part in parts)


def county_summary_path(county: str) -> str:
    return f"{slug(county)}/summary.html"


def village_dir(county: str, village: str) -> str:
    return f"{slug(county)}/{slug(village)}"


def page_context(glossary: Glossary, lang: str, generated: str) -> dict[str, Any]:
    """What every template gets: the language, the fonts, when the pages were made (Beijing
    time in Chinese, see :func:`local_time`) and ``L``, the report's words in ``lang``
    (``L("rank_in_village", rank=2, n=30)``)."""

    def words(key: str, **values: Any) -> str:
        return glossary.label(key, lang, **values)

    return {
        "lang": lang,
        "fonts": Markup(CJK_FONTS),
        "generated": local_time(generated, glossary, lang),
        "L": words,
    }


def local_time(generated: str, glossary: Glossary, lang: str) -> str:
    """A ``YYYY-MM-DD HH:MM UTC`` time as a reader of ``lang`` states it: in Chinese in
    Beijing time (``2026年12月2日 08:30（北京时间）``); anything else unchanged."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC", generated.strip())
    if not match or not lang.startswith("zh"):
        return generated
    beijing = pd.Timestamp(match.group(1), tz="UTC").tz_convert("Asia/Shanghai")
    return (
        f"{beijing.year}年{beijing.month}月{beijing.day}日 {beijing:%H:%M}"
        f"（{glossary.label('beijing_time', lang)}）"
    )


def scored_dates(scores: pd.DataFrame, lang: str) -> str:
    """The as-of dates of ``scores``, oldest first, as a page states them."""
    return ", ".join(day(date, lang) for date in sorted(scores[AS_OF].dropna().unique()))


def model_versions(scores: pd.DataFrame) -> str:
    """The model versions that scored ``scores``, as a page states them."""
    return ", ".join(sorted(map(str, scores[MODEL_VERSION].dropna().unique())))


def place_label(common: dict[str, Any], county: str, village: str | None = None) -> str:
    """A county's (or, with ``village``, a village's) name with its code in brackets, from
    ``common["place_names"]`` (the optional places table); the bare code where no name is
    known."""
    names: dict[tuple[str, str], tuple[str, str]] = common.get("place_names", {})
    if village is None:
        found = next((n[0] for (c, _), n in names.items() if c == county and n[0]), "")
        code = county
    else:
        found = names.get((county, village), ("", ""))[1]
        code = village
    if not found:
        return code
    return f"{found}（{code}）" if common.get("lang") == "zh-CN" else f"{found} ({code})"
