"""A month of the simulated world: shocks, the month's income, hardship aid, what is written down.

:func:`run_months` is a pure function of (state at the start of a month, random generator) ->
state at the end of a later month. Each month runs in phases, in this order (the order of
random draws is part of the world: the same seed gives the same households):

1. county shocks (disasters, lockdowns) drawn per (world, county) by :func:`county_shocks`;
2. health shocks: hospital stays, chronic diagnoses, disability, injuries, deaths;
3. livelihood shocks: migrant job loss, crop failure, livestock loss, disaster damage;
4. the month's income and rigid expenses;
5. assistance that responds to hardship (medical aid, the minimum living allowance,
   employment and housing aid);
6. in the main run only, the events and assistance spells a monitoring system records;
7. temporary conditions (sickness, joblessness) wear off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlywarn.config import SimulateConfig
from earlywarn.simulator.records import Records
from earlywarn.simulator.shocks import (
    HealthShocks,
    LivelihoodShocks,
    county_shocks,
    health_shocks,
    livelihood_shocks,
)
from earlywarn.simulator.world import (
    BUSINESS_GROWTH,
    CHRONIC,
    CROP_FAILURE,
    DEATH,
    DIBAO_PER_PERSON,
    DISABILITY,
    DISASTER,
    EDUCATION_COST,
    EMPLOYMENT,
    FARM_COST_SHARE,
    FARM_GROWTH,
    HARVEST_SHARE,
    HOUSING,
    ILLNESS,
    INJURY,
    JOB_LOSS,
    LINES,
    LIVESTOCK_LOSS,
    LIVESTOCK_RETURN,
    LOCAL_WAGE,
    LOCKDOWN,
    MEDICAL,
    MIGRANT_SEASON,
    MIGRANT_WAGE,
    OTHER,
    PENSION,
    POLICY_TRANSFER,
    PROPERTY_GROWTH,
    SUPPORT_GROWTH,
    TODAY,
    WAGE_GROWTH,
    Month,
    WorldState,
    draw_where,
    keep_counts_consistent,
    lognormal,
    poverty_ramp,
    uniform,
)


@dataclass(frozen=True)
class HardshipAid:
    """Who got assistance this month because of hardship (``medical_amount``: yuan of
    medical aid, 0 for the others)."""

    medical: np.ndarray
    medical_amount: np.ndarray
    employment: np.ndarray
    housing: np.ndarray


def run_months(
    state: WorldState,
    year: int,
    first: int,
    last: int,
    rng: np.random.Generator,
    *,
    n_counties: int,
    n_worlds: int = 1,
    records: Records | None = None,
    settings: SimulateConfig = TODAY,
) -> WorldState:
    """Run months ``first``..``last`` of ``year`` from ``state``; the input is not changed.

    ``state.world`` picks, for each row, which of ``n_worlds`` draws of county shocks applies
    (the oracle runs many worlds at once); ``records``, if given, receives what is recorded;
    ``settings``: the world's settings (today's world by default).
    """
    s = state.copy()
    for month in range(first, last + 1):
        _step_month(s, Month.of(year, month, settings), rng, n_counties, n_worlds, records)
    return s


def _step_month(
    s: WorldState,
    when: Month,
    rng: np.random.Generator,
    n_counties: int,
    n_worlds: int,
    records: Records | None,
) -> None:
    """One month of ``s``, in place, phase by phase."""
    n = len(s)
    county = county_shocks(when, n_worlds, n_counties, rng)
    hit_disaster = county.disaster[s.world, s.county] & (uniform(rng, n) < 0.4)
    locked = county.lockdown[s.world, s.county]
    in_drought = None if county.drought is None else county.drought[s.world, s.county]
    coverage = _insurance_coverage(s, when.year)
    health = health_shocks(s, when, coverage, rng)
    livelihood = livelihood_shocks(s, when, hit_disaster, locked, in_drought, rng)
    _earn(s, when, locked, coverage, rng)
    aid = _hardship_aid(s, when, health, livelihood, rng)
    if records is not None:
        _record(records, s, when, health, livelihood, aid, rng)
    # conditions wear off; counts stay consistent after deaths
    keep_counts_consistent(s)
    s.sick_months = np.maximum(s.sick_months - 1, 0).astype(np.int16)
    s.jobless_months = np.maximum(s.jobless_months - 1, 0).astype(np.int16)


def _insurance_coverage(s: WorldState, year: int) -> np.ndarray:
    """Share of a medical bill that insurance pays, per household (more for registered ones
    during and after the campaign)."""
    return np.where(
        s.insured,
        0.5 + np.where(s.registered & (year >= 2016), np.where(year <= 2020, 0.25, 0.15), 0.0),
        0.0,
    )


def _earn(
    s: WorldState,
    when: Month,
    locked: np.ndarray,
    coverage: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """The month's wages, farm and business income, property income, transfers, and the
    month's share of routine medical and education costs (in place)."""
    n, year, t = len(s), when.year, when.t
    frail = s.frailty
    season = MIGRANT_SEASON[when.month - 1]
    away = np.maximum(s.n_migrant - (s.jobless_months > 0), 0).astype(float)
    sick = s.sick_months > 0
    away_sick = sick & (away > 0)
    away = away - away_sick
    local = np.maximum(s.local_workers() - (sick & ~away_sick), 0.0)
    ramp = np.minimum(poverty_ramp(year), s.lift_cap)
    lift = np.where(s.registered, s.uplift_boost * ramp, 0.0)
    wage_growth = WAGE_GROWTH**t * when.earned_growth * s.ability * (1 + 0.7 * lift)
    s.wage += (
        away * MIGRANT_WAGE * season * np.where(locked, 0.15, 1.0)
        + local * LOCAL_WAGE * np.where(locked, 0.5, 1.0)
    ) * wage_growth
    s.wage += s.job_aid_amount / 12
    farm = (
        s.expected_harvest(when)
        * (HARVEST_SHARE[when.month - 1] * s.harvest_factor - FARM_COST_SHARE / 12)
        * s.farm_hands()
    )
    spread = 0.7 * when.settings.income_volatility
    shop = s.business_scale / 12 * BUSINESS_GROWTH**t * when.earned_growth
    shop *= 1 + spread * rng.standard_normal(n)
    shop *= np.where(locked, 0.4, 1.0)
    herd = s.herd * LIVESTOCK_RETURN / 12 * FARM_GROWTH**t * when.earned_growth
    s.business += (farm + shop + herd) * (1 + lift) + s.industrial_amount / 12
    s.property_income += s.property_level / 12 * PROPERTY_GROWTH**t
    policy = np.where(s.registered, POLICY_TRANSFER * ramp, 0.0)
    s.transfer += (
        s.n_elderly * PENSION[year]
        + s.n_disabled * 1_000.0 * when.medical_growth
        + 600.0 * s.farm_scale * 1.03**t
        + s.support * SUPPORT_GROWTH**t
        + policy
        + s.dibao_amount
    ) / 12
    s.medical += (
        (
            s.size_start * 120.0 * frail
            + s.n_chronic * 2_800.0 * np.sqrt(frail) * (1 - 0.5 * coverage)
        )
        * when.medical_growth
        / 12
    )
    s.education += (
        s.n_students
        * EDUCATION_COST
        * s.education_level
        * 1.06**t
        / 12
        * np.where(s.registered, 0.5, 1.0)
    )


