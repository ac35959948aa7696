"""A household simulator: contract-shaped tables for 2014..2025 and the oracle's truth.

``simulate_tables(n_households, seed)`` runs the world of :mod:`~earlywarn.simulator.world`
month by month, vectorised over households, and writes down what a monitoring system would
see: a households registry (with fake personal data, :mod:`~earlywarn.simulator.registry`),
yearly survey rounds (some missing, some components null, :mod:`~earlywarn.simulator.survey`),
events as they happen and assistance spells (:mod:`~earlywarn.simulator.records`). ``truth``
holds, for each household in the default population at 1 January and 1 July of 2018..2025,
the oracle's probability that it is poor that year (see :mod:`earlywarn.simulator.oracle`)
and whether it was.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from earlywarn.config import SimulateConfig
from earlywarn.data import columns as c
from earlywarn.data.contract import empty_table
from earlywarn.data.tables import Tables
from earlywarn.simulator.monitoring import monitoring_cycle
from earlywarn.simulator.month import run_months
from earlywarn.simulator.new_year import end_year, start_year
from earlywarn.simulator.oracle import poverty_probability
from earlywarn.simulator.records import Records
from earlywarn.simulator.registry import Registry, draw_registry
from earlywarn.simulator.survey import observed_per_capita, survey_round
from earlywarn.simulator.world import (
    DIBAO,
    EMPLOYMENT,
    EPOCH,
    FIRST_YEAR,
    INDUSTRIAL,
    INSURANCE,
    LAST_YEAR,
    LINES,
    NO_END,
    TODAY,
    WorldState,
    initial_state,
    month_start,
)

log = logging.getLogger(__name__)

TRUTH_YEARS = range(2018, LAST_YEAR + 1)
HOUSEHOLDS_PER_COUNTY = 500
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
    n_households: int,
    seed: int,
    *,
    n_oracle_draws: int = 100,
    workers: int = 1,
    settings: SimulateConfig = TODAY,
) -> Simulation:
    """Simulate ``n_households`` households from 2014 to 2025; same seed, same tables.

    ``settings``: the world's settings (shock rates, income growth and volatility, assistance,
    registration, a harsh year); only those fields of :class:`~earlywarn.config.SimulateConfig`
    are read, the arguments say how many households, the seed and the oracle's draws. The
    tables do not depend on ``n_oracle_draws`` (the oracle has its own random streams; 0 skips
    it and leaves ``truth`` empty); nothing depends on ``workers``, the number of processes the
    oracle may use.
    """
    root = np.random.SeedSequence(seed)
    world_seed, registry_seed, survey_seed, oracle_seed = root.spawn(4)
    rng = np.random.default_rng(world_seed)
    n_counties = max(3, round(n_households / HOUSEHOLDS_PER_COUNTY))
    registry = draw_registry(n_households, n_counties, np.random.default_rng(registry_seed))
    state = initial_state(
        registry.county_index, FIRST_YEAR - registry.birth_year, registry.education, rng
    )
    records = Records.empty()
    exit_year = np.full(n_households, -1)
    survey_rng = np.random.default_rng(survey_seed)
    rounds: list[pd.DataFrame] = []
    snapshots: list[_Snapshot] = []
    true_poor: dict[int, np.ndarray] = {}
    true_per_capita: dict[int, np.ndarray] = {}
    observed_pc = np.full(n_households, np.nan)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        if year > FIRST_YEAR:
            state = start_year(state, year, rng, records, settings)
        start_of_year = state
        population = np.flatnonzero(
            (exit_year > 0) & (exit_year <= year - 1) & (observed_pc >= LINES.get(year - 1, np.inf))
        )
        if year in TRUTH_YEARS and n_oracle_draws > 0:
            snapshots.append(_Snapshot(year, 1, state.take(population), population))
        state = run_months(
            state, year, 1, 6, rng, n_counties=n_counties, records=records, settings=settings
        )
        if year in TRUTH_YEARS and n_oracle_draws > 0:
            snapshots.append(_Snapshot(year, 7, state.take(population), population))
        state = run_months(
            state, year, 7, 12, rng, n_counties=n_counties, records=records, settings=settings
        )
        survey, surveyed = survey_round(start_of_year, state, year, registry, survey_rng)
        rounds.append(survey)
        observed_pc = observed_per_capita(survey, surveyed, n_households)
        true_per_capita[year] = state.per_capita_net()
        true_poor[year] = true_per_capita[year] < LINES[year]
        before = state.exited
        state = end_year(state, year, rng, settings)
        exit_year[state.exited & ~before] = year
    tables = _assemble(registry, exit_year, state, rounds, records)
    # the monitoring cycle observes the world from its own stream (issue 14)
    cycle = monitoring_cycle(
        tables.households,
        tables.household_years,
        tables.events,
        true_per_capita,
        LINES,
        seed=root.spawn(1)[0],
    )
    tables = replace(tables, monitoring=cycle.monitoring, visits=cycle.visits)
    truth = _truth(
        snapshots,
        true_poor,
        registry.household_id,
        n_oracle_draws,
        oracle_seed,
        n_counties,
        workers,
        settings,
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
# tables and truth
# ---------------------------------------------------------------------------------------------


def _dates(days: np.ndarray) -> pd.Series:
    days = np.asarray(days, np.int64)
    values = np.where(days == NO_END, np.datetime64("NaT"), EPOCH + days.clip(-(10**6), 10**6))
    return pd.Series(values.astype("datetime64[us]"))


def _assemble(
    registry: Registry,
    exit_year: np.ndarray,
    state: WorldState,
    rounds: list[pd.DataFrame],
    records: Records,
) -> Tables:
    """The contract's tables from what the run wrote down (``state``: 31 December 2025)."""
    household_years = pd.concat(rounds, ignore_index=True)
    household_years = household_years.sort_values([c.HOUSEHOLD_ID, c.YEAR], kind="stable")
    _record_open_spells(records, state)
    households = _households_table(registry, exit_year)
    return Tables(
        households=households,
        household_years=household_years.reset_index(drop=True),
        events=_events_table(records, registry.household_id),
        assistance=_assistance_table(records, registry.household_id),
        lines=empty_table(c.LINES),
        personal=registry.personal,
        places=_places_table(households),
    )


