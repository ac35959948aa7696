"""The turn of the year: 31 December (registration, exits) and 1 January (ageing, births,
migration, reviews of assistance), each a pure function of (state, year, random generator)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from earlywarn.config import SimulateConfig
from earlywarn.simulator.records import Records
from earlywarn.simulator.world import (
    DIBAO,
    EDUCATION,
    EMPLOYMENT,
    FIRST_YEAR,
    INDUSTRIAL,
    LINES,
    NO_END,
    TODAY,
    WorldState,
    keep_counts_consistent,
    lognormal,
    month_start,
    poverty_ramp,
)

FLOWS = ("wage", "business", "property_income", "transfer", "medical", "education")


def start_year(
    state: WorldState,
    year: int,
    rng: np.random.Generator,
    records: Records | None = None,
    settings: SimulateConfig = TODAY,
) -> WorldState:
    """Move ``state`` (31 December of ``year - 1``) to 1 January of ``year``; a new state.

    The year's flows start again at 0 and ``size_start`` counts the members of 1 January.
    """
    s = state.copy()
    s.last_pc_net = s.per_capita_net()
    _age_and_move(s, year, rng)
    _drift(s, year, rng, settings.income_volatility)
    _review_allowances(s, year, rng, records)
    _review_public_jobs(s, year, rng, records, settings.assistance_response)
    keep_counts_consistent(s)
    for name in FLOWS:
        setattr(s, name, np.zeros(len(s)))
    s.size_start = np.maximum(s.size, 1).astype(np.int16)
    return s


def _age_and_move(s: WorldState, year: int, rng: np.random.Generator) -> None:
    """Children start school, students start work (some leave home), workers retire, babies
    are born, healthy local workers leave for jobs and some migrants come home (in place)."""
    n = len(s)
    to_school = rng.binomial(s.n_children, 1 / 6).astype(np.int16)
    to_work = rng.binomial(s.n_students, 1 / 11).astype(np.int16)
    leave = rng.binomial(to_work, 0.35).astype(np.int16)
    retire = rng.binomial(s.n_labor, 1 / 32).astype(np.int16)
    retire_chronic = np.minimum(
        rng.binomial(retire, s.n_chronic_labor / np.maximum(s.n_labor, 1)), s.n_chronic_labor
    ).astype(np.int16)
    retire_disabled = np.minimum(retire - retire_chronic, s.n_disabled_labor).astype(np.int16)
    retire_migrant = np.minimum(retire - retire_chronic - retire_disabled, s.n_migrant)
    s.n_children -= to_school
    s.n_students += to_school - to_work
    s.n_labor += to_work - leave - retire
    s.n_elderly += retire
    s.n_chronic_labor -= retire_chronic
    s.n_disabled_labor -= retire_disabled
    s.n_migrant -= retire_migrant.astype(np.int16)
    birth = (s.n_labor >= 2) & (s.n_children < 3) & (rng.random(n) < 0.07)
    s.n_children += birth.astype(np.int16)
    able_labor = s.n_labor - s.n_chronic_labor - s.n_disabled_labor
    local_able = np.maximum(able_labor - s.n_migrant, 0)
    drive = np.where(s.registered & (year <= 2020), 0.12, 0.0)
    # someone stays to farm: the last able worker leaves only if an elder keeps the fields
    can_go = np.maximum(local_able - 1 + (s.n_elderly > s.n_chronic), 0)
    go = rng.binomial(np.minimum(can_go, local_able), np.minimum(0.07 + drive, 1))
    go = go.astype(np.int16)
    back = rng.binomial(s.n_migrant, 0.07).astype(np.int16)
    s.n_migrant = s.n_migrant + go - back


def _drift(s: WorldState, year: int, rng: np.random.Generator, volatility: float) -> None:
    """Earning power (``volatility`` times today's spread) and health wander (health worsens
    with age), herds regrow, a new harvest, more households insured (in place)."""
    n = len(s)
    s.ability = s.ability * np.exp((0.1 * volatility) * rng.standard_normal(n))
    s.frailty = s.frailty * np.exp(0.08 * rng.standard_normal(n) + 0.01)
    s.herd = s.herd + 0.5 * (s.herd_target - s.herd)
    s.harvest_factor = np.ones(n)
    s.insured = s.insured | (rng.random(n) < (0.6 if year >= 2016 else 0.1))


def _review_allowances(
    s: WorldState, year: int, rng: np.random.Generator, records: Records | None
) -> None:
    """The minimum living allowance is withdrawn when income recovers; registered households
    get industrial assistance until the transition ends, and education grants (in place)."""
    n = len(s)
    day = month_start(year, 1)
    line = LINES[year - 1]
    recovered = (s.dibao_amount > 0) & (s.last_pc_net > 1.6 * line) & (rng.random(n) < 0.6)
    if records is not None:
        records.spells(s, recovered, s.dibao_start, day - 1, DIBAO, s.dibao_amount)
    s.dibao_amount = np.where(recovered, 0.0, s.dibao_amount)
    s.dibao_amount = np.where(s.dibao_amount > 0, s.dibao_amount * 1.05, 0.0)
    gets = s.registered & (s.industrial_amount == 0) & (year >= 2015) & (year <= 2020)
    gets &= rng.random(n) < 0.3
    s.industrial_amount = np.where(gets, lognormal(rng, 3_000.0, 0.5, n), s.industrial_amount)
    s.industrial_start = np.where(gets, day + rng.integers(0, 120, n), s.industrial_start)
    ends = (s.industrial_amount > 0) & (year >= 2021) & (rng.random(n) < 0.3)
    if records is not None:
        records.spells(s, ends, s.industrial_start, day - 1, INDUSTRIAL, s.industrial_amount)
    s.industrial_amount = np.where(ends, 0.0, s.industrial_amount)
    s.industrial_start = np.where(ends, NO_END, s.industrial_start)
    if records is not None and year >= 2015:
        rows = np.flatnonzero(s.registered & (s.n_students > 0) & (year <= 2024))
        records.aid(
            s,
            rows,
            np.full(len(rows), day + 60),
            np.full(len(rows), month_start(year, 7) + 14),
            EDUCATION,
            1_000.0 * s.n_students[rows],
        )


def _review_public_jobs(
    s: WorldState, year: int, rng: np.random.Generator, records: Records | None, response: float
) -> None:
    """From 2021, monitoring finds lifted-out households near the new line a public-welfare
    job (``response`` times as likely as today, at most certain); it is withdrawn once income
    recovers (in place)."""
    n = len(s)
    day = month_start(year, 1)
    line = LINES[year]
    ends = (s.job_aid_amount > 0) & (s.last_pc_net > 2.2 * line) & (rng.random(n) < 0.5)
    if records is not None:
        records.spells(s, ends, s.job_aid_start, day - 1, EMPLOYMENT, s.job_aid_amount)
    s.job_aid_amount = np.where(ends, 0.0, s.job_aid_amount)
    s.job_aid_start = np.where(ends, NO_END, s.job_aid_start)
    if year < 2021:
        return
    near = s.exited & (s.job_aid_amount == 0) & (s.last_pc_net < 1.5 * line)
    reach = min((0.75 if year == 2021 else 0.45) * response, 1.0)  # 2021 swept widest
    gets = near & (s.n_labor - s.n_disabled_labor > 0) & (rng.random(n) < reach)
    s.job_aid_amount = np.where(gets, rng.uniform(5_000, 9_000, n), s.job_aid_amount)
    s.job_aid_start = np.where(gets, day + rng.integers(30, 100, n), s.job_aid_start)


def end_year(
    state: WorldState, year: int, rng: np.random.Generator, settings: SimulateConfig = TODAY
) -> WorldState:
    """Registration (end of 2014: those assessed under 5,500 yuan a person, or all but the
    ``settings.never_registered_share`` assessed richest) and exits from poverty
    (2016..2020); a new state."""
    s = replace(state)
    n = len(s)
    pc = s.per_capita_net()
    if year == FIRST_YEAR:
        seen = pc * np.exp(0.4 * rng.standard_normal(n))
        share = settings.never_registered_share
        threshold = 5_500.0 if share is None else np.quantile(seen, 1 - share)
        s.registered = seen < threshold
    if 2016 <= year <= 2020:
        seen = pc * np.exp(0.4 * rng.standard_normal(n))  # assessments are imperfect
        ready = s.registered & ~s.exited & (seen > 1.1 * LINES[year])
        p_exit = {2016: 0.35, 2017: 0.45, 2018: 0.55, 2019: 0.65}.get(year, 1.0)
        leave = ready & (rng.random(n) < p_exit) if year < 2020 else s.registered & ~s.exited
        s.exited = s.exited | leave
        s.lift_cap = np.where(leave, poverty_ramp(year), s.lift_cap)
    return s
