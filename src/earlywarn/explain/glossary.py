"""The reason glossary: every word reasons and reports say, in every language, loaded and checked.

The glossary (``resources/reason_glossary.yaml``, or the one a config names) is data: per reason
group a name, text templates in preference order (the first whose placeholders all have a
value is used; the last has none), suggested measures and advice; the current rule's trigger
texts; names of events, measures and living-condition gaps; and the words of the reports.
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
from earlywarn.explain.household_facts import FACT_NAMES
from earlywarn.explain.round_facts import GAPS
from earlywarn.resources import RESOURCES

LANGUAGES = ("zh-CN", "en")
DEFAULT_GLOSSARY = RESOURCES / "reason_glossary.yaml"
RULE_CODES = ("income_below_line", "income_near_line", "serious_shock")
"""The current rule's triggers that have a text (``rules`` section)."""


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

    def group(self, code: str) -> Mapping[str, Any]:
        """A reason group's entry; ``other`` for a group the glossary does not list."""
        return self.groups.get(code) or self.groups["other"]

    def group_name(self, code: str, lang: str) -> str:
        return str(self.group(code)["name"][lang])

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
    for section in ("groups", "rules", "events", "measures", "gaps", "labels"):
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
        if measure not in MEASURES:
            problems.append(f"groups.{code}.measures: {measure!r} is not a measure code")
    return problems


def _section_problems(glossary: Glossary) -> list[str]:
    """Missing texts of the rule's triggers, events, measures, gaps and report words."""
    problems = []
    langs = glossary.languages
    for section, codes in (
        ("rules", RULE_CODES),
        ("events", EVENT_TYPES),
        ("measures", MEASURES),
        ("gaps", tuple(GAPS)),
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