def _hardship_aid(
    s: WorldState,
    when: Month,
    health: HealthShocks,
    livelihood: LivelihoodShocks,
    rng: np.random.Generator,
) -> HardshipAid:
    """Medical aid after large bills, the minimum living allowance for fragile households whose
    income falls near the line, jobs for registered migrants who lost theirs, housing aid
    after disaster damage (in place: transfers, allowance, joblessness). Each is
    ``assistance_response`` times as likely as in today's world (at most certain)."""
    n, year = len(s), when.year
    line = LINES[year]
    response = when.settings.assistance_response
    bills = health.out_of_pocket + health.end_of_life
    hardship = (s.registered | s.exited | (s.last_pc_net < 2 * line)) & (
        bills > 0.25 * line * s.size_start
    )
    medical_aid = hardship & (uniform(rng, n) < min(0.5 * response, 1.0))
    aid_amount = np.where(medical_aid, 0.3 * bills, 0.0)
    s.transfer += aid_amount
    fragile = (s.n_disabled + s.n_chronic + s.n_elderly > 0) | (s.n_labor == 0)
    projected = s.last_pc_net - (s.medical / np.maximum(s.size_start, 1))
    needy = (s.dibao_amount == 0) & fragile & (np.nan_to_num(projected, nan=1e9) < 1.2 * line)
    new_dibao = needy & (uniform(rng, n) < min(0.08 * response, 1.0))
    s.dibao_amount += (
        s.size * DIBAO_PER_PERSON[year] * draw_where(new_dibao, lambda k: rng.uniform(0.3, 0.8, k))
    )
    s.dibao_start = np.where(
        new_dibao, when.start + 10 + rng.integers(0, when.n_days, n), s.dibao_start
    )
    p_job_aid = min(0.3 * response, 1.0)
    employment_aid = livelihood.job_loss & (s.registered | s.exited) & (uniform(rng, n) < p_job_aid)
    s.jobless_months = np.where(employment_aid, np.minimum(s.jobless_months, 2), s.jobless_months)
    disaster = livelihood.disaster
    p_housing = min(0.4 * response, 1.0)
    housing_aid = disaster.hit & (disaster.cost > 6_000.0) & (uniform(rng, n) < p_housing)
    return HardshipAid(medical_aid, aid_amount, employment_aid, housing_aid)


