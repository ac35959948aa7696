"""The rest of a year for the oracle, compiled: one household-draw at a time, no temporaries.

:func:`rest_of_year_per_capita` runs the same monthly rules as
:func:`~earlywarn.simulator.month.run_months` (shocks of :mod:`~earlywarn.simulator.shocks`,
then earnings, then hardship aid, then conditions wearing off) but as one Numba loop over rows
and months, keeping only what the year's per-capita net income depends on: no records, no
assistance start dates, no costs that are only written down. County shocks are drawn by the
shared :func:`~earlywarn.simulator.shocks.county_shocks`; household luck comes from Numba's own
generator, seeded per call, so its draws differ from ``run_months``'s but follow the same
distributions (``tests/unit/simulator/test_compiled_months.py`` holds the two oracles to the
same probabilities). A change to a monthly rule in ``month.py`` or ``shocks.py`` must be made
here too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from earlywarn.config import SimulateConfig
from earlywarn.simulator import compiled_random as rand
from earlywarn.simulator.shocks import county_shocks
from earlywarn.simulator.world import (
    BUSINESS_GROWTH,
    CHRONIC,
    CROP_FAILURE,
    DEATH,
    DIBAO_PER_PERSON,
    DISABILITY,
    EDUCATION_COST,
    FARM_COST_SHARE,
    FARM_GROWTH,
    FARM_HARVEST,
    HARVEST_SHARE,
    HOSPITAL_COST,
    ILLNESS,
    INJURY,
    JOB_LOSS,
    LINES,
    LIVESTOCK_LOSS,
    LIVESTOCK_RETURN,
    LOCAL_WAGE,
    MIGRANT_SEASON,
    MIGRANT_WAGE,
    PENSION,
    POLICY_TRANSFER,
    PROPERTY_GROWTH,
    SUPPORT_GROWTH,
    WAGE_GROWTH,
    Month,
    WorldState,
    poverty_ramp,
)

# columns of the per-month parameter table
(
    MONTH,
    T,
    MEDICAL_GROWTH,
    EARNED_GROWTH,
    R_ILLNESS,
    R_CHRONIC,
    R_DISABILITY,
    R_INJURY,
    R_DEATH,
    R_JOB_LOSS,
    R_CROP,
    R_LIVESTOCK,
    COVERAGE_EXTRA,
    LINE,
    PENSION_NOW,
    DIBAO_NOW,
    RAMP,
    RESPONSE,
    SPREAD,
    HAS_DROUGHT,
    WAGE_LEVEL,
    FARM_LEVEL,
    BUSINESS_LEVEL,
    PROPERTY_LEVEL,
    LAND_LEVEL,
    SUPPORT_LEVEL,
    SCHOOL_LEVEL,
    N_PARAMS,
) = range(28)


def month_parameters(year: int, months: range, settings: SimulateConfig) -> np.ndarray:
    """One row per month of ``months``: what the compiled step needs to know of it."""
    table = np.zeros((len(months), N_PARAMS))
    for i, month in enumerate(months):
        when = Month.of(year, month, settings)
        rate = when.shock_rate
        row = table[i]
        row[MONTH], row[T] = month, when.t
        row[MEDICAL_GROWTH], row[EARNED_GROWTH] = when.medical_growth, when.earned_growth
        row[R_ILLNESS], row[R_CHRONIC], row[R_DISABILITY] = (
            rate[ILLNESS],
            rate[CHRONIC],
            rate[DISABILITY],
        )
        row[R_INJURY], row[R_DEATH], row[R_JOB_LOSS] = rate[INJURY], rate[DEATH], rate[JOB_LOSS]
        row[R_CROP], row[R_LIVESTOCK] = rate[CROP_FAILURE], rate[LIVESTOCK_LOSS]
        # insurance pays 0.5, plus this for registered households during/after the campaign
        row[COVERAGE_EXTRA] = (0.25 if year <= 2020 else 0.15) if year >= 2016 else 0.0
        row[LINE], row[PENSION_NOW], row[DIBAO_NOW] = (
            LINES[year],
            PENSION[year],
            DIBAO_PER_PERSON[year],
        )
        row[RAMP], row[RESPONSE] = poverty_ramp(year), settings.assistance_response
        row[SPREAD] = 0.7 * settings.income_volatility
        row[HAS_DROUGHT] = when.is_harsh and 5 <= month <= 9
        # growth factors, as month._earn computes them
        row[WAGE_LEVEL] = WAGE_GROWTH**when.t * when.earned_growth
        row[FARM_LEVEL] = FARM_GROWTH**when.t * when.earned_growth
        row[BUSINESS_LEVEL] = BUSINESS_GROWTH**when.t * when.earned_growth
        row[PROPERTY_LEVEL], row[LAND_LEVEL] = PROPERTY_GROWTH**when.t, 1.03**when.t
        row[SUPPORT_LEVEL], row[SCHOOL_LEVEL] = SUPPORT_GROWTH**when.t, 1.06**when.t
    return table


# the columns of a packed row: one household-draw's state (counts and flags as floats)
FIELDS = (
    "world", "county", "ability", "frailty", "farm_skill", "farm_scale", "business_scale",
    "support", "property_level", "education_level", "uplift_boost", "lift_cap", "registered",
    "exited", "insured", "size_start", "industrial_amount", "job_aid_amount", "last_pc_net",
    "herd", "n_children", "n_students", "n_labor", "n_elderly", "n_migrant", "n_disabled",
    "n_disabled_labor", "n_chronic", "n_chronic_labor", "sick_months", "jobless_months",
    "harvest_factor", "dibao_amount", "wage", "business", "property_income", "transfer",
    "medical", "education",
)  # fmt: skip
(
    WORLD, COUNTY, ABILITY, FRAILTY, FARM_SKILL, FARM_SCALE, BUSINESS_SCALE, SUPPORT,
    PROPERTY, SCHOOLING, UPLIFT_BOOST, LIFT_CAP, REGISTERED, EXITED, INSURED, SIZE_START,
    INDUSTRIAL, JOB_AID, LAST_PC_NET, HERD, CHILDREN, STUDENTS, LABOR, ELDERLY, MIGRANT,
    DISABLED, DISABLED_LABOR, CHRONIC_ILL, CHRONIC_LABOR, SICK, JOBLESS, HARVEST_FACTOR,
    DIBAO, WAGE, BUSINESS, PROPERTY_INCOME, TRANSFER, MEDICAL, EDUCATION,
) = range(len(FIELDS))  # fmt: skip


def rest_of_year_per_capita(
    state: WorldState,
    year: int,
    first_month: int,
    n_worlds: int,
    rng: np.random.Generator,
    *,
    n_counties: int,
    settings: SimulateConfig,
) -> np.ndarray:
    """Per-capita net income of ``year`` for each row of ``state`` (at the start of
    ``first_month``) after running months ``first_month``..12; ``state.world`` picks each
    row's draw of county shocks, as in ``run_months``. ``rng`` draws the county shocks and
    seeds the households' luck; the input is not changed."""
    months = range(first_month, 13)
    disaster = np.zeros((len(months), n_worlds, n_counties), np.bool_)
    lockdown, drought = disaster.copy(), disaster.copy()
    for i, month in enumerate(months):
        county = county_shocks(Month.of(year, month, settings), n_worlds, n_counties, rng)
        disaster[i], lockdown[i] = county.disaster, county.lockdown
        if county.drought is not None:
            drought[i] = county.drought
    rows = np.empty((len(state), len(FIELDS)))
    for column, name in enumerate(FIELDS):
        rows[:, column] = getattr(state, name)
    seed = int(rng.integers(0, 2**63 - 1))
    params = month_parameters(year, months, settings)
    _run(params, disaster, lockdown, drought, rand.new_state(seed), rows)
    net = rows[:, WAGE] + rows[:, BUSINESS] + rows[:, PROPERTY_INCOME] + rows[:, TRANSFER]
    net -= rows[:, MEDICAL] + rows[:, EDUCATION]
    return net / np.maximum(rows[:, SIZE_START], 1)


