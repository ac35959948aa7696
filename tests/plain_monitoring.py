"""The monitoring-cycle features, household by household with plain Python (a reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.monitoring import CATEGORIES, OUTCOMES
from earlywarn.data.tables import Tables
from earlywarn.features.spec import monitoring_category_name, visit_outcome_name

_SERIOUS = {"unreachable": 0, "not_at_risk": 1, "confirmed": 2}


def _household(spells: list[tuple], visits: list[tuple], as_of: pd.Timestamp) -> dict[str, float]:
    out: dict[str, float] = {}
    known = [(entered, exited if exited < as_of else pd.NaT, c) for entered, exited, c in spells]
    known = [s for s in known if s[0] < as_of]
    running = [s for s in known if pd.isna(s[1])]
    exits = [s[1] for s in known if not pd.isna(s[1])]
    out["is_monitored"] = float(bool(running))
    latest = max((s[0] for s in running), default=None)
    out["days_in_current_monitoring_spell"] = (
        float((as_of - latest).days) if latest is not None else np.nan
    )
    out["n_monitoring_spells_entered"] = float(len(known))
    out["days_since_monitoring_exit"] = float((as_of - max(exits)).days) if exits else np.nan
    last = None
    for spell in known:  # entered last; on a tie, a running spell, else the later exit
        key = (spell[0], pd.Timestamp.max if pd.isna(spell[1]) else spell[1])
        if last is None or key >= last[0]:
            last = (key, spell[2])
    for category in CATEGORIES:
        out[monitoring_category_name(category)] = float(last is not None and last[1] == category)
    seen = [v for v in visits if v[0] < as_of and v[1] in _SERIOUS]
    final = max(seen, key=lambda v: (v[0], _SERIOUS[v[1]]), default=None)
    for outcome in OUTCOMES:
        out[visit_outcome_name(outcome)] = float(final is not None and final[1] == outcome)
    out["days_since_last_visit"] = float((as_of - final[0]).days) if final else np.nan
    return out


def plain_monitoring_features(
    tables: Tables, as_of: pd.Timestamp, households: pd.Index
) -> pd.DataFrame:
    spells: dict[str, list[tuple]] = {}
    for row in tables.monitoring.itertuples(index=False):
        spells.setdefault(row.household_id, []).append((row.entered, row.exited, row.category))
    visits: dict[str, list[tuple]] = {}
    for row in tables.visits.itertuples(index=False):
        visits.setdefault(row.household_id, []).append((row.visit_date, row.outcome))
    rows = [_household(spells.get(h, []), visits.get(h, []), as_of) for h in households]
    return pd.DataFrame(rows, index=households)
