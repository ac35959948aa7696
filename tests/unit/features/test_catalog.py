"""The feature catalog: complete, consistent, bilingual, hashed, and the docs made from it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from earlywarn.data.columns import EVENT_TYPES, MEASURES, PERSONAL_COLUMNS
from earlywarn.features import catalog
from earlywarn.features.build import build_features
from earlywarn.features.catalog import (
    FEATURES,
    REASON_GROUPS,
    catalog_frame,
    catalog_hash,
    feature_spec,
    render_catalog_markdown,
)
from feature_frames import random_tables

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_catalog_covers_exactly_the_built_features():
    tables = random_tables(n_households=12, seed=1)
    features = build_features(
        tables, as_of="2024-02-01", households=tables.households["household_id"]
    )
    assert set(features.columns) == {spec.name for spec in FEATURES}
    assert list(features.columns) == [spec.name for spec in FEATURES]


def test_every_feature_is_described_in_both_languages_with_a_known_group():
    names = [spec.name for spec in FEATURES]
    assert len(names) == len(set(names))
    for spec in FEATURES:
        assert spec.reason_group in REASON_GROUPS, spec.name
        assert spec.description_en.strip() and spec.unit.strip(), spec.name
        assert CJK.search(spec.description_zh), spec.name
        assert spec.name not in PERSONAL_COLUMNS
    for group in REASON_GROUPS.values():
        assert group.name_en and CJK.search(group.name_zh)
    assert set(catalog.EVENT_LABELS) == set(EVENT_TYPES)
    assert set(catalog.MEASURE_LABELS) == set(MEASURES)
    assert feature_spec("n_illness_events_12m").reason_group == "illness_medical"


def test_catalog_frame_has_one_row_per_feature():
    frame = catalog_frame()
    assert len(frame) == len(FEATURES)
    assert {
        "name",
        "description_en",
        "description_zh",
        "unit",
        "reason_group",
        "reason_group_en",
        "reason_group_zh",
    } <= set(frame.columns)


def test_catalog_hash_is_stable_and_changes_with_names_units_and_groups(monkeypatch):
    assert catalog_hash() == catalog_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", catalog_hash())
    original = catalog_hash()
    for change in ({"unit": "fen"}, {"reason_group": "place"}, {"name": "renamed"}):
        monkeypatch.setattr(
            catalog, "FEATURES", (*FEATURES[:2], replace(FEATURES[2], **change), *FEATURES[3:])
        )
        assert catalog.catalog_hash() != original
    monkeypatch.setattr(
        catalog,
        "FEATURES",
        tuple(replace(spec, description_en=spec.description_en + " ") for spec in FEATURES),
    )
    assert catalog.catalog_hash() == original  # wording is not compatibility


def test_docs_are_generated_from_the_catalog_and_up_to_date():
    text = render_catalog_markdown()
    for spec in FEATURES:
        assert f"`{spec.name}`" in text
    docs = ROOT / "docs" / "features.md"
    if not docs.exists():
        pytest.skip("docs/features.md not generated yet (earlywarn catalog --out ...)")
    assert docs.read_text(encoding="utf-8") == text + "\n", (
        "docs/features.md is stale: run `earlywarn catalog --out docs/features.md`"
    )
