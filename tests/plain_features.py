"""The plain per-household pandas version of ``earlywarn.features.build.build_features``.

Written the obvious way (``groupby().apply`` over each household's rounds, events and
assistance, ``polyfit`` for the trend) as the baseline the benchmark compares against, and as
an independent oracle the unit tests compare the vectorised features with. Not used in
production.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    AMOUNT,
    COST,
    COUNTY,
    DATE,
    END_DATE,
    EVENT_TYPE,
    EVENT_TYPES,
    HOUSEHOLD_ID,
    INCOME_SOURCES,
    MEASURE,
    MEASURES,
    POVERTY_EXIT_YEAR,
    START_DATE,
    VILLAGE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.features.catalog import (
    FEATURE_NAMES,
    SHOCK_WINDOWS_MONTHS,
    measure_running_name,
    shock_count_name,
    shock_days_since_name,
    shock_this_year_name,
)
from earlywarn.features.labels import per_capita_net_income, poverty_lines
from plain_monitoring import plain_monitoring_features


def _num(value: object) -> float:
    return np.nan if pd.isna(value) else float(value)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else np.nan


def _round_features(g: pd.DataFrame, target_year: int, exit_year: float) -> dict[str, float]:
    g = g.sort_values(YEAR, ascending=False)
    income = g["income"].to_numpy(dtype=float)
    ratio = income / g["line"].to_numpy(dtype=float)
    years = g[YEAR].to_numpy(dtype=float)
    poor = np.where(np.isnan(income), np.nan, income < g["line"].to_numpy(dtype=float))
    last = g.iloc[0]
    prev = g.iloc[1] if len(g) > 1 else None
    gross = sum(_num(last[name]) for name in INCOME_SOURCES)
    labor, size = _num(last["n_labor"]), _num(last["household_size"])
    migrants = _num(last["n_migrant_workers"])
    wage_share = _ratio(_num(last["wage_income"]), gross)
    per_worker = 0.0 if migrants == 0 else min(_ratio(migrants, labor), 1.0)
    first_poor = np.flatnonzero(poor == 1)
    out = {
        "net_income_per_capita_last_round_yuan": income[0],
        "income_to_line_ratio_last_round": ratio[0],
        "min_income_to_line_ratio_3_rounds": (
            np.nanmin(ratio[:3]) if (~np.isnan(ratio[:3])).any() else np.nan
        ),
        "n_rounds_since_last_poor": float(first_poor[0]) if len(first_poor) else np.nan,
        "years_since_last_round": target_year - years[0],
        "n_rounds_known": float(len(g)),
        "wage_income_share": wage_share,
        "migrant_income_share": wage_share * per_worker,
        "business_income_share": _ratio(_num(last["business_income"]), gross),
        "property_income_share": _ratio(_num(last["property_income"]), gross),
        "transfer_income_share": _ratio(_num(last["transfer_income"]), gross),
        "dependant_share": _ratio(_num(last["n_elderly"]) + _num(last["n_children"]), size),
        "workers_per_member": _ratio(labor, size),
        "household_size": size,
        "medical_expense_share_of_income": _ratio(_num(last["medical_expense"]), gross),
        "education_expense_share_of_income": _ratio(_num(last["education_expense"]), gross),
        "is_housing_safe": _num(last["housing_safe"]),
        "is_water_safe": _num(last["water_safe"]),
        "has_medical_insurance": _num(last["has_medical_insurance"]),
    }
    for name in ("n_elderly", "n_students", "n_disabled", "n_chronic_ill"):
        out[name] = _num(last[name])
    for name in (*INCOME_SOURCES, "medical_expense", "education_expense"):
        out[f"{name}_change_yuan"] = (
            _num(last[name]) - _num(prev[name]) if prev is not None else np.nan
        )
    out["net_income_per_capita_change_yuan"] = income[0] - income[1] if len(g) > 1 else np.nan
    recent, recent_years = income[:5], years[:5]
    known = ~np.isnan(recent)
    slope = cv = np.nan
    if known.sum() >= 2:
        slope = np.polyfit(recent_years[known], recent[known], 1)[0]
        mean = recent[known].mean()
        cv = recent[known].std(ddof=1) / mean if mean > 0 else np.nan
    out["income_per_capita_slope_5_rounds"] = slope
    out["income_per_capita_cv_5_rounds"] = cv
    out["n_times_poor_again_since_exit"] = (
        float(((poor == 1) & (years > exit_year)).sum()) if not np.isnan(exit_year) else np.nan
    )
    return out


def _event_features(g: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, float]:
    out: dict[str, float] = {}
    year_start = pd.Timestamp(year=as_of.year, month=1, day=1)
    for event_type in EVENT_TYPES:
        of_type = g[g[EVENT_TYPE] == event_type]
        for months in SHOCK_WINDOWS_MONTHS:
            since = as_of - pd.DateOffset(months=months)
            out[shock_count_name(event_type, months)] = float((of_type[DATE] >= since).sum())
        out[shock_days_since_name(event_type)] = (
            float((as_of - of_type[DATE].max()).days) if len(of_type) else np.nan
        )
        out[shock_this_year_name(event_type)] = float((of_type[DATE] >= year_start).sum())
    out["n_events_this_year"] = float((g[DATE] >= year_start).sum())
    last_12m = g[g[DATE] >= as_of - pd.DateOffset(months=12)]
    costs = last_12m[COST]
    out["event_cost_12m_yuan"] = np.nan if len(costs) and costs.isna().all() else float(costs.sum())
    out["n_events_unknown_cost_12m"] = float(costs.isna().sum())
    return out


def _assistance_features(g: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, float]:
    ended = g[END_DATE].notna() & (g[END_DATE] < as_of)
    running = g[~ended]
    out = {measure_running_name(m): float((running[MEASURE] == m).any()) for m in MEASURES}
    amounts = running[AMOUNT]
    out["assistance_amount_running_yuan"] = (
        np.nan if len(amounts) and amounts.isna().all() else float(amounts.sum())
    )
    dibao = g[g[MEASURE] == "minimum_living_allowance"]
    stop = dibao[END_DATE].where(dibao[END_DATE].notna() & (dibao[END_DATE] < as_of), as_of)
    out["months_on_min_living_allowance"] = float(
        ((stop - dibao[START_DATE]).dt.days / (365.25 / 12)).sum()
    )
    ends = g.loc[ended, END_DATE]
    out["n_assistance_ended_12m"] = float((ends >= as_of - pd.DateOffset(months=12)).sum())
    out["days_since_assistance_ended"] = float((as_of - ends.max()).days) if len(ends) else np.nan
    return out


def _place_features(tables: Tables, as_of: pd.Timestamp) -> pd.DataFrame:
    households = tables.households.set_index(HOUSEHOLD_ID)
    last_year = as_of.year - 1
    lines = poverty_lines(tables)
    rounds = tables.household_years[tables.household_years[YEAR] == last_year]
    income = per_capita_net_income(rounds)
    county = households[COUNTY].reindex(rounds[HOUSEHOLD_ID]).to_numpy()
    line = [lines.by_county.get(c, {}).get(last_year, lines.default.get(last_year)) for c in county]
    poor = pd.Series(
        np.where(income.isna(), np.nan, income < line), index=rounds[HOUSEHOLD_ID].to_numpy()
    )
    table = households[[COUNTY, VILLAGE]].copy()
    table["poor"] = poor.reindex(table.index)
    events = tables.events
    windows = {
        "last_year": events[events[DATE].dt.year == last_year],
        "this_year": events[(events[DATE].dt.year == as_of.year) & (events[DATE] < as_of)],
    }
    for window, in_window in windows.items():
        for event_type in EVENT_TYPES:
            hit = set(in_window.loc[in_window[EVENT_TYPE] == event_type, HOUSEHOLD_ID])
            table[f"{event_type}_{window}"] = table.index.isin(hit).astype(float)
    out = pd.DataFrame(index=table.index)
    for level, keys in (("village", [COUNTY, VILLAGE]), ("county", [COUNTY])):
        grouped = table.groupby(keys, observed=True)
        out[f"{level}_poverty_rate_last_year"] = grouped["poor"].transform("mean")
        for window in windows:
            for event_type in EVENT_TYPES:
                column = f"{event_type}_{window}"
                out[f"{level}_{event_type}_rate_{window}"] = grouped[column].transform("mean")
    return out


def plain_build_features(
    tables: Tables, *, as_of: pd.Timestamp | str, households: pd.Index
) -> pd.DataFrame:
    """The same features as ``build_features``, household by household."""
    as_of = pd.Timestamp(as_of).normalize()
    target_year = as_of.year
    wanted = set(households)
    info = tables.households.set_index(HOUSEHOLD_ID)
    exit_year = info[POVERTY_EXIT_YEAR].astype("float64")
    exit_year = exit_year.where(exit_year < target_year)
    lines = poverty_lines(tables)

    rounds = tables.household_years
    rounds = rounds[(rounds[YEAR] < target_year) & rounds[HOUSEHOLD_ID].isin(wanted)].copy()
    rounds["income"] = per_capita_net_income(rounds)
    county = info[COUNTY].reindex(rounds[HOUSEHOLD_ID]).to_numpy()
    rounds["line"] = [
        lines.by_county.get(c, {}).get(y, lines.default.get(y))
        for c, y in zip(county, rounds[YEAR], strict=True)
    ]
    by_round = rounds.groupby(HOUSEHOLD_ID).apply(
        lambda g: pd.Series(_round_features(g, target_year, exit_year[g.name]))
    )
    by_round = by_round.unstack() if isinstance(by_round, pd.Series) else by_round

    events = tables.events
    events = events[(events[DATE] < as_of) & events[HOUSEHOLD_ID].isin(wanted)]
    by_event = events.groupby(HOUSEHOLD_ID).apply(lambda g: pd.Series(_event_features(g, as_of)))
    by_event = by_event.unstack() if isinstance(by_event, pd.Series) else by_event

    assistance = tables.assistance
    assistance = assistance[
        (assistance[START_DATE] < as_of) & assistance[HOUSEHOLD_ID].isin(wanted)
    ]
    by_assistance = assistance.groupby(HOUSEHOLD_ID).apply(
        lambda g: pd.Series(_assistance_features(g, as_of))
    )
    by_assistance = (
        by_assistance.unstack() if isinstance(by_assistance, pd.Series) else by_assistance
    )

    index = pd.Index(households, name=HOUSEHOLD_ID)
    profile = pd.DataFrame(index=index)
    head = info.reindex(index)
    profile["head_age_years"] = target_year - head["head_birth_year"].astype("float64")
    profile["head_education_years"] = head["head_education_years"].astype("float64")
    profile["is_head_female"] = head["head_sex"].map({"F": 1.0, "M": 0.0}).astype("float64")
    profile["is_ethnic_minority"] = head["ethnic_minority"].astype("float64")
    profile["years_since_exit"] = target_year - exit_year.reindex(index)
    nothing_happened = {
        **_event_features(events.iloc[:0], as_of),
        **_assistance_features(assistance.iloc[:0], as_of),
    }
    features = profile.join(by_round.reindex(index))
    for part in (by_event, by_assistance):
        part = part.reindex(index)
        missing = ~index.isin(part.index.dropna()) | part.isna().all(axis=1).to_numpy()
        for name in part.columns:
            part.loc[missing, name] = nothing_happened[name]
        features = features.join(part)
    absent = {name: value for name, value in nothing_happened.items() if name not in features}
    features = features.assign(**absent).copy()
    features = features.join(_place_features(tables, as_of).reindex(index))
    features = features.join(plain_monitoring_features(tables, as_of, index))
    features["n_rounds_known"] = features["n_rounds_known"].fillna(0.0)
    features["n_times_poor_again_since_exit"] = features["n_times_poor_again_since_exit"].where(
        features["years_since_exit"].isna(), features["n_times_poor_again_since_exit"].fillna(0.0)
    )
    return features.reindex(columns=list(FEATURE_NAMES))
