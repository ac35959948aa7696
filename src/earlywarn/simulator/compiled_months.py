"""The rest of a year for the oracle, compiled: one household-draw at a time, no temporaries.

:func:`rest_of_year_per_capita` runs the same monthly rules as
:func:`~earlywarn.simulator.month.run_months` (shocks of :mod:`~earlywarn.simulator.shocks`,
then earnings, then hardship aid, then conditions wearing off) but as one Numba loop over
households, draws and months, keeping only what the year's per-capita net income depends on:
no records, no assistance start dates, no costs that are only written down. County shocks are
drawn by the shared :func:`~earlywarn.simulator.shocks.county_shocks`; household luck comes
from :mod:`~earlywarn.simulator.compiled_random`, seeded per call, so its draws differ from
``run_months``'s but follow the same distributions (``tests/unit/simulator/test_oracle.py``
holds the two oracles to the same probabilities). A change to a monthly rule in ``month.py``
or ``shocks.py`` must be made here too.

What makes it fast: each household's row is copied into a scratch row per draw (no
households x draws copy of the state); the arrays reach the compiled phases without their
owner (:func:`~earlywarn.simulator.compiled_layout.unowned`), so Numba's atomic reference
counting, which took most of the loop's time, costs nothing, and the phases are inlined into
the loop (called, each took dozens of arguments; 4x faster inlined); the chances of
member-driven shocks are worked out once per household
(:mod:`~earlywarn.simulator.compiled_chances`); the loop's machine code is cached on disk
(:func:`~earlywarn.simulator.compiled_random.cached`) so a process loads it instead of
compiling it. The world's constants reach it through the month table
(:func:`~earlywarn.simulator.compiled_layout.month_parameters`), not as globals frozen into
the cache; the cache is keyed on this file, so :data:`COMPILED_WITH` pins the compiled
modules it calls into (a test fails until it is updated after they change).
"""

from __future__ import annotations

import numpy as np

from earlywarn.config import SimulateConfig
from earlywarn.simulator import compiled_random as rand
from earlywarn.simulator.compiled_chances import (
    N_CHANCES,
    P_CHRONIC,
    P_DEATH,
    P_DISABILITY,
    P_ILLNESS,
    P_INJURY,
    P_JOB,
    P_JOB_LOCKED,
    chances,
    death_weights,
    p_chronic,
    p_death,
    p_disability,
    p_illness,
    p_injury,
    p_job_loss,
    same_members,
)
from earlywarn.simulator.compiled_layout import (
    ABILITY,
    BUSINESS,
    BUSINESS_LEVEL,
    BUSINESS_SCALE,
    CHILDREN,
    CHRONIC_ILL,
    CHRONIC_LABOR,
    COUNTY,
    COVERAGE_EXTRA,
    DIBAO,
    DIBAO_NOW,
    DISABLED,
    DISABLED_LABOR,
    EDUCATION,
    ELDERLY,
    EXITED,
    FARM_COST,
    FARM_LEVEL,
    FARM_SCALE,
    FARM_SKILL,
    FIELDS,
    FRAILTY,
    HARVEST,
    HARVEST_FACTOR,
    HARVEST_NOW,
    HAS_DROUGHT,
    HERD,
    HERD_RETURN,
    HOSPITAL,
    INDUSTRIAL,
    INSURED,
    JOB_AID,
    JOBLESS,
    LABOR,
    LAND_LEVEL,
    LAST_PC_NET,
    LIFT_CAP,
    LINE,
    LOCAL_PAY,
    MEDICAL,
    MEDICAL_GROWTH,
    MIGRANT,
    MIGRANT_PAY,
    MONTH,
    PENSION_NOW,
    POLICY,
    PROPERTY,
    PROPERTY_INCOME,
    PROPERTY_LEVEL,
    R_CROP,
    R_DEATH,
    R_LIVESTOCK,
    RAMP,
    REGISTERED,
    RESPONSE,
    SCHOOL_COST,
    SCHOOL_LEVEL,
    SCHOOLING,
    SEASON,
    SICK,
    SIZE_START,
    SPREAD,
    STUDENTS,
    SUPPORT,
    SUPPORT_LEVEL,
    TRANSFER,
    UPLIFT_BOOST,
    WAGE,
    WAGE_LEVEL,
    month_parameters,
    unowned,
)
from earlywarn.simulator.shocks import county_shocks
from earlywarn.simulator.world import Month, WorldState

