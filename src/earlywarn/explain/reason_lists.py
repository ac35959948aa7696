"""Reasons lists for many households at once, built as columns: the scores file's
``reasons`` of a chunk of households in one pass.

Says what :mod:`earlywarn.explain.reasons` says for one household (same choice of groups,
same texts, same sums, value for value): the material groups are picked for all rows with one
sort, each reason group's texts are written for the households that list it
(:func:`~earlywarn.explain.reasons.render_texts`), the rule's triggers likewise
(:func:`~earlywarn.explain.reasons.rule_reason_columns`), and only the final lists of
``{code, text, contribution}`` are built row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.explain.glossary import Glossary, check_lang
from earlywarn.explain.reasons import (
    AVERAGE_RISK,
    OTHER_FACTORS,
    Reason,
    render_text,
    render_texts,
    rule_reason_columns,
)


@dataclass(frozen=True)
class MaterialGroups:
    """The groups each household's sheet lists
    (:meth:`~earlywarn.explain.contributions.GroupContributions.material` for every row):
    ``codes`` and ``points`` (rows x places, largest first), ``counts`` how many places of
    each row are filled, ``other`` the net of every group not listed; ``base_risk`` the
    average household's risk."""

    codes: np.ndarray
    points: np.ndarray
    counts: np.ndarray
    other: np.ndarray
    base_risk: float


def reason_lists(
    material: MaterialGroups,
    facts: pd.DataFrame,
    glossary: Glossary,
    lang: str,
    *,
    triggers: pd.DataFrame | None = None,
    target_year: int | None = None,
    with_sums: bool = False,
) -> list[list[dict[str, Any]]]:
    """Each household's reasons list (rows of ``material`` and ``facts``, aligned by
    position): its material groups with texts quoting ``facts``, then the
    rule's triggers when ``triggers`` (:func:`~earlywarn.explain.reasons.rule_triggers`,
    same rows) is given, then the two sums when ``with_sums``."""
    check_lang(glossary, lang)
    filled = np.arange(material.codes.shape[1]) < material.counts[:, None]
    texts = np.empty(material.codes.shape, dtype=object)
    for code in pd.unique(material.codes[filled]):
        rows, places = np.nonzero(filled & (material.codes == code))
        found = render_texts(glossary.templates(str(code), lang), facts, lang, glossary, rows)
        texts[rows, places] = np.asarray(found, dtype=object)
    rules: list[list[Reason]] = [[] for _ in range(len(facts))]
    if triggers is not None:
        if target_year is None:
            raise ValueError("reason_lists needs target_year together with triggers")
        rules = rule_reason_columns(triggers, glossary, lang, target_year=target_year)
    sums: list[dict[str, Any]] = []
    if with_sums:
        sums = [
            Reason(AVERAGE_RISK, _plain_text(AVERAGE_RISK, glossary, lang), None).as_dict(),
            Reason(OTHER_FACTORS, _plain_text(OTHER_FACTORS, glossary, lang), None).as_dict(),
        ]
        sums[0]["contribution"] = float(material.base_risk)
    lists = []
    for count, codes, found, points, rule, other in zip(
        material.counts.tolist(),
        material.codes.tolist(),
        texts.tolist(),
        material.points.tolist(),
        rules,
        material.other.tolist(),
        strict=True,
    ):
        items = [
            {"code": str(code), "text": text, "contribution": point}
            for code, text, point in zip(codes[:count], found[:count], points[:count], strict=True)
        ]
        items += [reason.as_dict() for reason in rule]
        if with_sums:
            items += [sums[0].copy(), {**sums[1], "contribution": other}]
        lists.append(items)
    return lists


def _plain_text(code: str, glossary: Glossary, lang: str) -> str:
    """A group's text without figures (the sums quote none)."""
    return render_text(glossary.templates(code, lang), {}, lang, glossary)
