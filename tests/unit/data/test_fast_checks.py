"""The fast paths of validation give what the general paths give: ids looked up by binary
search or by hash, keys compared in order or by hash, clean text passed through or parsed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.contract import CONTRACT, _as_text, parse_column
from earlywarn.data.cross_table import HouseholdKeys, duplicated_keys, table_context

TODAY = pd.Timestamp("2026-06-01")


def households(ids: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": pd.Series(ids, dtype="str"),
            "county": pd.Series([f"C{i % 2}" for i in range(len(ids))], dtype="str"),
        }
    )


@pytest.mark.parametrize(
    "rounds",
    [
        ["H01", "H01", "H02", "H09", "H09", "H03", "H01", None, "H02"],  # unknown, same width
        ["H01", "H1", "H02", "H0003", None, None, "H03"],  # other widths
        [],
    ],
)
def test_ids_found_by_binary_search_and_by_hash_agree(rounds):
    context = table_context({"households": households(["H01", "H02", "H03"])}, TODAY)
    assert context.sorted_ids is not None  # one width, ascending: binary search
    frame = pd.DataFrame({"household_id": pd.Series(rounds, dtype="str")})
    fast = HouseholdKeys(frame, context)
    hashed = HouseholdKeys(frame, replace(context, sorted_ids=None))
    expected = [{"H01": 0, "H02": 1, "H03": 2}.get(i, -1) if i else -1 for i in rounds]
    assert fast.positions.tolist() == hashed.positions.tolist() == expected
    assert fast.known.tolist() == [i is None or i in {"H01", "H02", "H03"} for i in rounds]


def test_households_out_of_order_or_repeated_are_looked_up_by_hash():
    for ids in (["H02", "H01"], ["H01", "H01", "H02"]):
        context = table_context({"households": households(ids)}, TODAY)
        assert context.sorted_ids is None
        frame = pd.DataFrame({"household_id": pd.Series(["H02", "H01", "H05"], dtype="str")})
        assert HouseholdKeys(frame, context).positions.tolist() == [
            ids.index("H02"),
            ids.index("H01"),
            -1,
        ]


@pytest.mark.parametrize(
    ("ids", "years", "expected"),
    [
        (["H01", "H01", "H02"], [2020.0, 2021.0, 2020.0], [False, False, False]),  # in order
        (["H02", "H01", "H02"], [2020.0, 2020.0, 2020.0], [True, False, True]),  # out of order
        (["H01", "H01", None], [2020.0, np.nan, 2020.0], [False, False, False]),  # empty parts
        (["H01", "H09", "H09"], [2020.0, 2021.0, 2021.0], [False, True, True]),  # unknown id
    ],
)
def test_duplicated_keys_as_codes_match_pandas(ids, years, expected):
    context = table_context({"households": households(["H01", "H02"])}, TODAY)
    frame = pd.DataFrame({"household_id": pd.Series(ids, dtype="str"), "year": years})
    keys = HouseholdKeys(frame, context)
    pandas = (
        frame.notna().all(axis=1) & frame.duplicated(["household_id", "year"], keep=False)
    ).tolist()
    assert duplicated_keys(frame, ("household_id", "year"), keys).tolist() == expected == pandas
    assert duplicated_keys(frame, ("household_id", "year")).tolist() == expected


@pytest.mark.parametrize(
    "values",
    [
        ["H01", "H02"],
        ["H01", None, "H02"],
        [" H01", "H02 "],
        ["H01", ""],
        ["H01", "\u3000H02", "户01"],
        ["H01\t", "\x1cH02"],
        [None, None],
    ],
)
def test_clean_text_passes_through_and_other_text_is_parsed(values):
    raw = pd.Series(values, dtype="str")
    parsed = parse_column(raw, CONTRACT["households"]["household_id"]).values
    legacy = _as_text(raw)
    legacy = legacy.mask(legacy == "")
    pd.testing.assert_series_equal(parsed, legacy, check_names=False)


def test_integer_columns_keep_their_dtype_and_report_like_floats():
    spec = CONTRACT["households"]["head_birth_year"]
    parsed = parse_column(pd.Series([1960, None, 1850], dtype="Int64"), spec)
    assert str(parsed.values.dtype) == "Int64" and not parsed.unreadable.any()
    as_floats = parse_column(pd.Series([1960.0, np.nan, 1960.5, np.inf]), spec)
    assert as_floats.unreadable.tolist() == [False, False, True, True]


def test_whole_numbers_far_apart_or_empty_are_keys_too():
    frame = pd.DataFrame(
        {
            "year": pd.array([2020, 2**62, -(2**62), 2**62, None, 2020], dtype="Int64"),
            "line": pd.array([1, 2, 3, 4, 5, 6], dtype="Int64"),
        }
    )
    assert duplicated_keys(frame, ("year",)).tolist() == [True, True, False, True, False, True]
    clean = frame.dropna().astype({"year": "int64"}).reset_index(drop=True)
    assert duplicated_keys(clean, ("year",)).tolist() == [True, True, False, True, True]