# SHA-256 (first 16 hex digits) of compiled_chances.py, compiled_layout.py and compiled_random.py:
# changing it with them changes this file, which makes Numba recompile the cached loop
COMPILED_WITH = "c42cd2f70bdc5b4c"


def rest_of_year_per_capita(
    state: WorldState,
    year: int,
    first_month: int,
    n_draws: int,
    rng: np.random.Generator,
    *,
    n_counties: int,
    settings: SimulateConfig,
) -> np.ndarray:
    """Per-capita net income of ``year`` (households x ``n_draws``) for each row of ``state``
    (at the start of ``first_month``) after running months ``first_month``..12, draw ``d``
    living draw ``d`` of the county shocks (``state.world`` = ``d`` in ``run_months``).
    ``rng`` draws the county shocks and seeds the households' luck; the input is not
    changed."""
    months = range(first_month, 13)
    disaster = np.zeros((len(months), n_draws, n_counties), np.bool_)
    lockdown, drought = disaster.copy(), disaster.copy()
    for i, month in enumerate(months):
        county = county_shocks(Month.of(year, month, settings), n_draws, n_counties, rng)
        disaster[i], lockdown[i] = county.disaster, county.lockdown
        if county.drought is not None:
            drought[i] = county.drought
    rows = np.empty((len(state), len(FIELDS)))
    for column, name in enumerate(FIELDS):
        rows[:, column] = getattr(state, name)
    seed = int(rng.integers(0, 2**63 - 1))
    params = month_parameters(year, months, settings)
    per_capita = np.empty((len(state), n_draws))
    scratch = (np.empty(len(FIELDS)), np.empty(len(FIELDS)), np.empty((len(months), N_CHANCES)))
    _run(params, disaster, lockdown, drought, rand.new_state(seed), rows, per_capita, *scratch)
    return per_capita


@rand.cached
def _run(p, disaster, lockdown, drought, st, rows, out, x, x0, odds):  # type: ignore[no-untyped-def]
    """Each household of ``rows`` (households x ``FIELDS``), ``out.shape[1]`` times, through
    the months of ``p`` (months x parameters), phase by phase as in ``month._step_month``;
    ``out``: each household-draw's per-capita net income of the year. A draw starts from a
    copy of its household's row in a scratch row that stays in cache; fields are indexed, not
    sliced (a slice is a reference-counted view, which costs more than the month). The chances
    of the shocks that depend only on members are worked out once per household (``odds``)
    and used while a draw's members are still the household's (``compiled_chances``)."""
    p, st, x, x0, odds = unowned(p), unowned(st), unowned(x), unowned(x0), unowned(odds)
    for i in range(rows.shape[0]):
        for f in range(rows.shape[1]):
            x0[f] = rows[i, f]
        chances(x0, p, odds)
        c = int(x0[COUNTY])
        for w in range(out.shape[1]):
            for f in range(rows.shape[1]):
                x[f] = x0[f]
            for m in range(p.shape[0]):
                cov = 0.0  # month._insurance_coverage
                if x[INSURED] > 0:
                    cov = 0.5 + (p[m, COVERAGE_EXTRA] if x[REGISTERED] > 0 else 0.0)
                hit_disaster = disaster[m, w, c] and rand.uniform(st) < 0.4
                locked = lockdown[m, w, c]
                in_drought = p[m, HAS_DROUGHT] > 0 and drought[m, w, c]
                bills = _health(st, x, x0, p, m, odds, cov)
                job_lost = _livelihood(st, x, x0, p, m, odds, hit_disaster, locked, in_drought)
                _earn(st, x, p, m, locked, cov)
                _hardship_aid(st, x, p, m, bills, job_lost)
                _wear_off(x)
            net = x[WAGE] + x[BUSINESS] + x[PROPERTY_INCOME] + x[TRANSFER]
            net -= x[MEDICAL] + x[EDUCATION]
            out[i, w] = net / max(x[SIZE_START], 1.0)


