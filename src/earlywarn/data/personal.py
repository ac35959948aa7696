"""Personal columns (``head_name``, ``id_number``, ``phone``, ``address``) kept apart.

They are split off households as soon as the tables are read, into ``Tables.personal``, so
no stage, feature, log or tracking run sees them; only reports read them back (ID masked),
and only writing a data directory joins them to households again.
"""

from __future__ import annotations

import pandas as pd

from earlywarn.data.columns import (
    ASSISTANCE,
    EVENTS,
    HOUSEHOLD_ID,
    HOUSEHOLD_YEARS,
    HOUSEHOLDS,
    LINES,
    PERSONAL_COLUMNS,
    PLACES,
)
from earlywarn.data.monitoring import MONITORING, VISITS
from earlywarn.data.tables import Tables


def split_personal(households: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``households`` without personal columns, and those columns indexed by household_id
    (no columns but the index if the file had none)."""
    personal_columns = [c for c in PERSONAL_COLUMNS if c in households.columns]
    personal = households[[HOUSEHOLD_ID, *personal_columns]].set_index(HOUSEHOLD_ID)
    return households.drop(columns=personal_columns), personal


def contract_frames(tables: Tables) -> dict[str, pd.DataFrame]:
    """The tables as a data directory holds them: personal columns back in households."""
    households = tables.households
    if len(tables.personal.columns):
        households = households.merge(
            tables.personal, left_on=HOUSEHOLD_ID, right_index=True, how="left"
        )
    frames = {
        HOUSEHOLDS: households,
        HOUSEHOLD_YEARS: tables.household_years,
        EVENTS: tables.events,
        ASSISTANCE: tables.assistance,
        LINES: tables.lines,
        **({PLACES: tables.places} if len(tables.places) else {}),  # absent = none
    }
    # the monitoring cycle's tables are written only when there is something in them
    for table, frame in ((MONITORING, tables.monitoring), (VISITS, tables.visits)):
        if len(frame):
            frames[table] = frame
    return frames
