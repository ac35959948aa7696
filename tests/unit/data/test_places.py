"""The optional places table: the names of county and village codes, checked like the others."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from earlywarn.data.schema import tables_from_frames, validate_tables

TODAY = date(2026, 6, 1)
VALID_DIR = Path(__file__).parents[2] / "data" / "contract_min"
TABLE_NAMES = ("households", "household_years", "events", "assistance", "lines")


def _raw() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(VALID_DIR / f"{name}.csv", dtype="str") for name in TABLE_NAMES}


def _places(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    villages = raw["households"][["county", "village"]].drop_duplicates()
    return villages.assign(
        county_name="泸西县", village_name=[f"第{n}村" for n in range(1, len(villages) + 1)]
    )


def test_places_are_optional_and_read_with_their_names():
    raw = _raw()
    assert validate_tables(raw, today=TODAY) == []
    without = tables_from_frames(raw, today=TODAY)
    assert list(without.places.columns) == ["county", "village", "county_name", "village_name"]
    assert without.places.empty
    places = _places(raw)
    with_names = tables_from_frames({**raw, "places": places}, today=TODAY)
    assert list(with_names.places["village_name"]) == list(places["village_name"])


def test_a_village_named_twice_is_reported():
    raw = _raw()
    places = _places(raw)
    twice = pd.concat([places, places.iloc[:1]], ignore_index=True)
    text = "\n".join(map(str, validate_tables({**raw, "places": twice}, today=TODAY)))
    assert "places: (county, village) duplicated" in text
    blank = places.assign(village=pd.Series([None] * len(places), dtype="object"))
    text = "\n".join(map(str, validate_tables({**raw, "places": blank}, today=TODAY)))
    assert "places.village" in text


def test_places_are_written_and_read_back(tmp_path):
    from earlywarn.data.directory import write_tables
    from earlywarn.data.schema import read_tables

    raw = _raw()
    tables = tables_from_frames({**raw, "places": _places(raw)}, today=TODAY)
    again = read_tables(write_tables(tables, tmp_path / "data", fmt="csv"), today=TODAY)
    pd.testing.assert_frame_equal(again.places, tables.places)


def test_the_simulator_names_every_village_it_draws(tables):
    """The simulated data hold a places table: one row per (county, village) households live
    in, each with a county and a village name, unique within the county."""
    places = tables.places
    lived_in = set(map(tuple, tables.households[["county", "village"]].drop_duplicates().values))
    assert set(map(tuple, places[["county", "village"]].values)) == lived_in
    assert len(places) == len(lived_in)
    assert places["county_name"].str.len().gt(0).all()
    assert places["village_name"].str.len().gt(0).all()
    assert not places.duplicated(["county", "village_name"]).any()