@njit(error_model="numpy")
def _run(p, disaster, lockdown, drought, st, x):  # type: ignore[no-untyped-def]
    """Each row of ``x`` (household-draws x ``FIELDS``) through the months of ``p`` (months x
    parameters), in place, phase by phase as in ``month._step_month``. Rows and months are
    indexed, not sliced: a slice is a reference-counted view, which costs more than the month."""
    for i in range(x.shape[0]):  # a row's months back to back, while it is in cache
        w, c = int(x[i, WORLD]), int(x[i, COUNTY])
        for m in range(p.shape[0]):
            cov = 0.0  # month._insurance_coverage
            if x[i, INSURED] > 0:
                cov = 0.5 + (p[m, COVERAGE_EXTRA] if x[i, REGISTERED] > 0 else 0.0)
            hit_disaster = disaster[m, w, c] and rand.uniform(st) < 0.4
            locked = lockdown[m, w, c]
            in_drought = p[m, HAS_DROUGHT] > 0 and drought[m, w, c]
            bills = _health(st, x, i, p, m, cov)
            job_lost = _livelihood(st, x, i, p, m, hit_disaster, locked, in_drought)
            _earn(st, x, i, p, m, locked, cov)
            _hardship_aid(st, x, i, p, m, bills, job_lost)
            _wear_off(x, i)


