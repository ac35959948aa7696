"""Features as of a date d: one row per household, only what is known at d.

Target year Y = year(d). Known at d: survey rounds of year Y-1 or earlier, events and
assistance dated strictly before d (see ``assistance`` for end dates), households as given
(a ``poverty_exit_year`` of Y or later is not yet known and treated as "not exited").

Families: household profile, income level, income composition, trend and volatility, rigid
expenses (this module, from the survey rounds), shocks (``shocks``), assistance
(``assistance``), exit history, monitoring spells and visits (``monitoring_cycle``), place
rates (``place``: a place enters by what is known about it at d, never by its name),
housing/water/insurance flags. Everything is float64 (a
catalog entry of unit ``category`` would come as pandas ``category`` with levels from the
whole households table; none has one now); NaN means unknown, counts are 0 when nothing
happened. The catalog (``catalog.FEATURES``) describes every column, in the order returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    BUSINESS_INCOME,
    EDUCATION_EXPENSE,
    ETHNIC_MINORITY,
    HAS_MEDICAL_INSURANCE,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HEAD_SEX,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSING_SAFE,
    INCOME_SOURCES,
    MEDICAL_EXPENSE,
    MEMBER_COUNTS,
    N_CHILDREN,
    N_CHRONIC_ILL,
    N_DISABLED,
    N_ELDERLY,
    N_LABOR,
    N_MIGRANT_WORKERS,
    N_STUDENTS,
    POVERTY_EXIT_YEAR,
    PROPERTY_INCOME,
    TRANSFER_INCOME,
    WAGE_INCOME,
    WATER_SAFE,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError
from earlywarn.features.assistance import assistance_features
from earlywarn.features.catalog import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    MIN_RATIO_ROUNDS,
    TREND_ROUNDS,
)
from earlywarn.features.labels import (
    Population,
    household_lines,
    is_poor,
    per_capita_net_income,
    population,
)
from earlywarn.features.monitoring_cycle import monitoring_cycle_features
from earlywarn.features.place import place_rates
from earlywarn.features.rounds import (
    Rounds,
    as_float,
    closed_rounds,
    group_starts,
    household_codes,
    table_codes,
)
from earlywarn.features.shocks import shock_features

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]


def build_features(
    tables: Tables,
    *,
    as_of: pd.Timestamp | str,
    households: pd.Index | list[str] | None = None,
    default_population: Population = "exited",
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per requested household (default: the population at ``as_of``), indexed by
    household_id in the order asked, with the catalog's columns in the catalog's order.

    Any slice of households gives the same rows as computing on all of them: place rates
    come from every household of the tables. ``places`` may pass ``place_rates(tables,
    as_of)`` computed once, when scoring many slices.
    """
    as_of = pd.Timestamp(as_of).normalize()
    everyone = tables.households
    if households is None:
        households = population(tables, as_of, population=default_population)
    wanted = pd.Index(households, name=HOUSEHOLD_ID)
    n = len(everyone)
    if len(wanted) == n and wanted.equals(pd.Index(everyone[HOUSEHOLD_ID])):
        positions = np.arange(n)
    else:
        positions = household_codes(wanted, everyone[HOUSEHOLD_ID])
    if (positions < 0).any():
        raise EarlywarnError(
            f"{int((positions < 0).sum())} requested households are not in "
            f"the households table (first: {wanted[positions < 0][0]!r})"
        )
    selected = np.zeros(n, dtype=bool)
    selected[positions] = True
    codes = table_codes(tables)
    if places is None:
        places = place_rates(tables, as_of, codes=codes)
    elif not places.index.equals(pd.Index(everyone[HOUSEHOLD_ID])):
        raise EarlywarnError(
            "places must have one row per household of tables.households, "
            "in the same order (place_rates() on the whole tables, then "
            "the rows of these households)"
        )

    # one float64 block, filled family by family (peak memory: the block plus one family)
    numeric = [name for name in FEATURE_NAMES if name not in CATEGORICAL_FEATURES]
    column_of = {name: i for i, name in enumerate(numeric)}
    block = np.empty((len(wanted), len(numeric)), order="F")
    filled: set[str] = set()
    everyone_in_order = len(positions) == n and bool((positions == np.arange(n)).all())

    def put(family: Arrays) -> None:
        for name, values in family.items():
            block[:, column_of[name]] = values if everyone_in_order else values[positions]
            filled.add(name)

    put(_profile(everyone, as_of.year))
    put(_round_features(tables, _only(codes.household_years, selected), as_of.year))
    put(
        shock_features(
            tables.events, _only(codes.events, selected), n, as_of, event_types=codes.event_types
        )
    )
    put(assistance_features(tables.assistance, _only(codes.assistance, selected), n, as_of))
    put(
        monitoring_cycle_features(
            tables.monitoring,
            tables.visits,
            _only(
                household_codes(tables.monitoring[HOUSEHOLD_ID], everyone[HOUSEHOLD_ID]), selected
            ),
            _only(household_codes(tables.visits[HOUSEHOLD_ID], everyone[HOUSEHOLD_ID]), selected),
            n,
            as_of,
        )
    )
    put({name: places[name].to_numpy() for name in places.columns})
    if filled != set(numeric):  # a bug, not a user error: catalog and code disagree
        raise AssertionError(
            f"features and catalog disagree: missing {set(numeric) - filled}, "
            f"extra {filled - set(numeric)}"
        )
    features = pd.DataFrame(block, index=wanted, columns=numeric, copy=False)
    categories = pd.DataFrame(
        {name: _categorical(everyone[name], positions) for name in CATEGORICAL_FEATURES},
        index=wanted,
    )
    features = pd.concat([categories, features], axis=1)
    if tuple(features.columns) != FEATURE_NAMES:  # reorder (a copy) only if the catalog asks
        features = features.loc[:, list(FEATURE_NAMES)]
    log.info(
        "built %d features for %d households as of %s",
        len(FEATURE_NAMES),
        len(features),
        as_of.date(),
    )
    return features


