"""Monitoring status as of a date: who is a monitoring subject, who was verified not at risk.

The as-of rule of the contract holds here as everywhere: at d, a monitoring spell is known
once it was ``entered`` before d and its exit once ``exited`` is before d (an exit dated on
or after d has not happened yet); a visit is known once ``visit_date`` is before d; events
likewise. Nothing dated on or after d changes any status.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pandas as pd

from earlywarn.data.columns import DATE, HOUSEHOLD_ID
from earlywarn.data.monitoring import (
    CATEGORY,
    CONFIRMED,
    ENTERED,
    EXIT_REASON,
    EXITED,
    NOT_AT_RISK,
    OUTCOME,
    UNREACHABLE,
    VISIT_DATE,
)
from earlywarn.data.tables import Tables

# status values
NOT_MONITORED: Final = "not_monitored"
MONITORED: Final = "monitored"
EXITED_STATUS: Final = "exited"
STATUSES: Final = (NOT_MONITORED, MONITORED, EXITED_STATUS)

# status columns (the scores file carries them; docs/data-contract.md, "The scores file")
MONITORING_STATUS: Final = "monitoring_status"
MONITORED_SINCE: Final = "monitored_since"
MONITORING_CATEGORY: Final = "monitoring_category"
MONITORING_EXITED_ON: Final = "monitoring_exited_on"
VERIFIED_NOT_AT_RISK_ON: Final = "verified_not_at_risk_on"
_SERIOUSNESS: Final = {UNREACHABLE: 0, NOT_AT_RISK: 1, CONFIRMED: 2}
STATUS_COLUMNS: Final = (
    MONITORING_STATUS,
    MONITORED_SINCE,
    MONITORING_CATEGORY,
    MONITORING_EXITED_ON,
    VERIFIED_NOT_AT_RISK_ON,
)


def known_monitoring(monitoring: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The spells known at ``as_of``: entered before it; an exit on or after it is not yet
    known (``exited`` and ``exit_reason`` null: still monitored at ``as_of``)."""
    known = monitoring[monitoring[ENTERED] < as_of]
    later_exit = (known[EXITED] >= as_of).fillna(False).astype(bool)
    known = known.copy()
    known.loc[later_exit, EXITED] = pd.NaT
    known.loc[later_exit, EXIT_REASON] = pd.NA
    return known


def known_visits(visits: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The visits made before ``as_of``."""
    return visits[visits[VISIT_DATE] < as_of]


def monitoring_status(
    tables: Tables,
    as_of: pd.Timestamp | str,
    households: Iterable[str],
    *,
    verified_months: int = 6,
) -> pd.DataFrame:
    """One row per household (index household_id, in the order given): its monitoring status
    at ``as_of`` from what is known then.

    Columns: ``monitoring_status`` (not_monitored / monitored / exited), ``monitored_since``
    (entry date of the running spell), ``monitoring_category`` (of the running or last spell),
    ``monitoring_exited_on`` (exit date of the last spell, when it has exited), and
    ``verified_not_at_risk_on``: the date of the last visit when it found the household not at
    risk less than ``verified_months`` months before ``as_of`` and no event has been reported
    since that visit (a new shock re-opens the question); NaT otherwise.
    """
    as_of = pd.Timestamp(as_of)
    ids = pd.Index([str(h) for h in households], name=HOUSEHOLD_ID)
    spells = known_monitoring(tables.monitoring, as_of)
    spells = spells.sort_values([HOUSEHOLD_ID, ENTERED, EXITED], kind="stable")
    last = spells.drop_duplicates(HOUSEHOLD_ID, keep="last").set_index(HOUSEHOLD_ID)
    last = last.reindex(ids)
    entered, exited = last[ENTERED], last[EXITED]
    status = pd.Series(NOT_MONITORED, index=ids, dtype="str")
    status[entered.notna() & exited.isna()] = MONITORED
    status[exited.notna()] = EXITED_STATUS
    frame = pd.DataFrame(
        {
            MONITORING_STATUS: status,
            MONITORED_SINCE: entered.where(exited.isna()).astype("datetime64[us]"),
            MONITORING_CATEGORY: last[CATEGORY].astype("str"),
            MONITORING_EXITED_ON: exited.astype("datetime64[us]"),
            VERIFIED_NOT_AT_RISK_ON: _verified_not_at_risk(tables, as_of, ids, verified_months),
        },
        index=ids,
    )
    return frame


def _verified_not_at_risk(
    tables: Tables, as_of: pd.Timestamp, ids: pd.Index, months: int
) -> pd.Series:
    """The last visit's date where it found no risk within ``months`` and no event since."""
    visits = known_visits(tables.visits, as_of)
    # on one day, the most serious finding stands: confirmed over not at risk over unreachable
    seriousness = visits[OUTCOME].map(_SERIOUSNESS)
    visits = visits.assign(_seriousness=seriousness).sort_values(
        [HOUSEHOLD_ID, VISIT_DATE, "_seriousness"], kind="stable"
    )
    last = visits.drop_duplicates(HOUSEHOLD_ID, keep="last").set_index(HOUSEHOLD_ID)
    last = last.reindex(ids)
    recent = (last[OUTCOME] == NOT_AT_RISK).fillna(False) & (
        last[VISIT_DATE] >= as_of - pd.DateOffset(months=months)
    ).fillna(False)
    events = tables.events[tables.events[DATE] < as_of]
    latest_event = events.groupby(HOUSEHOLD_ID)[DATE].max().reindex(ids)
    shocked = (latest_event > last[VISIT_DATE]).fillna(False)
    return last[VISIT_DATE].where(recent & ~shocked).astype("datetime64[us]")