@njit(inline="always", error_model="numpy")
def _health(st, x, i, p, m, cov):  # type: ignore[no-untyped-def]
    """shocks.health_shocks for one row: bills added to medical costs, members changed;
    returns the hospital and end-of-life bills after insurance (for hardship aid)."""
    frail, med_growth = x[i, FRAILTY], p[m, MEDICAL_GROWTH]
    weight = (
        0.5 * x[i, CHILDREN]
        + 0.4 * x[i, STUDENTS]
        + x[i, LABOR]
        + 3.0 * x[i, ELDERLY]
        + 2.0 * x[i, CHRONIC_ILL]
    )
    oop = 0.0
    if rand.uniform(st) < 1 - np.exp(-(0.0045 * p[m, R_ILLNESS]) * weight * frail):
        bill = rand.lognormal(st, HOSPITAL_COST * med_growth, 1.0)
        if x[i, ELDERLY] > 0:
            bill *= 1.3
        oop = bill * (1 - cov)
        x[i, MEDICAL] += oop
        if rand.uniform(st) * weight < x[i, LABOR]:
            x[i, SICK] += rand.geometric(st, 0.45)
    exposed = x[i, LABOR] + 3.0 * x[i, ELDERLY]
    if rand.uniform(st) < 1 - np.exp(-(0.0009 * p[m, R_CHRONIC]) * frail * exposed):
        to_labor = rand.uniform(st) * exposed < x[i, LABOR]
        free = x[i, LABOR] - x[i, CHRONIC_LABOR] - x[i, DISABLED_LABOR] - x[i, MIGRANT]
        x[i, CHRONIC_ILL] += 1
        if to_labor and free > 0:
            x[i, CHRONIC_LABOR] += 1
        x[i, MEDICAL] += rand.lognormal(st, 2_000.0 * med_growth, 0.6) * (1 - cov)
    exposed = x[i, LABOR] + x[i, ELDERLY]
    if rand.uniform(st) < 1 - np.exp(-(0.00025 * p[m, R_DISABILITY]) * frail * exposed):
        free = x[i, LABOR] - x[i, CHRONIC_LABOR] - x[i, DISABLED_LABOR]
        dis_labor = free > 0 and rand.uniform(st) < 0.6
        if dis_labor and x[i, MIGRANT] > 0 and free <= x[i, MIGRANT]:
            x[i, MIGRANT] -= 1
        x[i, DISABLED] += 1
        if dis_labor:
            x[i, DISABLED_LABOR] += 1
        x[i, MEDICAL] += rand.lognormal(st, 5_000.0 * med_growth, 0.8) * (1 - cov)
    if x[i, LABOR] > 0 and rand.uniform(st) < 1 - np.exp(-(0.0016 * p[m, R_INJURY]) * x[i, LABOR]):
        x[i, MEDICAL] += rand.lognormal(st, 3_000.0 * med_growth, 1.0) * (1 - cov) * 0.7
        x[i, SICK] += 1 + int(3 * rand.uniform(st))
    end_of_life = _death(st, x, i, p[m, R_DEATH], cov, med_growth)
    x[i, MEDICAL] += end_of_life
    return oop + end_of_life


