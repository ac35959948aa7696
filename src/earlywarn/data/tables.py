"""The input tables as one typed object that every stage takes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from earlywarn.data.contract import empty_table
from earlywarn.data.monitoring import MONITORING, VISITS


@dataclass(frozen=True)
class Tables:
    """A data directory in memory, already validated against the data contract.

    ``households`` has no personal columns: those live in ``personal`` (indexed by
    ``household_id``) and only reports read them. Absent optional tables are empty frames with
    the contract's columns; ``lines`` holds only what the data directory overrides (the default
    lines live in code).

    Canonical dtypes after reading (stages may rely on them): ids and text ``str``; years and
    member counts ``Int64`` (nullable) except ``household_years.year`` and ``household_size``
    which are ``int64``; money ``float64`` (NaN = unknown); flags ``boolean`` (nullable);
    ``events.date``, ``assistance.start_date``/``end_date`` ``datetime64`` (NaT = open end);
    ``lines``: ``year`` int64, ``line`` float64, ``county`` str or null; ``places`` (optional,
    one row per village): county, village, county_name, village_name, all str (names may be
    null; a ``Tables`` built in code may leave it out, no columns); ``monitoring``
    (``entered``/``exited`` datetime64, NaT = still monitored) and ``visits`` (``visit_date``),
    codes and code lists ``str`` (see :mod:`earlywarn.data.monitoring`).
    """

    households: pd.DataFrame
    household_years: pd.DataFrame
    events: pd.DataFrame
    assistance: pd.DataFrame
    lines: pd.DataFrame
    personal: pd.DataFrame = field(default_factory=pd.DataFrame)
    places: pd.DataFrame = field(default_factory=pd.DataFrame)
    monitoring: pd.DataFrame = field(default_factory=lambda: empty_table(MONITORING))
    visits: pd.DataFrame = field(default_factory=lambda: empty_table(VISITS))