def _only(codes: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """Row codes with rows of unselected households set to -1 (left out)."""
    if selected.all():
        return codes
    keep = codes >= 0
    keep[keep] = selected[codes[keep]]
    return np.where(keep, codes, -1)


def _categorical(values: pd.Series, positions: np.ndarray) -> pd.Categorical:
    """Text as a category whose levels (sorted) come from every household, not the slice."""
    codes, levels = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes[positions], categories=pd.Index(levels, dtype="str"))


def _profile(households: pd.DataFrame, target_year: int) -> Arrays:
    sex = households[HEAD_SEX]
    is_female = np.where(
        sex.isna().to_numpy(), np.nan, (sex == "F").to_numpy(dtype=float, na_value=0.0)
    )
    return {
        "head_age_years": target_year - as_float(households[HEAD_BIRTH_YEAR]),
        "head_education_years": as_float(households[HEAD_EDUCATION_YEARS]),
        "is_head_female": is_female,
        "is_ethnic_minority": as_float(households[ETHNIC_MINORITY]),
    }


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is positive, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _round_features(tables: Tables, codes: np.ndarray, target_year: int) -> Arrays:
    """Level, composition, trend, rigid expenses, exit and flags from rounds <= Y-1
    (``codes``: each round's household position, -1 to leave it out)."""
    household_years = tables.household_years
    rounds = closed_rounds(household_years, codes, len(tables.households), target_year - 1)
    round_income = per_capita_net_income(household_years).to_numpy()[rounds.rows]
    round_line = household_lines(tables, rounds.code, rounds.year)
    poor = is_poor(round_income, round_line)
    depth = max(TREND_ROUNDS, MIN_RATIO_ROUNDS, 2)

    def last(name: str, depth: int = 2) -> np.ndarray:
        """(households, depth) matrix of a household_years column, latest round first."""
        return rounds.column_matrix(household_years[name], depth)

    income = rounds.matrix(round_income, depth)
    ratio = income / rounds.matrix(round_line, depth)
    year = rounds.matrix(rounds.year.astype(np.float64), depth)
    features: Arrays = {
        "net_income_per_capita_last_round_yuan": income[:, 0],
        "income_to_line_ratio_last_round": ratio[:, 0],
        f"min_income_to_line_ratio_{MIN_RATIO_ROUNDS}_rounds": np.fmin.reduce(
            ratio[:, :MIN_RATIO_ROUNDS], axis=1
        ),
        "n_rounds_since_last_poor": _first_rank_where(rounds, poor == 1.0),
        "years_since_last_round": target_year - year[:, 0],
        "n_rounds_known": np.bincount(rounds.code, minlength=rounds.n_households).astype(float),
    }
    features |= _composition(last)
    features |= _trend(income[:, :TREND_ROUNDS], year[:, :TREND_ROUNDS])
    features["net_income_per_capita_change_yuan"] = income[:, 0] - income[:, 1]
    for name in (*INCOME_SOURCES, MEDICAL_EXPENSE, EDUCATION_EXPENSE):
        values = last(name)
        features[f"{name}_change_yuan"] = values[:, 0] - values[:, 1]
    features |= _exit(tables.households, rounds, poor, target_year)
    features["is_housing_safe"] = last(HOUSING_SAFE, 1)[:, 0]
    features["is_water_safe"] = last(WATER_SAFE, 1)[:, 0]
    features["has_medical_insurance"] = last(HAS_MEDICAL_INSURANCE, 1)[:, 0]
    return features