@njit(inline="always", error_model="numpy")
def _death(st, x, i, rate, cov, med_growth):  # type: ignore[no-untyped-def]
    """shocks._deaths for one row: who died, in place; the end-of-life bill after insurance
    (0 when nobody died)."""
    frail = x[i, FRAILTY]
    w_elder = 0.0035 * rate * x[i, ELDERLY] * frail
    w_labor = 0.0003 * rate * x[i, LABOR] * frail
    w_young = 0.00005 * rate * (x[i, CHILDREN] + x[i, STUDENTS])
    total = w_elder + w_labor + w_young
    size = x[i, CHILDREN] + x[i, STUDENTS] + x[i, LABOR] + x[i, ELDERLY]
    if not (size > 1 and rand.uniform(st) < 1 - np.exp(-total)):
        return 0.0
    pick = rand.uniform(st) * max(total, 1e-12)
    if pick < w_elder:
        x[i, ELDERLY] -= 1
        if x[i, CHRONIC_ILL] > x[i, CHRONIC_LABOR] and rand.uniform(st) < 0.6:
            x[i, CHRONIC_ILL] -= 1
    elif pick < w_elder + w_labor:
        migrant = x[i, MIGRANT] > 0 and rand.uniform(st) * max(x[i, LABOR], 1) < x[i, MIGRANT]
        x[i, LABOR] -= 1
        if migrant:
            x[i, MIGRANT] -= 1
        elif x[i, CHRONIC_LABOR] > 0:
            x[i, CHRONIC_LABOR] -= 1
            x[i, CHRONIC_ILL] -= 1
        elif x[i, DISABLED_LABOR] > 0:
            x[i, DISABLED_LABOR] -= 1
            x[i, DISABLED] -= 1
    elif x[i, CHILDREN] > 0 and rand.uniform(st) < 0.5:
        x[i, CHILDREN] -= 1
    elif x[i, STUDENTS] > 0:
        x[i, STUDENTS] -= 1
    return rand.lognormal(st, 4_000.0 * med_growth, 1.0) * (1 - cov)


