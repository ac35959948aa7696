"""The current rule the model is meant to replace, on the raw tables.

A household is flagged at as-of date d (target year Y) when either trigger fires:

- **income near the line**: its last known per-capita net income (latest survey round before
  Y) is below the line of Y times (1 + ``income_margin``); while Y's line is not yet set,
  the latest earlier line stands in (``line_year`` says which);
- **serious shock**: an event of a serious type (``serious_shocks``) dated in the
  ``shock_window_months`` before d (strictly before d), with a cost of at least
  ``min_shock_cost`` (an unknown cost counts only when that minimum is 0).

Only what is known at d is used, like the features. The frame says which trigger fired so
reports can show the rule's reasons beside the model's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from earlywarn.config import RuleConfig
from earlywarn.data.columns import COST, COUNTY, DATE, EVENT_TYPE, HOUSEHOLD_ID, YEAR
from earlywarn.data.tables import Tables
from earlywarn.features.labels import per_capita_net_income, population, poverty_lines

log = logging.getLogger(__name__)

LAST_ROUND_YEAR = "last_round_year"
LAST_INCOME = "last_income_per_capita"
RULE_LINE = "line_target_year"
LINE_YEAR = "line_year"
INCOME_NEAR_LINE = "income_near_line"
SERIOUS_SHOCK = "serious_shock"
SHOCK_TYPES = "serious_shock_types"
N_SERIOUS_SHOCKS = "n_serious_shocks"
RULE_FLAGGED = "rule_flagged"


def rule_flags(
    tables: Tables,
    as_of: pd.Timestamp | str,
    households: Iterable[str] | None = None,
    *,
    cfg: RuleConfig | None = None,
) -> pd.DataFrame:
    """One row per household (index household_id, in the order given; default: the
    population at ``as_of``): the rule's inputs, each trigger and ``rule_flagged``.

    Columns: last_round_year, last_income_per_capita and line_target_year (yuan per person
    per year), line_year (the year that line was set for), income_near_line,
    n_serious_shocks, serious_shock_types (comma-separated), serious_shock, rule_flagged.
    """
    cfg = cfg or RuleConfig()
    as_of = pd.Timestamp(as_of)
    target_year = as_of.year
    ids = (
        population(tables, as_of)
        if households is None
        else pd.Index(list(households), name=HOUSEHOLD_ID)
    ).astype(str)

    years = tables.household_years
    closed = years[years[YEAR].astype("int64") < target_year]
    last = closed.sort_values(YEAR, kind="mergesort").drop_duplicates(HOUSEHOLD_ID, keep="last")
    last_income = pd.Series(
        per_capita_net_income(last).to_numpy(), index=last[HOUSEHOLD_ID].astype(str).to_numpy()
    )
    last_year = pd.Series(last[YEAR].to_numpy(), index=last_income.index)

    county = tables.households.set_index(tables.households[HOUSEHOLD_ID].astype(str))[COUNTY]
    county = county.reindex(ids).astype("string").fillna("")
    county_codes, counties = pd.factorize(county)
    line, line_year = poverty_lines(tables).latest(county_codes, list(counties), target_year)
    if len(line_year) and (line_year < target_year).any():
        log.info("rule: no poverty line set for %d yet; using the latest earlier line", target_year)

    frame = pd.DataFrame(index=ids)
    frame[LAST_ROUND_YEAR] = pd.array(
        last_year.reindex(ids).to_numpy(dtype=float), dtype="Float64"
    ).astype("Int64")
    frame[LAST_INCOME] = last_income.reindex(ids).to_numpy(dtype=float)
    frame[RULE_LINE] = line.astype(float)
    frame[LINE_YEAR] = line_year.astype("int64")
    with np.errstate(invalid="ignore"):
        frame[INCOME_NEAR_LINE] = (
            (frame[LAST_INCOME] < frame[RULE_LINE] * (1 + cfg.income_margin))
            .fillna(False)
            .astype(bool)
        )

    shocks = serious_shocks(tables.events, as_of, cfg)
    by_household = shocks.groupby(shocks[HOUSEHOLD_ID].astype(str))[EVENT_TYPE]
    frame[N_SERIOUS_SHOCKS] = by_household.size().reindex(ids, fill_value=0).astype("int64")
    types = by_household.agg(lambda kinds: ",".join(sorted(set(map(str, kinds)))))
    frame[SHOCK_TYPES] = types.reindex(ids).fillna("").astype(str)
    frame[SERIOUS_SHOCK] = frame[N_SERIOUS_SHOCKS] > 0
    frame[RULE_FLAGGED] = frame[INCOME_NEAR_LINE] | frame[SERIOUS_SHOCK]
    frame.index.name = HOUSEHOLD_ID
    return frame


def serious_shocks(events: pd.DataFrame, as_of: pd.Timestamp, cfg: RuleConfig) -> pd.DataFrame:
    """Events of a serious type in the window before ``as_of`` that meet the cost minimum."""
    if events is None or events.empty:
        return pd.DataFrame(
            {HOUSEHOLD_ID: pd.Series(dtype="str"), EVENT_TYPE: pd.Series(dtype="str")}
        )
    start = as_of - pd.DateOffset(months=cfg.shock_window_months)
    dates = pd.to_datetime(events[DATE])
    cost = pd.to_numeric(events[COST], errors="coerce")
    cost_ok = (cost >= cfg.min_shock_cost) | (cost.isna() & (cfg.min_shock_cost == 0))
    keep = (
        (dates < as_of)
        & (dates >= start)
        & events[EVENT_TYPE].astype(str).isin(cfg.serious_shocks)
        & cost_ok
    )
    return events.loc[keep.fillna(False).to_numpy(), [HOUSEHOLD_ID, EVENT_TYPE]]
