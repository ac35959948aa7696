"""The reason glossary: every word reasons and reports say, in every language, loaded and checked.

The glossary (``resources/reason_glossary.yaml``, or the one a config names) is data: per reason
group a name, its official risk type, text templates in preference order (the first whose
placeholders all have a value is used; the last has none), suggested measures and advice, and
``variants`` that rename it (and change its risk type) when a condition on the household's
figures holds (:mod:`earlywarn.explain.conditions`); the current rule's trigger texts; names
of events, measures (with the advice for each), risk types, monitoring categories and
living-condition gaps; and the words of the reports.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from earlywarn.config import read_yaml_mapping
from earlywarn.data.columns import EVENT_TYPES, MEASURES
from earlywarn.errors import ConfigError
from earlywarn.explain.conditions import CONDITIONS, holds
from earlywarn.explain.household_facts import FACT_NAMES
from earlywarn.explain.round_facts import GAPS
from earlywarn.resources import RESOURCES

LANGUAGES = ("zh-CN", "en")
DEFAULT_GLOSSARY = RESOURCES / "reason_glossary.yaml"
RULE_CODES = ("income_below_line", "income_near_line", "serious_shock")
"""The current rule's triggers that have a text (``rules`` section)."""
RISK_TYPES = (
    "illness",
    "disability",
    "education",
    "disaster",
    "accident",
    "industry_failure",
    "unstable_work",
    "labour_shortage",
    "housing",
    "other",
)
"""The mechanism's risk types (因病, 因残, 因学, 因灾, 因意外事故, 产业项目失败, 务工就业不稳,
缺劳动力, 住房安全, 其他), in its order: every reason group maps to one."""
CATEGORIES = ("unstable_exited", "edge", "sudden_hardship")
"""The mechanism's monitoring categories: 脱贫不稳定户, 边缘易致贫户, 突发严重困难户."""
EXTRA_MEASURES = (
    "medical_insurance",
    "farm_insurance",
    "temporary_assistance",
    "extreme_poverty_support",
)
"""Measures a sheet may suggest beyond the assistance table's codes: medical and farm
insurance apart, temporary assistance (临时救助) and support for the destitute (特困供养)."""
SUGGESTIONS = (*MEASURES, *EXTRA_MEASURES)


