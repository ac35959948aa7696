"""A household simulator: contract-shaped tables for 2014..2025 and the oracle's truth.

``simulate_tables(n_households, seed)`` runs the world of :mod:`~earlywarn.simulator.world`
month by month,
vectorised over households, and writes down what a monitoring system would see: a households
registry (with fake personal data), yearly survey rounds (some missing, some components null),
events as they happen and assistance spells. ``truth`` holds, for each household in the default
population at 1 January and 1 July of 2018..2025, the oracle's probability that it is poor that
year (see :mod:`earlywarn.simulator.oracle`) and whether it was.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.data import columns as c
from earlywarn.data.contract import empty_table
from earlywarn.data.tables import Tables
from earlywarn.simulator.oracle import poverty_probability
from earlywarn.simulator.world import (
    EPOCH,
    FIRST_YEAR,
    LAST_YEAR,
    LINES,
    NO_END,
    Records,
    WorldState,
    end_year,
    initial_state,
    month_start,
    run_months,
    start_year,
)

log = logging.getLogger(__name__)

TRUTH_YEARS = range(2018, LAST_YEAR + 1)
HOUSEHOLDS_PER_COUNTY = 500
HOUSEHOLDS_PER_VILLAGE = 110
P_NOT_SURVEYED = 0.03
P_NULL_COMPONENT = 0.004
LAST_DAY = month_start(LAST_YEAR + 1, 1) - 1


@dataclass(frozen=True)
class Simulation:
    """Simulated input tables and the oracle's truth.

    ``truth``: one row per household in the default population per as-of date (1 January and
    1 July of 2018..2025): household_id, as_of, target_year, oracle_probability (the simulator's
    P(poor in target_year | full state at as_of)), poor (whether it was, from the true incomes,
    known even when the survey round is missing).
    """

    tables: Tables
    truth: pd.DataFrame


@dataclass(frozen=True)
class _Snapshot:
    year: int
    month: int
    state: WorldState
    population: np.ndarray  # rows of the households table


def simulate_tables(
    n_households: int, seed: int, *, n_oracle_draws: int = 200, workers: int = 1
) -> Simulation:
    """Simulate ``n_households`` households from 2014 to 2025; same seed, same tables.

    The tables do not depend on ``n_oracle_draws`` (the oracle has its own random streams;
    0 skips it and leaves ``truth`` empty); nothing depends on ``workers``, the number of
    processes the oracle may use.
    """
    root = np.random.SeedSequence(seed)
    world_seed, registry_seed, survey_seed, oracle_seed = root.spawn(4)
    rng = np.random.default_rng(world_seed)
    n_counties = max(3, round(n_households / HOUSEHOLDS_PER_COUNTY))
    registry = _registry(n_households, n_counties, np.random.default_rng(registry_seed))
    state = initial_state(
        registry.county_index, FIRST_YEAR - registry.birth_year, registry.education, rng
    )
    records = Records.empty()
    exit_year = np.full(n_households, -1)
    survey_rng = np.random.default_rng(survey_seed)
    rounds: list[pd.DataFrame] = []
    snapshots: list[_Snapshot] = []
    true_poor: dict[int, np.ndarray] = {}
    observed_pc = np.full(n_households, np.nan)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        if year > FIRST_YEAR:
            state = start_year(state, year, rng, records)
        start_of_year = state
        population = np.flatnonzero(
            (exit_year > 0) & (exit_year <= year - 1) & (observed_pc >= LINES.get(year - 1, np.inf))
        )
        if year in TRUTH_YEARS and n_oracle_draws > 0:
            snapshots.append(_Snapshot(year, 1, state.take(population), population))
        state = run_months(state, year, 1, 6, rng, n_counties=n_counties, records=records)
        if year in TRUTH_YEARS and n_oracle_draws > 0:
            snapshots.append(_Snapshot(year, 7, state.take(population), population))
        state = run_months(state, year, 7, 12, rng, n_counties=n_counties, records=records)
        survey, surveyed = _survey_round(start_of_year, state, year, registry, survey_rng)
        rounds.append(survey)
        observed_pc = _observed_per_capita(survey, surveyed, n_households)
        true_poor[year] = state.per_capita_net() < LINES[year]
        before = state.exited
        state = end_year(state, year, rng)
        exit_year[state.exited & ~before] = year
    tables = _assemble(registry, exit_year, state, rounds, records)
    truth = _truth(
        snapshots,
        true_poor,
        registry.household_id,
        n_oracle_draws,
        oracle_seed,
        n_counties,
        workers,
    )
    log.info(
        "simulated %d households, %d survey rounds, %d events, %d truth rows",
        n_households,
        len(tables.household_years),
        len(tables.events),
        len(truth),
    )
    return Simulation(tables=tables, truth=truth)


# ---------------------------------------------------------------------------------------------
# the registry: ids, places, heads, personal data
# ---------------------------------------------------------------------------------------------

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林杨段普李和字杞")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文云福贵春梅海")
PLACE = tuple("安平永宁云龙华坪兰昌保山江城德普洱施甸祥和石屏元阳红河西盟澜沧")


@dataclass(frozen=True)
class _Registry:
    household_id: np.ndarray
    county_index: np.ndarray
    county: np.ndarray
    village: np.ndarray
    birth_year: np.ndarray
    education: np.ndarray
    head_sex: np.ndarray
    minority: np.ndarray
    housing_u: np.ndarray
    water_u: np.ndarray
    personal: pd.DataFrame


def _registry(n: int, n_counties: int, rng: np.random.Generator) -> _Registry:
    width = max(6, len(str(n)))
    household_id = np.array([f"H{i:0{width}d}" for i in range(1, n + 1)])
    codes = np.array([f"53{i // 30 + 1:02d}{i % 30 + 21:02d}" for i in range(n_counties)])
    county_index = rng.integers(0, n_counties, n)
    county_index[:n_counties] = np.arange(min(n, n_counties))
    per_county = np.bincount(county_index, minlength=n_counties)
    n_villages = np.maximum(2, np.round(per_county / HOUSEHOLDS_PER_VILLAGE)).astype(int)
    village_index = (rng.random(n) * n_villages[county_index]).astype(int)
    county = codes[county_index]
    village = np.char.add(county, np.char.zfill((village_index + 1).astype(str), 3))
    age = np.clip(rng.normal(50, 12, n), 22, 88).round().astype(int)
    birth_year = FIRST_YEAR - age
    education = np.clip(rng.normal(7.5 - 0.06 * (age - 50), 3, n), 0, 16).round().astype(int)
    minority_share = rng.uniform(0.05, 0.8, n_counties)
    minority = rng.random(n) < minority_share[county_index]
    head_sex = np.where(rng.random(n) < 0.86, "M", "F")
    county_names = np.array([_place_name(rng) for _ in range(n_counties)])
    personal = pd.DataFrame(
        {
            c.HEAD_NAME: _names(n, rng),
            c.ID_NUMBER: _id_numbers(county, birth_year, head_sex, rng),
            c.PHONE: _phones(n, rng),
            c.ADDRESS: [
                f"云南省{county_names[k]}县{_village_name(k, v)}村{g}组{h}号"
                for k, v, g, h in zip(
                    county_index,
                    village_index,
                    rng.integers(1, 9, n),
                    rng.integers(1, 200, n),
                    strict=True,
                )
            ],
        },
        index=pd.Index(household_id, name=c.HOUSEHOLD_ID, dtype="str"),
    ).astype("str")
    return _Registry(
        household_id,
        county_index,
        county,
        village,
        birth_year,
        education,
        head_sex,
        minority,
        rng.random(n),
        rng.random(n),
        personal,
    )


def _place_name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(PLACE, 2))


def _village_name(county: int, village: int) -> str:
    return PLACE[(county * 7 + village) % len(PLACE)] + PLACE[(county + village * 3) % len(PLACE)]


def _names(n: int, rng: np.random.Generator) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    first = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    second = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(surname, first), second)


def _id_numbers(
    county: np.ndarray, birth_year: np.ndarray, sex: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """18-character resident IDs with a valid ISO 7064 check digit (all fake)."""
    n = len(county)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    seq = rng.integers(0, 500, n) * 2 + (sex == "M")
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    ids = []
    for area, y, m, d, q in zip(county, birth_year, month, day, seq, strict=True):
        body = f"{area}{y:04d}{m:02d}{d:02d}{q:03d}"
        total = sum(int(ch) * w for ch, w in zip(body, weights, strict=True))
        ids.append(body + "10X98765432"[total % 11])
    return ids


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    prefix = np.array(["13", "15", "17", "18", "19"])[rng.integers(0, 5, n)]
    return np.char.add(prefix, np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9))


# ---------------------------------------------------------------------------------------------
# survey rounds
# ---------------------------------------------------------------------------------------------


def _survey_round(
    start: WorldState, end: WorldState, year: int, registry: _Registry, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """One survey round: members at 1 January, money over the year, a few gaps."""
    n = len(start)
    size = start.size_start.astype(np.int64)
    ramp = np.clip((year - 2014) / 6, 0, 1)
    frame = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(registry.household_id, dtype="str"),
            c.YEAR: np.full(n, year, np.int64),
            c.HOUSEHOLD_SIZE: size,
            c.N_LABOR: start.n_labor,
            c.N_ELDERLY: start.n_elderly,
            c.N_CHILDREN: start.n_children,
            c.N_STUDENTS: start.n_students,
            c.N_DISABLED: np.minimum(start.n_disabled, size),
            c.N_CHRONIC_ILL: np.minimum(start.n_chronic, size),
            c.N_MIGRANT_WORKERS: start.n_migrant,
            c.WAGE_INCOME: end.wage.round(),
            c.BUSINESS_INCOME: end.business.round(),
            c.PROPERTY_INCOME: end.property_income.round(),
            c.TRANSFER_INCOME: end.transfer.round(),
            c.MEDICAL_EXPENSE: end.medical.round(),
            c.EDUCATION_EXPENSE: end.education.round(),
            c.HOUSING_SAFE: registry.housing_u < 0.75 + 0.23 * ramp,
            c.WATER_SAFE: registry.water_u < 0.7 + 0.28 * ramp,
            c.HAS_MEDICAL_INSURANCE: start.insured,
        }
    )
    for name in c.MEMBER_COUNTS:
        frame[name] = frame[name].astype("Int64")
        frame.loc[rng.random(n) < P_NULL_COMPONENT / 2, name] = pd.NA
    for name in (*c.INCOME_SOURCES, *c.RIGID_EXPENSES):
        frame.loc[rng.random(n) < P_NULL_COMPONENT, name] = np.nan
    for name in c.SAFETY_FLAGS:
        frame[name] = frame[name].astype("boolean")
        frame.loc[rng.random(n) < P_NULL_COMPONENT, name] = pd.NA
    surveyed = rng.random(n) >= P_NOT_SURVEYED
    return frame[surveyed].reset_index(drop=True), np.flatnonzero(surveyed)


def _observed_per_capita(survey: pd.DataFrame, rows: np.ndarray, n: int) -> np.ndarray:
    """Per-capita net income as the survey shows it, per household row (NaN = unknown)."""
    money = survey[list(c.INCOME_SOURCES)].sum(axis=1, skipna=False) - survey[
        list(c.RIGID_EXPENSES)
    ].sum(axis=1, skipna=False)
    pc = np.full(n, np.nan)
    pc[rows] = (money / survey[c.HOUSEHOLD_SIZE]).to_numpy()
    return pc


# ---------------------------------------------------------------------------------------------
# tables and truth
# ---------------------------------------------------------------------------------------------


def _dates(days: np.ndarray) -> pd.Series:
    days = np.asarray(days, np.int64)
    values = np.where(days == NO_END, np.datetime64("NaT"), EPOCH + days.clip(-(10**6), 10**6))
    return pd.Series(values.astype("datetime64[us]"))


def _assemble(
    registry: _Registry,
    exit_year: np.ndarray,
    state: WorldState,
    rounds: list[pd.DataFrame],
    records: Records,
) -> Tables:
    n = len(registry.household_id)
    sex = pd.array(registry.head_sex, dtype="str")
    households = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(registry.household_id, dtype="str"),
            c.COUNTY: pd.array(registry.county, dtype="str"),
            c.VILLAGE: pd.array(registry.village, dtype="str"),
            c.HEAD_SEX: sex,
            c.HEAD_BIRTH_YEAR: pd.array(registry.birth_year, dtype="Int64"),
            c.HEAD_EDUCATION_YEARS: pd.array(registry.education, dtype="Int64"),
            c.ETHNIC_MINORITY: pd.array(registry.minority, dtype="boolean"),
            c.POVERTY_EXIT_YEAR: pd.array(np.where(exit_year > 0, exit_year, 0), dtype="Int64"),
        }
    )
    households.loc[exit_year <= 0, c.POVERTY_EXIT_YEAR] = pd.NA
    gaps = np.random.default_rng(n).random((3, n)) < 0.01
    households.loc[gaps[0], c.HEAD_SEX] = pd.NA
    households.loc[gaps[1], c.HEAD_EDUCATION_YEARS] = pd.NA
    households.loc[gaps[2], c.ETHNIC_MINORITY] = pd.NA
    household_years = pd.concat(rounds, ignore_index=True)
    household_years = household_years.sort_values([c.HOUSEHOLD_ID, c.YEAR], kind="stable")
    household_years = household_years.reset_index(drop=True)

    # open spells (minimum living allowance, industrial support) and insurance premiums
    still = np.flatnonzero(state.dibao_amount > 0)
    records.aid(
        state,
        still,
        state.dibao_start[still],
        np.full(len(still), NO_END),
        3,
        state.dibao_amount[still],
    )
    still = np.flatnonzero(state.job_aid_amount > 0)
    records.aid(
        state,
        still,
        state.job_aid_start[still],
        np.full(len(still), NO_END),
        1,
        state.job_aid_amount[still],
    )
    still = np.flatnonzero(state.industrial_amount > 0)
    records.aid(
        state,
        still,
        state.industrial_start[still],
        np.full(len(still), NO_END),
        0,
        state.industrial_amount[still],
    )
    insured = np.flatnonzero(state.registered)
    records.aid(
        state,
        insured,
        np.full(len(insured), month_start(2016, 1)),
        np.full(len(insured), NO_END),
        6,
        180.0,
    )

    def cat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype)

    ids = registry.household_id
    event_day = cat(records.event_day, "int64")
    keep = event_day <= LAST_DAY
    events = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(ids[cat(records.event_household, "int64")][keep], dtype="str"),
            c.DATE: _dates(event_day[keep]),
            c.EVENT_TYPE: pd.array(
                np.array(c.EVENT_TYPES)[cat(records.event_type, "int8")][keep], dtype="str"
            ),
            c.COST: cat(records.event_cost, "float64")[keep].round(),
        }
    )
    rng = np.random.default_rng(n + 1)
    events.loc[rng.random(len(events)) < 0.08, c.COST] = np.nan
    events = events.sort_values([c.DATE, c.HOUSEHOLD_ID], kind="stable").reset_index(drop=True)

    start = np.minimum(cat(records.aid_start, "int64"), LAST_DAY)
    end = cat(records.aid_end, "int64")
    end = np.where((end != NO_END) & (end > LAST_DAY), NO_END, end)
    end = np.where(end != NO_END, np.maximum(end, start), end)
    assistance = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(ids[cat(records.aid_household, "int64")], dtype="str"),
            c.START_DATE: _dates(start),
            c.END_DATE: _dates(end),
            c.MEASURE: pd.array(
                np.array(c.MEASURES)[cat(records.aid_measure, "int8")], dtype="str"
            ),
            c.AMOUNT: cat(records.aid_amount, "float64").round(),
        }
    )
    assistance = assistance.sort_values([c.START_DATE, c.HOUSEHOLD_ID], kind="stable")
    lines = empty_table(c.LINES)
    return Tables(
        households=households,
        household_years=household_years,
        events=events,
        assistance=assistance.reset_index(drop=True),
        lines=lines,
        personal=registry.personal,
    )


def _truth(
    snapshots: list[_Snapshot],
    true_poor: dict[int, np.ndarray],
    ids: np.ndarray,
    n_draws: int,
    seed: np.random.SeedSequence,
    n_counties: int,
    workers: int,
) -> pd.DataFrame:
    with ExitStack() as stack:
        executor = None
        if workers > 1:
            executor = stack.enter_context(
                ProcessPoolExecutor(
                    max_workers=workers, mp_context=multiprocessing.get_context("spawn")
                )
            )
        probabilities = [
            poverty_probability(
                snap.state,
                snap.year,
                snap.month,
                n_draws,
                child,
                n_counties=n_counties,
                executor=executor,
            )
            for snap, child in zip(snapshots, seed.spawn(len(snapshots)), strict=True)
        ]
    parts = []
    for snap, probability in zip(snapshots, probabilities, strict=True):
        parts.append(
            pd.DataFrame(
                {
                    c.HOUSEHOLD_ID: pd.array(ids[snap.population], dtype="str"),
                    c.AS_OF: pd.Timestamp(snap.year, snap.month, 1),
                    c.TARGET_YEAR: np.int64(snap.year),
                    c.ORACLE_PROBABILITY: probability,
                    c.POOR: pd.array(true_poor[snap.year][snap.population], dtype="boolean"),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                c.HOUSEHOLD_ID: pd.array([], dtype="str"),
                c.AS_OF: pd.Series([], dtype="datetime64[us]"),
                c.TARGET_YEAR: pd.Series([], dtype="int64"),
                c.ORACLE_PROBABILITY: pd.Series([], dtype="float64"),
                c.POOR: pd.array([], dtype="boolean"),
            }
        )
    truth = pd.concat(parts, ignore_index=True)
    truth[c.AS_OF] = truth[c.AS_OF].astype("datetime64[us]")
    truth[c.TARGET_YEAR] = truth[c.TARGET_YEAR].astype("int64")
    return truth