@rand.inlined
def _health(st, x, x0, p, m, odds, cov):  # type: ignore[no-untyped-def]
    """shocks.health_shocks for one row: bills added to medical costs, members changed;
    returns the hospital and end-of-life bills after insurance (for hardship aid)."""
    med_growth = p[m, MEDICAL_GROWTH]
    # the household's chances hold for the whole phase when its members are the household's
    # at the start: no shock before deaths changes what a later shock's chance depends on
    same = same_members(x, x0)
    weight = (
        0.5 * x[CHILDREN] + 0.4 * x[STUDENTS] + x[LABOR] + 3.0 * x[ELDERLY] + 2.0 * x[CHRONIC_ILL]
    )
    oop = 0.0
    if rand.uniform(st) < (odds[m, P_ILLNESS] if same else p_illness(x, p, m)):
        bill = rand.lognormal(st, p[m, HOSPITAL] * med_growth, 1.0)
        if x[ELDERLY] > 0:
            bill *= 1.3
        oop = bill * (1 - cov)
        x[MEDICAL] += oop
        if rand.uniform(st) * weight < x[LABOR]:
            x[SICK] += rand.geometric(st, 0.45)
    exposed = x[LABOR] + 3.0 * x[ELDERLY]
    if rand.uniform(st) < (odds[m, P_CHRONIC] if same else p_chronic(x, p, m)):
        to_labor = rand.uniform(st) * exposed < x[LABOR]
        free = x[LABOR] - x[CHRONIC_LABOR] - x[DISABLED_LABOR] - x[MIGRANT]
        x[CHRONIC_ILL] += 1
        if to_labor and free > 0:
            x[CHRONIC_LABOR] += 1
        x[MEDICAL] += rand.lognormal(st, 2_000.0 * med_growth, 0.6) * (1 - cov)
    if rand.uniform(st) < (odds[m, P_DISABILITY] if same else p_disability(x, p, m)):
        free = x[LABOR] - x[CHRONIC_LABOR] - x[DISABLED_LABOR]
        dis_labor = free > 0 and rand.uniform(st) < 0.6
        if dis_labor and x[MIGRANT] > 0 and free <= x[MIGRANT]:
            x[MIGRANT] -= 1
        x[DISABLED] += 1
        if dis_labor:
            x[DISABLED_LABOR] += 1
        x[MEDICAL] += rand.lognormal(st, 5_000.0 * med_growth, 0.8) * (1 - cov)
    if x[LABOR] > 0 and rand.uniform(st) < (odds[m, P_INJURY] if same else p_injury(x, p, m)):
        x[MEDICAL] += rand.lognormal(st, 3_000.0 * med_growth, 1.0) * (1 - cov) * 0.7
        x[SICK] += 1 + int(3 * rand.uniform(st))
    end_of_life = _death(st, x, p, m, odds, same, cov, med_growth)
    x[MEDICAL] += end_of_life
    return oop + end_of_life


@rand.inlined
def _death(st, x, p, m, odds, same, cov, med_growth):  # type: ignore[no-untyped-def]
    """shocks._deaths for one row: who died, in place; the end-of-life bill after insurance
    (0 when nobody died)."""
    size = x[CHILDREN] + x[STUDENTS] + x[LABOR] + x[ELDERLY]
    if not (size > 1 and rand.uniform(st) < (odds[m, P_DEATH] if same else p_death(x, p, m))):
        return 0.0
    w_elder, w_labor, total = death_weights(x, p[m, R_DEATH])
    pick = rand.uniform(st) * max(total, 1e-12)
    if pick < w_elder:
        x[ELDERLY] -= 1
        if x[CHRONIC_ILL] > x[CHRONIC_LABOR] and rand.uniform(st) < 0.6:
            x[CHRONIC_ILL] -= 1
    elif pick < w_elder + w_labor:
        migrant = x[MIGRANT] > 0 and rand.uniform(st) * max(x[LABOR], 1) < x[MIGRANT]
        x[LABOR] -= 1
        if migrant:
            x[MIGRANT] -= 1
        elif x[CHRONIC_LABOR] > 0:
            x[CHRONIC_LABOR] -= 1
            x[CHRONIC_ILL] -= 1
        elif x[DISABLED_LABOR] > 0:
            x[DISABLED_LABOR] -= 1
            x[DISABLED] -= 1
    elif x[CHILDREN] > 0 and rand.uniform(st) < 0.5:
        x[CHILDREN] -= 1
    elif x[STUDENTS] > 0:
        x[STUDENTS] -= 1
    return rand.lognormal(st, 4_000.0 * med_growth, 1.0) * (1 - cov)