def _composition(last: Callable[[str, int], np.ndarray]) -> Arrays:
    sources = {
        name: last(name, 1)[:, 0] for name in (*INCOME_SOURCES, MEDICAL_EXPENSE, EDUCATION_EXPENSE)
    }
    gross = np.sum([sources[name] for name in INCOME_SOURCES], axis=0)  # NaN if any is null
    members = {name: last(name, 1)[:, 0] for name in (HOUSEHOLD_SIZE, *MEMBER_COUNTS)}
    size, labor = members[HOUSEHOLD_SIZE], members[N_LABOR]
    wage_share = _ratio(sources[WAGE_INCOME], gross)
    migrants_per_worker = np.minimum(_ratio(members[N_MIGRANT_WORKERS], labor), 1.0)
    migrants_per_worker[(members[N_MIGRANT_WORKERS] == 0)] = 0.0
    return {
        "wage_income_share": wage_share,
        "migrant_income_share": wage_share * migrants_per_worker,
        "business_income_share": _ratio(sources[BUSINESS_INCOME], gross),
        "property_income_share": _ratio(sources[PROPERTY_INCOME], gross),
        "transfer_income_share": _ratio(sources[TRANSFER_INCOME], gross),
        "dependant_share": _ratio(members[N_ELDERLY] + members[N_CHILDREN], size),
        "workers_per_member": _ratio(labor, size),
        "household_size": size,
        "n_elderly": members[N_ELDERLY],
        "n_students": members[N_STUDENTS],
        "n_disabled": members[N_DISABLED],
        "n_chronic_ill": members[N_CHRONIC_ILL],
        "medical_expense_share_of_income": _ratio(sources[MEDICAL_EXPENSE], gross),
        "education_expense_share_of_income": _ratio(sources[EDUCATION_EXPENSE], gross),
    }


def _trend(income: np.ndarray, year: np.ndarray) -> Arrays:
    """Least-squares slope (yuan per year) and coefficient of variation of per-capita income
    over the known values of each row; NaN with fewer than 2 known rounds."""
    known = ~np.isnan(income)
    n = known.sum(axis=1).astype(np.float64)
    x = np.where(known, year, 0.0)
    y = np.where(known, income, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = x.sum(axis=1) / n
        y_mean = y.sum(axis=1) / n
        dx = np.where(known, x - x_mean[:, None], 0.0)
        dy = np.where(known, y - y_mean[:, None], 0.0)
        sxx = (dx * dx).sum(axis=1)
        slope = np.where((n >= 2) & (sxx > 0), (dx * dy).sum(axis=1) / sxx, np.nan)
        std = np.sqrt((dy * dy).sum(axis=1) / (n - 1))
        cv = np.where((n >= 2) & (y_mean > 0), std / y_mean, np.nan)
    return {
        f"income_per_capita_slope_{TREND_ROUNDS}_rounds": slope,
        f"income_per_capita_cv_{TREND_ROUNDS}_rounds": cv,
    }


def _first_rank_where(rounds: Rounds, mask: np.ndarray) -> np.ndarray:
    """Per household, the rank of its most recent round where ``mask`` holds (NaN if none)."""
    out = np.full(rounds.n_households, np.nan)
    code, rank = rounds.code[mask], rounds.rank[mask]
    first = group_starts(code)  # rounds are sorted by household, latest first
    out[code[first]] = rank[first]
    return out


def _exit(households: pd.DataFrame, rounds: Rounds, poor: np.ndarray, target_year: int) -> Arrays:
    exit_year = as_float(households[POVERTY_EXIT_YEAR])
    with np.errstate(invalid="ignore"):
        exit_year[exit_year >= target_year] = np.nan  # not yet known at d
        again = (poor == 1.0) & (rounds.year > exit_year[rounds.code])
    n_again = np.bincount(rounds.code[again], minlength=rounds.n_households).astype(float)
    return {
        "years_since_exit": target_year - exit_year,
        "n_times_poor_again_since_exit": np.where(np.isnan(exit_year), np.nan, n_again),
    }
