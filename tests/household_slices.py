"""Test tables cut into slices of households, and frames compared bit for bit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.tables import Tables


def households_of(tables: Tables, ids: np.ndarray) -> Tables:
    """The tables cut to some households' rows (every table keyed by household)."""
    keep = set(ids.tolist())
    cut = {
        name: frame[frame[HOUSEHOLD_ID].isin(keep)].reset_index(drop=True)
        for name in ("households", "household_years", "events", "assistance")
        if HOUSEHOLD_ID in (frame := getattr(tables, name)).columns
    }
    return replace(tables, **cut)


def split_of(tables: Tables, pieces: list[int]) -> list[np.ndarray]:
    """The household ids cut into pieces by the piece number drawn for each household."""
    ids = tables.households[HOUSEHOLD_ID].to_numpy(dtype=object)
    piece = np.resize(np.asarray(pieces), len(ids))
    return [ids[piece == p] for p in np.unique(piece)]


def assert_bitwise_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    same = np.array_equal(actual.to_numpy(), expected.to_numpy(), equal_nan=True)
    assert same, "the rates differ in some bit"