@dataclass(frozen=True)
class Glossary:
    """The reason glossary as loaded: nested mappings ``section -> code -> lang -> text``
    (``groups`` one level deeper: ``code -> name | templates | measures | advice``)."""

    languages: tuple[str, ...]
    groups: Mapping[str, Mapping[str, Any]]
    rules: Mapping[str, Mapping[str, str]]
    events: Mapping[str, Mapping[str, str]]
    measures: Mapping[str, Mapping[str, str]]
    gaps: Mapping[str, Mapping[str, str]]
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    risk_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    categories: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    measure_advice: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def group(self, code: str) -> Mapping[str, Any]:
        """A reason group's entry; ``other`` for a group the glossary does not list."""
        return self.groups.get(code) or self.groups["other"]

    def variant(self, code: str, facts: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """The group's entry with its first variant whose condition holds for ``facts``
        laid over it (name, risk type); the plain entry without facts or matching variant."""
        entry = self.group(code)
        if facts is None:
            return entry
        for variant in entry.get("variants", ()):
            if holds(str(variant["when"]), facts):
                return {**entry, **{k: v for k, v in variant.items() if k != "when"}}
        return entry

    def group_name(self, code: str, lang: str, facts: Mapping[str, Any] | None = None) -> str:
        """What the reason is called, true to the household's figures when they are given."""
        return str(self.variant(code, facts)["name"][lang])

    def risk_type(self, code: str, facts: Mapping[str, Any] | None = None) -> str:
        """The official risk type (:data:`RISK_TYPES`) a reason of this group proposes."""
        return str(self.variant(code, facts).get("risk_type", "other"))

    def risk_type_name(self, risk_type: str, lang: str) -> str:
        return str(self.risk_types[risk_type][lang])

    def category_name(self, category: str, lang: str) -> str:
        return str(self.categories[category][lang])

    def advice_for_measure(self, measure: str, lang: str) -> str:
        """What to do about one measure (the advice belongs to the measure, not the reason)."""
        return str((self.measure_advice.get(measure) or self.measure_advice["other"])[lang])

    def templates(self, code: str, lang: str) -> list[str]:
        """A reason group's text templates in ``lang``, in preference order."""
        return list(self.group(code)["templates"][lang])

    def measures_for(self, code: str) -> tuple[str, ...]:
        return tuple(self.group(code).get("measures", ()))

    def advice(self, code: str, lang: str) -> str:
        return str(self.group(code)["advice"][lang])

    def event_name(self, code: str, lang: str) -> str:
        return str((self.events.get(code) or self.events["other"])[lang])

    def measure_name(self, code: str, lang: str) -> str:
        return str((self.measures.get(code) or self.measures["other"])[lang])

    def gap_name(self, code: str, lang: str) -> str:
        return str(self.gaps[code][lang])

    def label(self, key: str, lang: str, **values: Any) -> str:
        """A word of the reports, with ``values`` filled into its placeholders."""
        text = str(self.labels[key][lang])
        return text.format(**values) if values else text


def load_glossary(path: Path | None = None) -> Glossary:
    """Read and check a reason glossary (default: ``earlywarn/resources/reason_glossary.yaml``)."""
    return _load_glossary(Path(path) if path is not None else DEFAULT_GLOSSARY)


@lru_cache(maxsize=4)
def _load_glossary(path: Path) -> Glossary:
    raw = read_yaml_mapping(path, "reason glossary")
    try:
        glossary = Glossary(
            languages=tuple(raw["languages"]),
            groups=raw["groups"],
            rules=raw["rules"],
            events=raw["events"],
            measures=raw["measures"],
            gaps=raw["gaps"],
            labels=raw.get("labels", {}),
            risk_types=raw["risk_types"],
            categories=raw["categories"],
            measure_advice=raw["measure_advice"],
        )
    except KeyError as err:
        raise ConfigError(f"reason glossary {path} has no section {err}") from err
    problems = glossary_problems(glossary)
    if problems:
        raise ConfigError(
            f"{len(problems)} problems in reason glossary {path}:\n  " + "\n  ".join(problems)
        )
    return glossary


def check_lang(glossary: Glossary, lang: str) -> None:
    """A ConfigError unless the glossary has texts in ``lang``."""
    if lang not in glossary.languages:
        raise ConfigError(
            f"language {lang!r} is not in the reason glossary "
            f"(it has {', '.join(glossary.languages)})"
        )


def template_fields(template: str) -> list[str]:
    """The placeholders of a text template (``{income_per_capita}`` -> income_per_capita)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def glossary_problems(glossary: Glossary, reason_groups: Iterable[str] = ()) -> list[str]:
    """Every missing translation, missing group, unknown measure or unknown placeholder."""
    problems: list[str] = []
    if "other" not in glossary.groups:
        problems.append("groups: needs an 'other' group for features the catalog does not list")
    for code in reason_groups:
        if code not in glossary.groups:
            problems.append(f"groups.{code}: reason group of the feature catalog has no text")
    for code, entry in glossary.groups.items():
        problems += _group_problems(code, entry, glossary.languages)
    problems += _section_problems(glossary)
    sections = ("groups", "rules", "events", "measures", "gaps", "labels")
    for section in (*sections, "risk_types", "categories", "measure_advice"):
        problems += _stray_keys(section, getattr(glossary, section), glossary.languages)
    return problems


def _group_problems(code: str, entry: Mapping[str, Any], langs: tuple[str, ...]) -> list[str]:
    """A reason group's missing texts, bad placeholders and unknown measures."""
    problems = []
    for part in ("name", "templates", "advice"):
        for lang in langs:
            if not (entry.get(part) or {}).get(lang):
                problems.append(f"groups.{code}.{part}: no {lang} text")
    for lang in langs:
        for text in (entry.get("templates") or {}).get(lang) or ():
            problems += _placeholder_problems(f"groups.{code}.templates.{lang}", text)
        templates = (entry.get("templates") or {}).get(lang) or ["{x}"]
        if template_fields(templates[-1]):
            problems.append(
                f"groups.{code}.templates.{lang}: the last template must have "
                "no placeholders (the text when figures are missing)"
            )
    for measure in entry.get("measures", ()):
        if measure not in SUGGESTIONS:
            problems.append(f"groups.{code}.measures: {measure!r} is not a measure code")
    problems += _risk_type_problems(f"groups.{code}", entry)
    for n, variant in enumerate(entry.get("variants", ())):
        where = f"groups.{code}.variants[{n}]"
        if variant.get("when") not in CONDITIONS:
            problems.append(f"{where}.when: {variant.get('when')!r} is not a known condition")
        if "name" in variant:
            problems += [
                f"{where}.name: no {lang} text" for lang in langs if not variant["name"].get(lang)
            ]
        if "risk_type" in variant:
            problems += _risk_type_problems(where, variant)
    return problems


def _risk_type_problems(where: str, entry: Mapping[str, Any]) -> list[str]:
    """A group (or variant) without a risk type, or with one the mechanism does not have."""
    risk_type = entry.get("risk_type")
    if risk_type is None:
        return [f"{where}.risk_type: every reason group needs an official risk type"]
    if risk_type not in RISK_TYPES:
        return [f"{where}.risk_type: {risk_type!r} is not one of {', '.join(RISK_TYPES)}"]
    return []


def _section_problems(glossary: Glossary) -> list[str]:
    """Missing texts of the rule's triggers, events, measures, gaps and report words."""
    problems = []
    langs = glossary.languages
    for section, codes in (
        ("rules", RULE_CODES),
        ("events", EVENT_TYPES),
        ("measures", SUGGESTIONS),
        ("measure_advice", SUGGESTIONS),
        ("gaps", tuple(GAPS)),
        ("risk_types", RISK_TYPES),
        ("categories", CATEGORIES),
    ):
        entries = getattr(glossary, section)
        for code in codes:
            for lang in langs:
                if not (entries.get(code) or {}).get(lang):
                    problems.append(f"{section}.{code}: no {lang} text")
    for code, entry in glossary.rules.items():
        for lang in langs:
            problems += _placeholder_problems(f"rules.{code}.{lang}", entry.get(lang, ""))
    for key, entry in glossary.labels.items():
        for lang in langs:
            if not (entry or {}).get(lang):
                problems.append(f"labels.{key}: no {lang} text")
    return problems


def _stray_keys(where: str, node: Any, langs: tuple[str, ...]) -> list[str]:
    """Keys beside the languages of a text (``{en: Few earners, many dependants}`` in YAML's
    flow style splits at the comma: the text must be quoted)."""
    if not isinstance(node, Mapping):
        return []
    if any(lang in node for lang in langs):
        stray = [str(key) for key in node if key not in langs]
        return [
            f"{where}: {key!r} is not a language; quote a text that holds a comma" for key in stray
        ]
    return [
        problem
        for key, child in node.items()
        for problem in _stray_keys(f"{where}.{key}", child, langs)
    ]


def _placeholder_problems(where: str, template: str) -> list[str]:
    try:
        names = template_fields(template)
    except ValueError as err:
        return [f"{where}: {err}"]
    return [f"{where}: unknown placeholder {{{name}}}" for name in names if name not in FACT_NAMES]