@njit(inline="always", error_model="numpy")
def _livelihood(st, x, i, p, m, hit_disaster, locked, in_drought):  # type: ignore[no-untyped-def]
    """shocks.livelihood_shocks for one row: losses off business income, in place; returns
    whether a migrant lost a job."""
    job_lost = False
    if x[i, MIGRANT] > 0 and x[i, JOBLESS] == 0:
        rate = (0.006 + 0.25 if locked else 0.006) * p[m, R_JOB_LOSS]
        if rand.uniform(st) < 1 - np.exp(-rate * x[i, MIGRANT]):
            job_lost = True
            x[i, JOBLESS] += rand.geometric(st, 0.25)
    month = int(p[m, MONTH])
    p_crop = min(0.012 * p[m, R_CROP], 1.0) if 5 <= month <= 9 else 0.0
    crop = rand.uniform(st) < p_crop or (hit_disaster and rand.uniform(st) < 0.7)
    drought_herd = False
    if in_drought:  # most crops fail, herds suffer
        crop = rand.uniform(st) < 0.8 or crop
        drought_herd = rand.uniform(st) < 0.3
    if crop:
        x[i, HARVEST_FACTOR] *= 1 - rand.between(st, 0.3, 0.85)
    p_herd = min(0.004 * p[m, R_LIVESTOCK], 1.0)
    if x[i, HERD] > 0 and (
        rand.uniform(st) < p_herd or (hit_disaster and rand.uniform(st) < 0.3) or drought_herd
    ):
        loss = x[i, HERD] * rand.between(st, 0.3, 1.0)
        x[i, HERD] -= loss
        x[i, BUSINESS] -= loss * 0.6
    if hit_disaster:
        x[i, BUSINESS] -= rand.lognormal(st, 4_000.0, 0.9) * 0.3
    return job_lost


@njit(inline="always", error_model="numpy")
def _earn(st, x, i, p, m, locked, cov):  # type: ignore[no-untyped-def]
    """month._earn for one row: the month's income and rigid expenses, in place."""
    month = int(p[m, MONTH])
    sick = x[i, SICK] > 0
    away = max(x[i, MIGRANT] - (1.0 if x[i, JOBLESS] > 0 else 0.0), 0.0)
    away_sick = sick and away > 0
    if away_sick:
        away -= 1.0
    workers = max(
        x[i, LABOR] - x[i, MIGRANT] - x[i, DISABLED_LABOR] - 0.5 * x[i, CHRONIC_LABOR], 0.0
    )
    local = max(workers - (1.0 if sick and not away_sick else 0.0), 0.0)
    ramp = min(p[m, RAMP], x[i, LIFT_CAP])
    lift = x[i, UPLIFT_BOOST] * ramp if x[i, REGISTERED] > 0 else 0.0
    growth = p[m, WAGE_LEVEL] * x[i, ABILITY] * (1 + 0.7 * lift)
    x[i, WAGE] += (
        away * MIGRANT_WAGE * MIGRANT_SEASON[month - 1] * (0.15 if locked else 1.0)
        + local * LOCAL_WAGE * (0.5 if locked else 1.0)
    ) * growth
    x[i, WAGE] += x[i, JOB_AID] / 12
    hands = min(max((workers + 0.5 * max(x[i, ELDERLY] - x[i, CHRONIC_ILL], 0.0)) / 1.5, 0.3), 1.0)
    harvest = FARM_HARVEST * p[m, FARM_LEVEL] * x[i, FARM_SCALE] * x[i, FARM_SKILL]
    share = HARVEST_SHARE[month - 1] * x[i, HARVEST_FACTOR] - FARM_COST_SHARE / 12
    farm = harvest * share * hands
    shop = 0.0
    if x[i, BUSINESS_SCALE] > 0:  # no business, no luck to draw
        shop = (
            x[i, BUSINESS_SCALE] / 12 * p[m, BUSINESS_LEVEL] * (1 + p[m, SPREAD] * rand.normal(st))
        )
        shop *= 0.4 if locked else 1.0
    herd = x[i, HERD] * LIVESTOCK_RETURN / 12 * p[m, FARM_LEVEL]
    x[i, BUSINESS] += (farm + shop + herd) * (1 + lift) + x[i, INDUSTRIAL] / 12
    x[i, PROPERTY_INCOME] += x[i, PROPERTY] / 12 * p[m, PROPERTY_LEVEL]
    policy = POLICY_TRANSFER * ramp if x[i, REGISTERED] > 0 else 0.0
    x[i, TRANSFER] += (
        x[i, ELDERLY] * p[m, PENSION_NOW]
        + x[i, DISABLED] * 1_000.0 * p[m, MEDICAL_GROWTH]
        + 600.0 * x[i, FARM_SCALE] * p[m, LAND_LEVEL]
        + x[i, SUPPORT] * p[m, SUPPORT_LEVEL]
        + policy
        + x[i, DIBAO]
    ) / 12
    chronic = x[i, CHRONIC_ILL] * 2_800.0 * np.sqrt(x[i, FRAILTY]) * (1 - 0.5 * cov)
    x[i, MEDICAL] += (
        (x[i, SIZE_START] * 120.0 * x[i, FRAILTY] + chronic) * p[m, MEDICAL_GROWTH] / 12
    )
    school = x[i, STUDENTS] * EDUCATION_COST * x[i, SCHOOLING] * p[m, SCHOOL_LEVEL] / 12
    x[i, EDUCATION] += school * (0.5 if x[i, REGISTERED] > 0 else 1.0)


