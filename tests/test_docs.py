"""The documents agree with the code: the data contract's column tables with the schema the
validator enforces (every table the document has, whichever they are), the scores file's
columns with the scores file, and the config reference with the config models."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined, to_jsonable_python

from earlywarn.config import Config
from earlywarn.data.columns import PERSONAL_COLUMNS
from earlywarn.data.contract import CONTRACT, ColumnSpec, Kind
from earlywarn.data.mapping import ALLOWED_CODES
from earlywarn.scoring.scores_file import REQUIRED_SCORE_COLUMNS

DOCS = Path(__file__).resolve().parents[1] / "docs"
KINDS = {
    "string": Kind.TEXT,
    "int": Kind.INT,
    "float": Kind.FLOAT,
    "bool": Kind.BOOL,
    "date": Kind.DATE,
}


def markdown_tables(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(the heading above it, header cells, rows of cells) for every table in ``text``."""
    found, heading, lines = [], "", text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            found.append((heading, header, rows))
            continue
        i += 1
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def contract_doc_problems(text: str) -> list[str]:
    """Where the data contract document and ``data.contract.CONTRACT`` disagree."""
    problems: list[str] = []
    documented: dict[str, dict[str, tuple[str, str]]] = {}
    for heading, header, rows in markdown_tables(text):
        if header[:2] != ["column", "type"]:
            continue
        table = heading.split()[0].strip("`")
        columns = documented.setdefault(table, {})
        for name_cell, kind, *rule in rows:
            for name in (n.strip().strip("`") for n in name_cell.split(",")):
                columns[name] = (kind, rule[0] if rule else "")
    for table, columns in documented.items():
        if table not in CONTRACT:
            problems.append(f"{table}: documented, but the schema has no such table")
            continue
        specs = {c: s for c, s in CONTRACT[table].items() if c not in PERSONAL_COLUMNS}
        for name in sorted(set(specs) - set(columns)):
            problems.append(f"{table}.{name}: in the schema, not in the document's table")
        for name in sorted(set(columns) - set(specs)):
            problems.append(f"{table}.{name}: in the document, not in the schema")
        for name in sorted(set(columns) & set(specs)):
            problems += _column_problems(f"{table}.{name}", *columns[name], specs[name])
    for table in sorted(set(CONTRACT) - set(documented)):  # described in prose (lines)
        for name in (table, *CONTRACT[table]):
            if f"`{name}`" not in text:
                problems.append(f"{table}: `{name}` is not in the document")
    for name in PERSONAL_COLUMNS:
        if f"`{name}`" not in text:
            problems.append(f"personal column `{name}` is not in the document")
    return problems


def _column_problems(where: str, kind: str, rule: str, spec: ColumnSpec) -> list[str]:
    problems = []
    if KINDS.get(kind) is not spec.kind:
        problems.append(f"{where}: documented as {kind}, the schema reads {spec.kind.value}")
    if bool(re.search(r"\bnull\b", rule)) != spec.nullable:
        allowed = "allows" if spec.nullable else "refuses"
        problems.append(f"{where}: the schema {allowed} nulls, the document says {rule!r}")
    column = where.split(".")[1]
    if column in ALLOWED_CODES:
        listed = rule.split("one of:")[1].split(",") if "one of:" in rule else []
        codes = {code.strip() for code in listed} or set(re.findall(r"`([^`]+)`", rule))
        if codes != set(ALLOWED_CODES[column]):
            problems.append(
                f"{where}: documents {sorted(codes)}, the schema allows "
                f"{sorted(ALLOWED_CODES[column])}"
            )
    return problems


def scores_doc_columns(text: str) -> list[str]:
    body = text.split("## The scores file", 1)[1]
    ((_, _, rows),) = [t for t in markdown_tables(body) if t[1][:2] == ["column", "meaning"]]
    return [row[0] for row in rows]


def shown_default(field) -> str:
    value = field.default if field.default is not PydanticUndefined else field.default_factory()
    value = to_jsonable_python(value)
    return value if isinstance(value, str) else json.dumps(value)


def config_doc_problems(text: str) -> list[str]:
    """Where docs/config.md and the config models disagree: sections, fields, defaults."""
    problems: list[str] = []
    documented: dict[str, dict[str, str]] = {}
    for heading, header, rows in markdown_tables(text):
        if header[:3] == ["field", "type", "default"]:
            section = heading.strip("`")
            documented[section] = {row[0]: row[2].strip("`") for row in rows}
    for section, info in Config.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        fields = documented.get(section)
        if fields is None:
            problems.append(f"section {section}: not documented")
            continue
        for name in sorted(set(model.model_fields) - set(fields)):
            problems.append(f"{section}.{name}: not documented")
        for name in sorted(set(fields) - set(model.model_fields)):
            problems.append(f"{section}.{name}: documented, but no such field")
        for name in sorted(set(fields) & set(model.model_fields)):
            if fields[name] != (default := shown_default(model.model_fields[name])):
                problems.append(f"{section}.{name}: default {default}, documented {fields[name]}")
    for section in sorted(set(documented) - set(Config.model_fields)):
        problems.append(f"section {section}: documented, but no such section")
    return problems


def test_the_data_contract_document_matches_the_schema():
    text = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    assert contract_doc_problems(text) == []


def test_the_contract_check_finds_a_document_that_drifted():
    text = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    drifted = (
        text.replace("| cost | float |", "| cost | int |")
        .replace("| household_size | int | >= 1", "| household_size | int | null allowed; >= 1")
        .replace(", epidemic_lockdown, other |", ", epidemic_lockdown |")
        .replace("| amount | float | yuan per year; null allowed |\n", "")
        + "\n### flights\n| column | type | rule |\n|---|---|---|\n| seat | string | |\n"
    )
    problems = contract_doc_problems(drifted)
    assert "events.cost: documented as int, the schema reads float" in problems
    assert any(p.startswith("household_years.household_size: the schema refuses") for p in problems)
    assert any(p.startswith("events.event_type: documents") for p in problems)
    assert "assistance.amount: in the schema, not in the document's table" in problems
    assert "flights: documented, but the schema has no such table" in problems


def test_the_scores_file_columns_of_the_contract_are_the_required_ones():
    text = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    assert scores_doc_columns(text) == list(REQUIRED_SCORE_COLUMNS)


def test_the_config_reference_lists_every_field_with_its_default():
    assert config_doc_problems((DOCS / "config.md").read_text(encoding="utf-8")) == []


def test_the_config_check_finds_a_missing_field_and_a_wrong_default():
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    drifted = re.sub(r"\| chunk_size \|.*\n", "", text).replace("| `30` | finished", "| `50` |")
    assert sorted(config_doc_problems(drifted)) == [
        "score.chunk_size: not documented",
        "tune.n_trials: default 30, documented 50",
    ]