COUNTY_NAMES = ("泸西县", "弥勒市", "丘北县", "师宗县", "罗平县", "砚山县", "广南县", "富宁县")
VILLAGE_SURNAMES = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
VILLAGE_SUFFIXES = ("家村", "家寨", "家营", "家坝")


def _places_table(households: pd.DataFrame) -> pd.DataFrame:
    """One row per village: made-up county and village names for the codes (what a county's
    ``places`` export holds), so the sheets print names as they would on real data."""
    places = households[[c.COUNTY, c.VILLAGE]].drop_duplicates()
    places = places.sort_values([c.COUNTY, c.VILLAGE]).reset_index(drop=True)
    counties = {code: i for i, code in enumerate(sorted(places[c.COUNTY].unique()))}
    county_index = places[c.COUNTY].map(counties).to_numpy()
    village_index = places.groupby(c.COUNTY).cumcount().to_numpy()
    places[c.COUNTY_NAME] = [COUNTY_NAMES[i % len(COUNTY_NAMES)] for i in county_index]
    places[c.VILLAGE_NAME] = [
        VILLAGE_SURNAMES[i % len(VILLAGE_SURNAMES)]
        + VILLAGE_SUFFIXES[(i // len(VILLAGE_SURNAMES)) % len(VILLAGE_SUFFIXES)]
        for i in village_index
    ]
    return places.astype("str")


def _households_table(registry: Registry, exit_year: np.ndarray) -> pd.DataFrame:
    """One row per household; 1% of sex, schooling and minority left blank."""
    n = len(registry.household_id)
    households = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(registry.household_id, dtype="str"),
            c.COUNTY: pd.array(registry.county, dtype="str"),
            c.VILLAGE: pd.array(registry.village, dtype="str"),
            c.HEAD_SEX: pd.array(registry.head_sex, dtype="str"),
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
    return households


def _record_open_spells(records: Records, state: WorldState) -> None:
    """Spells still running at the end (minimum living allowance, public-welfare jobs,
    industrial support) and registered households' insurance premiums since 2016."""
    for amount, start, code in (
        (state.dibao_amount, state.dibao_start, DIBAO),
        (state.job_aid_amount, state.job_aid_start, EMPLOYMENT),
        (state.industrial_amount, state.industrial_start, INDUSTRIAL),
    ):
        records.spells(state, amount > 0, start, NO_END, code, amount)
    insured = np.flatnonzero(state.registered)
    records.aid(
        state,
        insured,
        np.full(len(insured), month_start(2016, 1)),
        np.full(len(insured), NO_END),
        INSURANCE,
        180.0,
    )


def _concat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype)


def _events_table(records: Records, ids: np.ndarray) -> pd.DataFrame:
    """The recorded events up to 31 December 2025, by date; 8% of costs unknown."""
    event_day = _concat(records.event_day, "int64")
    keep = event_day <= LAST_DAY
    events = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(
                ids[_concat(records.event_household, "int64")][keep], dtype="str"
            ),
            c.DATE: _dates(event_day[keep]),
            c.EVENT_TYPE: pd.array(
                np.array(c.EVENT_TYPES)[_concat(records.event_type, "int8")][keep], dtype="str"
            ),
            c.COST: _concat(records.event_cost, "float64")[keep].round(),
        }
    )
    rng = np.random.default_rng(len(ids) + 1)
    events.loc[rng.random(len(events)) < 0.08, c.COST] = np.nan
    return events.sort_values([c.DATE, c.HOUSEHOLD_ID], kind="stable").reset_index(drop=True)


def _assistance_table(records: Records, ids: np.ndarray) -> pd.DataFrame:
    """The assistance spells, by start date; spells ending after 2025 are still running."""
    start = np.minimum(_concat(records.aid_start, "int64"), LAST_DAY)
    end = _concat(records.aid_end, "int64")
    end = np.where((end != NO_END) & (end > LAST_DAY), NO_END, end)
    end = np.where(end != NO_END, np.maximum(end, start), end)
    assistance = pd.DataFrame(
        {
            c.HOUSEHOLD_ID: pd.array(ids[_concat(records.aid_household, "int64")], dtype="str"),
            c.START_DATE: _dates(start),
            c.END_DATE: _dates(end),
            c.MEASURE: pd.array(
                np.array(c.MEASURES)[_concat(records.aid_measure, "int8")], dtype="str"
            ),
            c.AMOUNT: _concat(records.aid_amount, "float64").round(),
        }
    )
    assistance = assistance.sort_values([c.START_DATE, c.HOUSEHOLD_ID], kind="stable")
    return assistance.reset_index(drop=True)


def _truth(
    snapshots: list[_Snapshot],
    true_poor: dict[int, np.ndarray],
    ids: np.ndarray,
    n_draws: int,
    seed: np.random.SeedSequence,
    n_counties: int,
    workers: int,
    settings: SimulateConfig,
) -> pd.DataFrame:
    """The oracle's probability and the outcome for each snapshot's households."""
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
                settings=settings,
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
