"""Household histories as arrays: positions of ids and closed survey rounds, latest first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID, YEAR
from earlywarn.features.rounds import closed_rounds, group_starts, positions_in


def test_positions_in_gives_minus_one_for_unknown_and_null_values():
    values = pd.Series(["H2", "H9", None, "H1", "H2"], dtype="str")
    found = positions_in(values, pd.Index(["H1", "H2", "H3"]))
    assert found.tolist() == [1, -1, -1, 0, 1]
    assert positions_in(pd.Series([], dtype="str"), ["H1"]).tolist() == []


def test_positions_in_looks_up_long_runs_once_and_gives_the_same_answer():
    rng = np.random.default_rng(0)
    allowed = pd.Index([f"H{i:05d}" for i in range(500)])
    ids = np.repeat(rng.choice(np.r_[allowed.to_numpy(), ["NOPE"]], 40_000), 3)  # 120,000 rows
    values = pd.Series(ids, dtype="str")
    expected = pd.Index(allowed).get_indexer(values)
    assert (positions_in(values, allowed) == expected).all()


def test_group_starts_marks_each_run():
    assert group_starts(np.array([0, 0, 1, 3, 3, 3])).tolist() == [0, 2, 3]
    assert group_starts(np.array([], dtype=np.int64)).tolist() == []


def _household_years() -> tuple[pd.DataFrame, np.ndarray]:
    years = pd.DataFrame(
        {
            HOUSEHOLD_ID: ["A", "B", "A", "A", "B", "X"],
            YEAR: [2021, 2023, 2023, 2024, 2020, 2022],
            "wage_income": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )
    codes = positions_in(years[HOUSEHOLD_ID], pd.Index(["A", "B", "C"]))
    return years, codes


def test_closed_rounds_rank_latest_first_and_skip_later_years_and_unknown_households():
    years, codes = _household_years()
    rounds = closed_rounds(years, codes, n_households=3, last_year=2023)
    # A: 2023 (rank 0), 2021 (rank 1): a skipped year is not a round; 2024 not closed yet.
    # B: 2023, 2020. X is no household of the table; C has no round.
    assert list(zip(rounds.code, rounds.year, rounds.rank, strict=True)) == [
        (0, 2023, 0),
        (0, 2021, 1),
        (1, 2023, 0),
        (1, 2020, 1),
    ]
    assert years[YEAR].to_numpy()[rounds.rows].tolist() == rounds.year.tolist()


def test_round_matrix_has_one_row_per_household_and_nan_where_no_round():
    years, codes = _household_years()
    rounds = closed_rounds(years, codes, n_households=3, last_year=2023)
    matrix = rounds.column_matrix(years["wage_income"], depth=3)
    expected = np.array([[30.0, 10.0, np.nan], [20.0, 50.0, np.nan], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(matrix, expected)
    values = years["wage_income"].to_numpy()[rounds.rows]
    np.testing.assert_array_equal(rounds.matrix(values, depth=1), expected[:, :1])