@njit(inline="always", error_model="numpy")
def _hardship_aid(st, x, i, p, m, bills, job_lost):  # type: ignore[no-untyped-def]
    """month._hardship_aid for one row: medical aid, a new minimum living allowance, jobs for
    registered migrants who lost theirs (in place; housing aid only gets recorded)."""
    line, response = p[m, LINE], p[m, RESPONSE]
    near = x[i, REGISTERED] > 0 or x[i, EXITED] > 0 or x[i, LAST_PC_NET] < 2 * line
    hardship = near and bills > 0.25 * line * x[i, SIZE_START]
    if hardship and rand.uniform(st) < min(0.5 * response, 1.0):
        x[i, TRANSFER] += 0.3 * bills
    fragile = x[i, DISABLED] + x[i, CHRONIC_ILL] + x[i, ELDERLY] > 0 or x[i, LABOR] == 0
    projected = x[i, LAST_PC_NET] - x[i, MEDICAL] / max(x[i, SIZE_START], 1)
    if np.isnan(projected):
        projected = 1e9
    needy = x[i, DIBAO] == 0 and fragile and projected < 1.2 * line
    if needy and rand.uniform(st) < min(0.08 * response, 1.0):
        size = int(x[i, CHILDREN] + x[i, STUDENTS] + x[i, LABOR] + x[i, ELDERLY])
        x[i, DIBAO] += _as_int16(size * int(p[m, DIBAO_NOW])) * rand.between(st, 0.3, 0.8)
    helped = job_lost and (x[i, REGISTERED] > 0 or x[i, EXITED] > 0)
    if helped and rand.uniform(st) < min(0.3 * response, 1.0):
        x[i, JOBLESS] = min(x[i, JOBLESS], 2.0)


@njit(inline="always", error_model="numpy")
def _wear_off(x, i):  # type: ignore[no-untyped-def]
    """world.keep_counts_consistent and the month's end of sickness and joblessness."""
    x[i, CHRONIC_LABOR] = min(x[i, CHRONIC_LABOR], x[i, LABOR])
    x[i, DISABLED_LABOR] = min(x[i, DISABLED_LABOR], x[i, LABOR] - x[i, CHRONIC_LABOR])
    x[i, MIGRANT] = min(x[i, MIGRANT], x[i, LABOR] - x[i, CHRONIC_LABOR] - x[i, DISABLED_LABOR])
    x[i, CHRONIC_ILL] = min(x[i, CHRONIC_ILL], x[i, CHRONIC_LABOR] + x[i, ELDERLY])
    x[i, DISABLED] = min(x[i, DISABLED], x[i, DISABLED_LABOR] + x[i, ELDERLY])
    x[i, SICK] = max(x[i, SICK] - 1, 0.0)
    x[i, JOBLESS] = max(x[i, JOBLESS] - 1, 0.0)


@njit(inline="always", error_model="numpy")
def _as_int16(value: int) -> int:
    """``value`` wrapped to 16 bits, as ``month._hardship_aid`` computes the allowance
    (``s.size`` is int16 there, so members x yuan per person wraps above 32,767)."""
    return (value + 32_768) % 65_536 - 32_768