@rand.inlined
def _livelihood(st, x, x0, p, m, odds, hit_disaster, locked, in_drought):  # type: ignore[no-untyped-def]
    """shocks.livelihood_shocks for one row: losses off business income, in place; returns
    whether a migrant lost a job."""
    job_lost = False
    if x[MIGRANT] > 0 and x[JOBLESS] == 0:
        if same_members(x, x0):
            chance = odds[m, P_JOB_LOCKED if locked else P_JOB]
        else:
            chance = p_job_loss(x, p, m, locked)
        if rand.uniform(st) < chance:
            job_lost = True
            x[JOBLESS] += rand.geometric(st, 0.25)
    month = int(p[m, MONTH])
    p_crop = min(0.012 * p[m, R_CROP], 1.0) if 5 <= month <= 9 else 0.0
    crop = rand.uniform(st) < p_crop or (hit_disaster and rand.uniform(st) < 0.7)
    drought_herd = False
    if in_drought:  # most crops fail, herds suffer
        crop = rand.uniform(st) < 0.8 or crop
        drought_herd = rand.uniform(st) < 0.3
    if crop:
        x[HARVEST_FACTOR] *= 1 - rand.between(st, 0.3, 0.85)
    p_herd = min(0.004 * p[m, R_LIVESTOCK], 1.0)
    if x[HERD] > 0 and (
        rand.uniform(st) < p_herd or (hit_disaster and rand.uniform(st) < 0.3) or drought_herd
    ):
        loss = x[HERD] * rand.between(st, 0.3, 1.0)
        x[HERD] -= loss
        x[BUSINESS] -= loss * 0.6
    if hit_disaster:
        x[BUSINESS] -= rand.lognormal(st, 4_000.0, 0.9) * 0.3
    return job_lost


@rand.inlined
def _earn(st, x, p, m, locked, cov):  # type: ignore[no-untyped-def]
    """month._earn for one row: the month's income and rigid expenses, in place."""
    sick = x[SICK] > 0
    away = max(x[MIGRANT] - (1.0 if x[JOBLESS] > 0 else 0.0), 0.0)
    away_sick = sick and away > 0
    if away_sick:
        away -= 1.0
    workers = max(x[LABOR] - x[MIGRANT] - x[DISABLED_LABOR] - 0.5 * x[CHRONIC_LABOR], 0.0)
    local = max(workers - (1.0 if sick and not away_sick else 0.0), 0.0)
    ramp = min(p[m, RAMP], x[LIFT_CAP])
    lift = x[UPLIFT_BOOST] * ramp if x[REGISTERED] > 0 else 0.0
    growth = p[m, WAGE_LEVEL] * x[ABILITY] * (1 + 0.7 * lift)
    x[WAGE] += (
        away * p[m, MIGRANT_PAY] * p[m, SEASON] * (0.15 if locked else 1.0)
        + local * p[m, LOCAL_PAY] * (0.5 if locked else 1.0)
    ) * growth
    x[WAGE] += x[JOB_AID] / 12
    hands = min(max((workers + 0.5 * max(x[ELDERLY] - x[CHRONIC_ILL], 0.0)) / 1.5, 0.3), 1.0)
    harvest = p[m, HARVEST] * p[m, FARM_LEVEL] * x[FARM_SCALE] * x[FARM_SKILL]
    share = p[m, HARVEST_NOW] * x[HARVEST_FACTOR] - p[m, FARM_COST] / 12
    farm = harvest * share * hands
    shop = 0.0
    if x[BUSINESS_SCALE] > 0:  # no business, no luck to draw
        shop = x[BUSINESS_SCALE] / 12 * p[m, BUSINESS_LEVEL] * (1 + p[m, SPREAD] * rand.normal(st))
        shop *= 0.4 if locked else 1.0
    herd = x[HERD] * p[m, HERD_RETURN] / 12 * p[m, FARM_LEVEL]
    x[BUSINESS] += (farm + shop + herd) * (1 + lift) + x[INDUSTRIAL] / 12
    x[PROPERTY_INCOME] += x[PROPERTY] / 12 * p[m, PROPERTY_LEVEL]
    policy = p[m, POLICY] * ramp if x[REGISTERED] > 0 else 0.0
    x[TRANSFER] += (
        x[ELDERLY] * p[m, PENSION_NOW]
        + x[DISABLED] * 1_000.0 * p[m, MEDICAL_GROWTH]
        + 600.0 * x[FARM_SCALE] * p[m, LAND_LEVEL]
        + x[SUPPORT] * p[m, SUPPORT_LEVEL]
        + policy
        + x[DIBAO]
    ) / 12
    chronic = x[CHRONIC_ILL] * 2_800.0 * np.sqrt(x[FRAILTY]) * (1 - 0.5 * cov)
    x[MEDICAL] += (x[SIZE_START] * 120.0 * x[FRAILTY] + chronic) * p[m, MEDICAL_GROWTH] / 12
    school = x[STUDENTS] * p[m, SCHOOL_COST] * x[SCHOOLING] * p[m, SCHOOL_LEVEL] / 12
    x[EDUCATION] += school * (0.5 if x[REGISTERED] > 0 else 1.0)