def _record(
    records: Records,
    s: WorldState,
    when: Month,
    health: HealthShocks,
    livelihood: LivelihoodShocks,
    aid: HardshipAid,
    rng: np.random.Generator,
) -> None:
    """Write down the month's events (a few go unrecorded) and the assistance spells that
    hardship aid started, each on a day of the month."""
    n, nz = len(s), np.flatnonzero
    day = when.start + rng.integers(0, when.n_days, n)
    records.event(
        s, nz(health.illness.hit & (uniform(rng, n) < 0.9)), day, ILLNESS, health.illness.cost
    )
    records.event(s, nz(health.chronic.hit), day, CHRONIC, health.chronic.cost)
    records.event(s, nz(health.disability.hit), day, DISABILITY, health.disability.cost)
    records.event(s, nz(health.injury.hit), day, INJURY, health.injury.cost)
    records.event(s, nz(health.death.hit), day, DEATH, health.death.cost)
    records.event(s, nz(livelihood.job_loss & (uniform(rng, n) < 0.8)), day, JOB_LOSS, np.nan)
    records.event(s, nz(livelihood.crop.hit), day, CROP_FAILURE, livelihood.crop.cost)
    records.event(s, nz(livelihood.livestock.hit), day, LIVESTOCK_LOSS, livelihood.livestock.cost)
    records.event(s, nz(livelihood.disaster.hit), day, DISASTER, livelihood.disaster.cost)
    locked = livelihood.locked & (s.n_migrant + s.n_labor > 0)
    records.event(s, nz(locked), when.start, LOCKDOWN, np.nan)
    other = livelihood.other
    records.event(
        s, nz(other), day, OTHER, draw_where(other, lambda k: lognormal(rng, 800.0, 1.0, k))
    )
    spells = (
        (aid.medical, 20, (90, 365), MEDICAL, lambda rows: aid.medical_amount[rows]),
        (
            aid.employment,
            15,
            (60, 240),
            EMPLOYMENT,
            lambda rows: rng.uniform(1_000, 4_000, len(rows)),
        ),
        (aid.housing, 30, (120, 360), HOUSING, lambda rows: rng.uniform(10_000, 30_000, len(rows))),
    )
    for who, delay, (shortest, longest), code, amount in spells:
        rows = nz(who)
        start = day[rows] + delay
        end = start + rng.integers(shortest, longest, len(rows))
        records.aid(s, rows, start, end, code, amount(rows))  # amounts drawn after durations