@rand.inlined
def _hardship_aid(st, x, p, m, bills, job_lost):  # type: ignore[no-untyped-def]
    """month._hardship_aid for one row: medical aid, a new minimum living allowance, jobs for
    registered migrants who lost theirs (in place; housing aid only gets recorded)."""
    line, response = p[m, LINE], p[m, RESPONSE]
    near = x[REGISTERED] > 0 or x[EXITED] > 0 or x[LAST_PC_NET] < 2 * line
    hardship = near and bills > 0.25 * line * x[SIZE_START]
    if hardship and rand.uniform(st) < min(0.5 * response, 1.0):
        x[TRANSFER] += 0.3 * bills
    fragile = x[DISABLED] + x[CHRONIC_ILL] + x[ELDERLY] > 0 or x[LABOR] == 0
    projected = x[LAST_PC_NET] - x[MEDICAL] / max(x[SIZE_START], 1)
    if np.isnan(projected):
        projected = 1e9
    needy = x[DIBAO] == 0 and fragile and projected < 1.2 * line
    if needy and rand.uniform(st) < min(0.08 * response, 1.0):
        size = int(x[CHILDREN] + x[STUDENTS] + x[LABOR] + x[ELDERLY])
        x[DIBAO] += _as_int16(size * int(p[m, DIBAO_NOW])) * rand.between(st, 0.3, 0.8)
    helped = job_lost and (x[REGISTERED] > 0 or x[EXITED] > 0)
    if helped and rand.uniform(st) < min(0.3 * response, 1.0):
        x[JOBLESS] = min(x[JOBLESS], 2.0)


@rand.inlined
def _wear_off(x):  # type: ignore[no-untyped-def]
    """world.keep_counts_consistent and the month's end of sickness and joblessness."""
    x[CHRONIC_LABOR] = min(x[CHRONIC_LABOR], x[LABOR])
    x[DISABLED_LABOR] = min(x[DISABLED_LABOR], x[LABOR] - x[CHRONIC_LABOR])
    x[MIGRANT] = min(x[MIGRANT], x[LABOR] - x[CHRONIC_LABOR] - x[DISABLED_LABOR])
    x[CHRONIC_ILL] = min(x[CHRONIC_ILL], x[CHRONIC_LABOR] + x[ELDERLY])
    x[DISABLED] = min(x[DISABLED], x[DISABLED_LABOR] + x[ELDERLY])
    x[SICK] = max(x[SICK] - 1, 0.0)
    x[JOBLESS] = max(x[JOBLESS] - 1, 0.0)


@rand.compiled
def _as_int16(value: int) -> int:
    """``value`` wrapped to 16 bits, as ``month._hardship_aid`` computes the allowance
    (``s.size`` is int16 there, so members x yuan per person wraps above 32,767)."""
    return (value + 32_768) % 65_536 - 32_768
