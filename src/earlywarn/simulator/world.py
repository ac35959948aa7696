"""The simulated world: every household's full state, hidden variables included, and how it moves.

One row of a :class:`WorldState` is a household (in the oracle: one Monte Carlo copy of one).
Time moves a month at a time. :func:`run_months` is a pure function of (state at the start of a
month, random generator) -> state at the end of a later month, so the oracle can re-run the rest
of a year from any month many times; :func:`start_year` moves a state across New Year (ageing,
births, migration, reviews of assistance). Money is yuan; flows accumulate per calendar year in
the ``wage`` .. ``education`` fields, which :func:`start_year` resets.

Hidden variables (never written to the tables) drive outcomes so that what a survey shows is
informative but not the whole story: ``ability`` (earning power), ``frailty`` (health),
``farm_skill``, ``uplift_boost`` (how much poverty alleviation lifted a registered household).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from earlywarn.data.columns import DEFAULT_LINES

FIRST_YEAR = 2014
LAST_YEAR = 2025
EPOCH = np.datetime64("1970-01-01", "D")

# event codes (index into columns.EVENT_TYPES)
ILLNESS, INJURY, DISABILITY, CHRONIC, DEATH, JOB_LOSS = 0, 1, 2, 3, 4, 5
CROP_FAILURE, LIVESTOCK_LOSS, DISASTER, LOCKDOWN, OTHER = 6, 7, 8, 9, 10
# assistance codes (index into columns.MEASURES)
INDUSTRIAL, EMPLOYMENT, MEDICAL, DIBAO, EDUCATION, HOUSING, INSURANCE = 0, 1, 2, 3, 4, 5, 6

# --- levels in 2014 yuan and growth per year (calibrated by ``earlywarn calibration``) ---
MIGRANT_WAGE = 940.0  # per migrant worker per month at ability 1
LOCAL_WAGE = 250.0  # per local worker per month (part-time local jobs)
WAGE_GROWTH = 1.075
FARM_HARVEST = 16_500.0  # gross harvest per year at farm_scale 1, skill 1
FARM_COST_SHARE = 0.35
FARM_GROWTH = 1.055
HARVEST_SHARE = np.array([0, 0, 0, 0, 0.05, 0.2, 0.05, 0.05, 0.3, 0.3, 0.05, 0])
LIVESTOCK_RETURN = 0.12  # net income per month per yuan of herd
BUSINESS_GROWTH = 1.06
PROPERTY_GROWTH = 1.08
MIGRANT_SEASON = np.array([0.45, 0.35, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9])
PENSION = dict(
    zip(
        range(2014, 2026),
        [1_000, 1_050, 1_150, 1_250, 1_400, 1_550, 1_700, 1_850, 2_000, 2_200, 2_400, 2_600],
        strict=True,
    )
)
DIBAO_PER_PERSON = dict(
    zip(
        range(2014, 2026),
        [2_800, 3_000, 3_300, 3_700, 4_100, 4_500, 4_900, 5_200, 5_500, 5_800, 6_100, 6_300],
        strict=True,
    )
)
POLICY_TRANSFER = 7_900.0  # per registered household per year once poverty alleviation ramps up
SUPPORT_GROWTH = 1.06
MEDICAL_GROWTH = 1.05
HOSPITAL_COST = 7_000.0  # median hospital bill
EDUCATION_COST = 1_400.0  # per student per year
LINES = DEFAULT_LINES


def _years(year: int) -> int:
    return year - FIRST_YEAR


def poverty_ramp(year: int) -> float:
    """How far targeted poverty alleviation has ramped up (0 in 2014, 1 from 2020)."""
    return float(np.clip((year - 2014) / 6, 0.0, 1.0))


@dataclass
class WorldState:
    """Each household's full state at a moment; arrays of one length, one row a household."""

    household: np.ndarray  # row of the household in the households table
    world: np.ndarray  # which draw of county shocks applies (0 in the main run)
    county: np.ndarray
    # hidden and slow-moving
    ability: np.ndarray
    frailty: np.ndarray
    farm_skill: np.ndarray
    farm_scale: np.ndarray
    business_scale: np.ndarray  # 0 = no business
    herd_target: np.ndarray
    herd: np.ndarray
    support: np.ndarray  # private transfers from relatives, per year
    property_level: np.ndarray
    education_level: np.ndarray
    uplift_boost: np.ndarray
    lift_cap: np.ndarray  # poverty alleviation stops ramping up soon after a household exits
    registered: np.ndarray
    exited: np.ndarray
    insured: np.ndarray
    # members
    n_children: np.ndarray
    n_students: np.ndarray
    n_labor: np.ndarray
    n_elderly: np.ndarray
    n_migrant: np.ndarray
    n_disabled: np.ndarray
    n_disabled_labor: np.ndarray
    n_chronic: np.ndarray
    n_chronic_labor: np.ndarray
    size_start: np.ndarray
    # temporary conditions
    sick_months: np.ndarray
    jobless_months: np.ndarray
    harvest_factor: np.ndarray
    # assistance spells (amount per year, 0 = none; start as days since 1970)
    dibao_amount: np.ndarray
    dibao_start: np.ndarray
    industrial_amount: np.ndarray
    industrial_start: np.ndarray
    job_aid_amount: np.ndarray  # public-welfare job (employment assistance) wage per year
    job_aid_start: np.ndarray
    last_pc_net: np.ndarray  # per-capita net income of the previous year
    # the year so far
    wage: np.ndarray
    business: np.ndarray
    property_income: np.ndarray
    transfer: np.ndarray
    medical: np.ndarray
    education: np.ndarray

    def __len__(self) -> int:
        return len(self.household)

    def take(self, rows: np.ndarray) -> WorldState:
        """The rows ``rows`` (an index array), as a new state."""
        return WorldState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def copy(self) -> WorldState:
        return WorldState(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    @property
    def size(self) -> np.ndarray:
        """Members now (the survey's household_size is ``size_start``)."""
        return self.n_children + self.n_students + self.n_labor + self.n_elderly

    def per_capita_net(self) -> np.ndarray:
        """The year so far, per member at the start of the year, after rigid expenses."""
        net = (
            self.wage
            + self.business
            + self.property_income
            + self.transfer
            - self.medical
            - self.education
        )
        return net / np.maximum(self.size_start, 1)


@dataclass
class Records:
    """What the main run writes down: events and assistance spells, as parallel lists."""

    event_household: list[np.ndarray]
    event_day: list[np.ndarray]
    event_type: list[np.ndarray]
    event_cost: list[np.ndarray]
    aid_household: list[np.ndarray]
    aid_start: list[np.ndarray]
    aid_end: list[np.ndarray]
    aid_measure: list[np.ndarray]
    aid_amount: list[np.ndarray]

    @classmethod
    def empty(cls) -> Records:
        return cls(*([] for _ in fields(cls)))

    def event(
        self,
        state: WorldState,
        rows: np.ndarray,
        day: np.ndarray | int,
        code: int,
        cost: np.ndarray | float,
    ) -> None:
        """Events of type ``code`` for ``rows``; ``day``, ``cost``: one per household or one."""
        if len(rows):
            self.event_household.append(state.household[rows])
            days = np.broadcast_to(day, state.household.shape)[rows]
            self.event_day.append(days.astype(np.int64))
            self.event_type.append(np.full(len(rows), code, np.int8))
            self.event_cost.append(
                np.broadcast_to(np.asarray(cost, float), state.household.shape)[rows].copy()
            )

    def aid(
        self,
        state: WorldState,
        rows: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        code: int,
        amount: np.ndarray | float,
    ) -> None:
        """Spells of ``code`` for ``rows``; ``start``, ``end``, ``amount``: one per row."""
        if len(rows):
            self.aid_household.append(state.household[rows])
            self.aid_start.append(np.broadcast_to(start, rows.shape).astype(np.int64))
            self.aid_end.append(np.broadcast_to(end, rows.shape).astype(np.int64))
            self.aid_measure.append(np.full(len(rows), code, np.int8))
            self.aid_amount.append(np.broadcast_to(np.asarray(amount, float), rows.shape).copy())


NO_END = np.iinfo(np.int64).min  # marks an assistance spell still running


def month_start(year: int, month: int) -> int:
    """Days since 1970 of the first day of ``month``."""
    return int((np.datetime64(f"{year}-{month:02d}-01", "D") - EPOCH).astype(int))


def days_in_month(year: int, month: int) -> int:
    nxt = month_start(year + month // 12, month % 12 + 1)
    return nxt - month_start(year, month)


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


# ---------------------------------------------------------------------------------------------
# the initial world, 1 January 2014
# ---------------------------------------------------------------------------------------------


def initial_state(
    county: np.ndarray, head_age: np.ndarray, head_education: np.ndarray, rng: np.random.Generator
) -> WorldState:
    """Households as they stand on 1 January 2014 (``county`` as codes 0..n_counties-1)."""
    i16 = np.int16
    n = len(county)
    county_effect = lognormal(rng, 1.0, 0.2, int(county.max()) + 1)[county]
    young = head_age < 45
    old = head_age >= 62
    n_elderly = (rng.random(n) < np.where(old, 0.9, np.where(young, 0.35, 0.25))).astype(i16)
    n_elderly += (rng.random(n) < np.where(old, 0.6, 0.15)).astype(i16)
    n_labor = np.where(old, rng.binomial(2, 0.35, n), 1 + rng.binomial(2, 0.55, n)).astype(i16)
    n_children = np.where(young, rng.binomial(2, 0.45, n), rng.binomial(2, 0.12, n)).astype(i16)
    n_students = np.where(head_age < 58, rng.binomial(2, 0.5, n), rng.binomial(1, 0.15, n))
    n_students = n_students.astype(i16)
    empty = (n_labor + n_elderly + n_children + n_students) == 0
    n_elderly[empty] = 1
    n_migrant = rng.binomial(n_labor, 0.35).astype(i16)
    frailty = lognormal(rng, 1.0, 0.55, n)
    n_chronic_labor = rng.binomial(n_labor, np.minimum(0.06 * frailty, 0.5)).astype(i16)
    n_chronic_labor = np.minimum(n_chronic_labor, n_labor - n_migrant).astype(i16)
    n_chronic = n_chronic_labor + rng.binomial(n_elderly, np.minimum(0.25 * frailty, 0.9))
    n_disabled_labor = rng.binomial(
        n_labor - n_migrant - n_chronic_labor, np.minimum(0.02 * frailty, 0.5)
    ).astype(i16)
    n_disabled = n_disabled_labor + rng.binomial(n_elderly, 0.04).astype(i16)
    ability = lognormal(rng, 1.0, 0.4, n) * county_effect * np.exp(0.035 * (head_education - 7))
    herd_target = np.where(rng.random(n) < 0.55, lognormal(rng, 4_000.0, 0.7, n), 0.0)
    zeros = np.zeros(n)
    return WorldState(
        household=np.arange(n, dtype=np.int64),
        world=np.zeros(n, np.int32),
        county=county.astype(np.int32),
        ability=ability,
        frailty=frailty,
        farm_skill=lognormal(rng, 1.0, 0.3, n) * np.sqrt(ability),
        farm_scale=lognormal(rng, 1.0, 0.5, n),
        business_scale=np.where(rng.random(n) < 0.18, lognormal(rng, 26_000.0, 0.5, n), 0.0)
        * np.sqrt(ability),
        herd_target=herd_target,
        herd=herd_target.copy(),
        support=np.where(rng.random(n) < 0.7, lognormal(rng, 4_900.0, 0.8, n), 0.0),
        property_level=lognormal(rng, 300.0, 1.0, n),
        education_level=lognormal(rng, 1.0, 0.6, n),
        uplift_boost=lognormal(rng, 1.0, 0.45, n),
        lift_cap=np.ones(n),
        registered=np.zeros(n, bool),
        exited=np.zeros(n, bool),
        insured=rng.random(n) < 0.9,
        n_children=n_children,
        n_students=n_students,
        n_labor=n_labor,
        n_elderly=n_elderly,
        n_migrant=n_migrant,
        n_disabled=n_disabled.astype(i16),
        n_disabled_labor=n_disabled_labor,
        n_chronic=n_chronic.astype(i16),
        n_chronic_labor=n_chronic_labor,
        size_start=(n_children + n_students + n_labor + n_elderly).astype(i16),
        sick_months=np.zeros(n, i16),
        jobless_months=np.zeros(n, i16),
        harvest_factor=np.ones(n),
        dibao_amount=zeros.copy(),
        dibao_start=np.full(n, NO_END, np.int64),
        industrial_amount=zeros.copy(),
        industrial_start=np.full(n, NO_END, np.int64),
        job_aid_amount=zeros.copy(),
        job_aid_start=np.full(n, NO_END, np.int64),
        last_pc_net=np.full(n, np.nan),
        wage=zeros.copy(),
        business=zeros.copy(),
        property_income=zeros.copy(),
        transfer=zeros.copy(),
        medical=zeros.copy(),
        education=zeros.copy(),
    )


# ---------------------------------------------------------------------------------------------
# New Year: ageing, births, migration, reviews of assistance
# ---------------------------------------------------------------------------------------------


def start_year(
    state: WorldState, year: int, rng: np.random.Generator, records: Records | None = None
) -> WorldState:
    """Move ``state`` (31 December of ``year - 1``) to 1 January of ``year``; a new state."""
    s = state.copy()
    n = len(s)
    day = month_start(year, 1)
    s.last_pc_net = s.per_capita_net()
    # ageing: children start school, students start work (some leave home), workers retire
    to_school = rng.binomial(s.n_children, 1 / 6).astype(np.int16)
    to_work = rng.binomial(s.n_students, 1 / 11).astype(np.int16)
    leave = rng.binomial(to_work, 0.35).astype(np.int16)
    able_labor = s.n_labor - s.n_chronic_labor - s.n_disabled_labor
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
    # births
    birth = (s.n_labor >= 2) & (s.n_children < 3) & (rng.random(n) < 0.07)
    s.n_children += birth.astype(np.int16)
    # migration: healthy local workers leave for jobs, some migrants come home
    able_labor = s.n_labor - s.n_chronic_labor - s.n_disabled_labor
    local_able = np.maximum(able_labor - s.n_migrant, 0)
    drive = np.where(s.registered & (year <= 2020), 0.12, 0.0)
    # someone stays to farm: the last able worker leaves only if an elder keeps the fields
    can_go = np.maximum(local_able - 1 + (s.n_elderly > s.n_chronic), 0)
    go = rng.binomial(np.minimum(can_go, local_able), np.minimum(0.07 + drive, 1))
    go = go.astype(np.int16)
    back = rng.binomial(s.n_migrant, 0.07).astype(np.int16)
    s.n_migrant = s.n_migrant + go - back
    # hidden drift: earning power and health wander, health worsens with age
    s.ability = s.ability * np.exp(0.1 * rng.standard_normal(n))
    s.frailty = s.frailty * np.exp(0.08 * rng.standard_normal(n) + 0.01)
    s.herd = s.herd + 0.5 * (s.herd_target - s.herd)
    s.harvest_factor = np.ones(n)
    s.insured = s.insured | (rng.random(n) < (0.6 if year >= 2016 else 0.1))
    # assistance reviews: the minimum living allowance is withdrawn when income recovers
    line = LINES[year - 1]
    recovered = (s.dibao_amount > 0) & (s.last_pc_net > 1.6 * line) & (rng.random(n) < 0.6)
    if records is not None:
        rows = np.flatnonzero(recovered)
        records.aid(
            s, rows, s.dibao_start[rows], np.full(len(rows), day - 1), DIBAO, s.dibao_amount[rows]
        )
    s.dibao_amount = np.where(recovered, 0.0, s.dibao_amount)
    s.dibao_amount = np.where(s.dibao_amount > 0, s.dibao_amount * 1.05, 0.0)
    # industrial assistance for registered households, withdrawn after the transition
    gets = s.registered & (s.industrial_amount == 0) & (year >= 2015) & (year <= 2020)
    gets &= rng.random(n) < 0.3
    s.industrial_amount = np.where(gets, lognormal(rng, 3_000.0, 0.5, n), s.industrial_amount)
    s.industrial_start = np.where(gets, day + rng.integers(0, 120, n), s.industrial_start)
    ends = (s.industrial_amount > 0) & (year >= 2021) & (rng.random(n) < 0.3)
    if records is not None:
        rows = np.flatnonzero(ends)
        records.aid(
            s,
            rows,
            s.industrial_start[rows],
            np.full(len(rows), day - 1),
            INDUSTRIAL,
            s.industrial_amount[rows],
        )
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
    _review_public_jobs(s, year, rng, records)
    _keep_counts_consistent(s)
    for name in ("wage", "business", "property_income", "transfer", "medical", "education"):
        setattr(s, name, np.zeros(n))
    s.size_start = np.maximum(s.size, 1).astype(np.int16)
    return s


# ---------------------------------------------------------------------------------------------
# months
# ---------------------------------------------------------------------------------------------


def county_shocks(
    year: int, month: int, n_worlds: int, n_counties: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(disaster, lockdown) flags per (world, county) for one month."""
    wet = month in (6, 7, 8, 9)
    disaster = rng.random((n_worlds, n_counties)) < (0.02 if wet else 0.004)
    if year == 2020:
        p_lock = {2: 0.9, 3: 0.5, 4: 0.1}.get(month, 0.0)
    elif year == 2022:
        p_lock = 0.07 if month >= 3 else 0.02
    elif year == 2021:
        p_lock = 0.01
    else:
        p_lock = 0.0
    lockdown = rng.random((n_worlds, n_counties)) < p_lock
    return disaster, lockdown


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
) -> WorldState:
    """Run months ``first``..``last`` of ``year`` from ``state``; the input is not changed."""
    s = state.copy()
    for month in range(first, last + 1):
        _step_month(s, year, month, rng, n_counties, n_worlds, records)
    return s


def _step_month(
    s: WorldState,
    year: int,
    month: int,
    rng: np.random.Generator,
    n_counties: int,
    n_worlds: int,
    records: Records | None,
) -> None:
    n = len(s)
    t = _years(year)
    start = month_start(year, month)
    n_days = days_in_month(year, month)
    frail = s.frailty
    disaster_c, lockdown_c = county_shocks(year, month, n_worlds, n_counties, rng)
    hit_disaster = disaster_c[s.world, s.county] & (_uniform(rng, n) < 0.4)
    locked = lockdown_c[s.world, s.county]
    med_growth = MEDICAL_GROWTH**t
    coverage = np.where(
        s.insured,
        0.5 + np.where(s.registered & (year >= 2016), np.where(year <= 2020, 0.25, 0.15), 0.0),
        0.0,
    )

    # --- illness: hospital stays (the largest single risk) ---
    weight = (
        0.5 * s.n_children + 0.4 * s.n_students + s.n_labor + 3.0 * s.n_elderly + 2.0 * s.n_chronic
    )
    p_ill = 1 - np.exp(-0.0045 * weight * frail)
    ill = _uniform(rng, n) < p_ill
    bill = _where(ill, lambda k: lognormal(rng, HOSPITAL_COST * med_growth, 1.0, k))
    bill *= 1 + 0.3 * (s.n_elderly > 0)
    oop = np.where(ill, bill * (1 - coverage), 0.0)
    s.medical += oop
    worker_ill = ill & (_uniform(rng, n) * weight < s.n_labor)
    s.sick_months += _where(worker_ill, lambda k: rng.geometric(0.45, k), np.int16)
    # --- chronic diagnosis: lasting costs and half a worker less ---
    p_chronic = 1 - np.exp(-0.0009 * frail * (s.n_labor + 3.0 * s.n_elderly))
    chronic = _uniform(rng, n) < p_chronic
    to_labor = chronic & (_uniform(rng, n) * (s.n_labor + 3.0 * s.n_elderly) < s.n_labor)
    to_labor &= (s.n_labor - s.n_chronic_labor - s.n_disabled_labor - s.n_migrant) > 0
    s.n_chronic += chronic.astype(np.int16)
    s.n_chronic_labor += to_labor.astype(np.int16)
    diagnosis = _where(chronic, lambda k: lognormal(rng, 2_000.0 * med_growth, 0.6, k))
    s.medical += diagnosis * (1 - coverage)
    # --- disability ---
    disabled = _uniform(rng, n) < 1 - np.exp(-0.00025 * frail * (s.n_labor + s.n_elderly))
    dis_labor = disabled & (s.n_labor - s.n_chronic_labor - s.n_disabled_labor > 0)
    dis_labor &= _uniform(rng, n) < 0.6
    s.n_migrant -= (
        dis_labor
        & (s.n_migrant > 0)
        & (s.n_labor - s.n_chronic_labor - s.n_disabled_labor <= s.n_migrant)
    ).astype(np.int16)
    s.n_disabled += disabled.astype(np.int16)
    s.n_disabled_labor += dis_labor.astype(np.int16)
    dis_cost = _where(disabled, lambda k: lognormal(rng, 5_000.0 * med_growth, 0.8, k))
    s.medical += dis_cost * (1 - coverage)
    # --- injuries at work ---
    injured = _uniform(rng, n) < 1 - np.exp(-0.0016 * s.n_labor)
    inj_cost = _where(injured, lambda k: lognormal(rng, 3_000.0 * med_growth, 1.0, k))
    s.medical += inj_cost * (1 - coverage) * 0.7
    s.sick_months += _where(injured, lambda k: rng.integers(1, 4, k), np.int16)
    # --- deaths ---
    w_elder = 0.0035 * s.n_elderly * frail
    w_labor = 0.0003 * s.n_labor * frail
    w_young = 0.00005 * (s.n_children + s.n_students)
    total = w_elder + w_labor + w_young
    died = (_uniform(rng, n) < 1 - np.exp(-total)) & (s.size > 1)
    pick = _uniform(rng, n) * np.maximum(total, 1e-12)
    d_elder = died & (pick < w_elder)
    d_labor = died & ~d_elder & (pick < w_elder + w_labor)
    d_young = died & ~d_elder & ~d_labor
    s.n_elderly -= d_elder.astype(np.int16)
    s.n_chronic -= (d_elder & (s.n_chronic > s.n_chronic_labor) & (_uniform(rng, n) < 0.6)).astype(
        np.int16
    )
    d_mig = (
        d_labor & (s.n_migrant > 0) & (_uniform(rng, n) * np.maximum(s.n_labor, 1) < s.n_migrant)
    )
    d_chr = d_labor & ~d_mig & (s.n_chronic_labor > 0)
    d_dis = d_labor & ~d_mig & ~d_chr & (s.n_disabled_labor > 0)
    s.n_labor -= d_labor.astype(np.int16)
    s.n_migrant -= d_mig.astype(np.int16)
    s.n_chronic_labor -= d_chr.astype(np.int16)
    s.n_chronic -= d_chr.astype(np.int16)
    s.n_disabled_labor -= d_dis.astype(np.int16)
    s.n_disabled -= d_dis.astype(np.int16)
    young_child = d_young & (s.n_children > 0) & (_uniform(rng, n) < 0.5)
    s.n_children -= young_child.astype(np.int16)
    s.n_students -= (d_young & ~young_child & (s.n_students > 0)).astype(np.int16)
    funeral = _where(died, lambda k: lognormal(rng, 12_000.0 * med_growth, 0.5, k))
    end_of_life = _where(died, lambda k: lognormal(rng, 4_000.0 * med_growth, 1.0, k))
    end_of_life *= 1 - coverage
    s.medical += end_of_life
    # --- job loss among migrant workers (lockdowns make it likelier) ---
    p_job = 1 - np.exp(-(0.006 + 0.25 * locked) * s.n_migrant)
    job_lost = (s.n_migrant > 0) & (s.jobless_months == 0) & (_uniform(rng, n) < p_job)
    s.jobless_months += _where(job_lost, lambda k: rng.geometric(0.25, k), np.int16)
    # --- crop failure, livestock loss, disasters ---
    crop = (_uniform(rng, n) < (0.012 if 5 <= month <= 9 else 0.0)) | (
        hit_disaster & (_uniform(rng, n) < 0.7)
    )
    crop_loss = _where(crop, lambda k: rng.uniform(0.3, 0.85, k))
    expected_harvest = FARM_HARVEST * FARM_GROWTH**t * s.farm_scale * s.farm_skill
    local = np.maximum(s.n_labor - s.n_migrant - s.n_disabled_labor - 0.5 * s.n_chronic_labor, 0.0)
    # a household with nobody at home rents its land out or farms it at weekends
    farm_hands = np.clip((local + 0.5 * (s.n_elderly - s.n_chronic).clip(0)) / 1.5, 0.3, 1.0)
    crop_cost = (
        crop_loss
        * s.harvest_factor
        * expected_harvest
        * farm_hands
        * HARVEST_SHARE[month - 1 :].sum()
    )
    s.harvest_factor = s.harvest_factor * (1 - crop_loss)
    livestock = (s.herd > 0) & (
        (_uniform(rng, n) < 0.004) | (hit_disaster & (_uniform(rng, n) < 0.3))
    )
    herd_loss = s.herd * _where(livestock, lambda k: rng.uniform(0.3, 1.0, k))
    s.herd -= herd_loss
    s.business -= herd_loss * 0.6
    damage = _where(hit_disaster, lambda k: lognormal(rng, 4_000.0, 0.9, k))
    s.business -= damage * 0.3
    other = _uniform(rng, n) < 0.0015

    # --- income of the month ---
    season = MIGRANT_SEASON[month - 1]
    away = np.maximum(s.n_migrant - (s.jobless_months > 0), 0).astype(float)
    sick = s.sick_months > 0
    away_sick = sick & (away > 0)
    away = away - away_sick
    local = np.maximum(local - (sick & ~away_sick), 0.0)
    ramp = np.minimum(poverty_ramp(year), s.lift_cap)
    lift = np.where(s.registered, s.uplift_boost * ramp, 0.0)
    wage_growth = WAGE_GROWTH**t * s.ability * (1 + 0.7 * lift)
    s.wage += (
        away * MIGRANT_WAGE * season * np.where(locked, 0.15, 1.0)
        + local * LOCAL_WAGE * np.where(locked, 0.5, 1.0)
    ) * wage_growth
    s.wage += s.job_aid_amount / 12
    farm = (
        expected_harvest
        * (HARVEST_SHARE[month - 1] * s.harvest_factor - FARM_COST_SHARE / 12)
        * farm_hands
    )
    shop = s.business_scale / 12 * BUSINESS_GROWTH**t * (1 + 0.7 * rng.standard_normal(n))
    shop *= np.where(locked, 0.4, 1.0)
    s.business += (farm + shop + s.herd * LIVESTOCK_RETURN / 12 * FARM_GROWTH**t) * (
        1 + lift
    ) + s.industrial_amount / 12
    s.property_income += s.property_level / 12 * PROPERTY_GROWTH**t
    policy = np.where(s.registered, POLICY_TRANSFER * ramp, 0.0)
    s.transfer += (
        s.n_elderly * PENSION[year]
        + s.n_disabled * 1_000.0 * med_growth
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
        * med_growth
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

    # --- assistance that responds to hardship ---
    line = LINES[year]
    hardship = (s.registered | s.exited | (s.last_pc_net < 2 * line)) & (
        oop + end_of_life > 0.25 * line * s.size_start
    )
    medical_aid = hardship & (_uniform(rng, n) < 0.5)
    aid_amount = np.where(medical_aid, 0.3 * (oop + end_of_life), 0.0)
    s.transfer += aid_amount
    fragile = (s.n_disabled + s.n_chronic + s.n_elderly > 0) | (s.n_labor == 0)
    projected = s.last_pc_net - (s.medical / np.maximum(s.size_start, 1))
    needy = (s.dibao_amount == 0) & fragile & (np.nan_to_num(projected, nan=1e9) < 1.2 * line)
    new_dibao = needy & (_uniform(rng, n) < 0.08)
    s.dibao_amount += (
        s.size * DIBAO_PER_PERSON[year] * _where(new_dibao, lambda k: rng.uniform(0.3, 0.8, k))
    )
    s.dibao_start = np.where(new_dibao, start + 10 + rng.integers(0, n_days, n), s.dibao_start)
    employment_aid = job_lost & (s.registered | s.exited) & (_uniform(rng, n) < 0.3)
    s.jobless_months = np.where(employment_aid, np.minimum(s.jobless_months, 2), s.jobless_months)
    housing_aid = hit_disaster & (damage > 6_000.0) & (_uniform(rng, n) < 0.4)

    if records is not None:
        day = start + rng.integers(0, n_days, n)
        nz = np.flatnonzero
        records.event(s, nz(ill & (_uniform(rng, n) < 0.9)), day, ILLNESS, bill)
        records.event(s, nz(chronic), day, CHRONIC, diagnosis)
        records.event(s, nz(disabled), day, DISABILITY, dis_cost)
        records.event(s, nz(injured), day, INJURY, inj_cost)
        records.event(s, nz(died), day, DEATH, funeral + end_of_life)
        records.event(s, nz(job_lost & (_uniform(rng, n) < 0.8)), day, JOB_LOSS, np.nan)
        records.event(s, nz(crop), day, CROP_FAILURE, crop_cost)
        records.event(s, nz(livestock), day, LIVESTOCK_LOSS, herd_loss)
        records.event(s, nz(hit_disaster), day, DISASTER, damage)
        records.event(s, nz(locked & (s.n_migrant + s.n_labor > 0)), start, LOCKDOWN, np.nan)
        records.event(
            s, nz(other), day, OTHER, _where(other, lambda k: lognormal(rng, 800.0, 1.0, k))
        )
        rows = nz(medical_aid)
        records.aid(
            s,
            rows,
            day[rows] + 20,
            day[rows] + 20 + rng.integers(90, 365, len(rows)),
            MEDICAL,
            aid_amount[rows],
        )
        rows = nz(employment_aid)
        records.aid(
            s,
            rows,
            day[rows] + 15,
            day[rows] + 15 + rng.integers(60, 240, len(rows)),
            EMPLOYMENT,
            rng.uniform(1_000, 4_000, len(rows)),
        )
        rows = nz(housing_aid)
        records.aid(
            s,
            rows,
            day[rows] + 30,
            day[rows] + 30 + rng.integers(120, 360, len(rows)),
            HOUSING,
            rng.uniform(10_000, 30_000, len(rows)),
        )
    # conditions wear off; counts stay consistent after deaths
    _keep_counts_consistent(s)
    s.sick_months = np.maximum(s.sick_months - 1, 0).astype(np.int16)
    s.jobless_months = np.maximum(s.jobless_months - 1, 0).astype(np.int16)


def _review_public_jobs(
    s: WorldState, year: int, rng: np.random.Generator, records: Records | None
) -> None:
    """From 2021, monitoring finds lifted-out households near the new line a public-welfare
    job; it is withdrawn once income recovers (in place)."""
    n = len(s)
    day = month_start(year, 1)
    line = LINES[year]
    ends = (s.job_aid_amount > 0) & (s.last_pc_net > 2.2 * line) & (rng.random(n) < 0.5)
    if records is not None:
        rows = np.flatnonzero(ends)
        records.aid(
            s,
            rows,
            s.job_aid_start[rows],
            np.full(len(rows), day - 1),
            EMPLOYMENT,
            s.job_aid_amount[rows],
        )
    s.job_aid_amount = np.where(ends, 0.0, s.job_aid_amount)
    s.job_aid_start = np.where(ends, NO_END, s.job_aid_start)
    if year < 2021:
        return
    near = s.exited & (s.job_aid_amount == 0) & (s.last_pc_net < 1.5 * line)
    reach = 0.75 if year == 2021 else 0.45  # the first year of monitoring swept widest
    gets = near & (s.n_labor - s.n_disabled_labor > 0) & (rng.random(n) < reach)
    s.job_aid_amount = np.where(gets, rng.uniform(5_000, 9_000, n), s.job_aid_amount)
    s.job_aid_start = np.where(gets, day + rng.integers(30, 100, n), s.job_aid_start)


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform [0, 1) draws in single precision: plenty for Bernoulli events, twice as fast."""
    return rng.random(n, dtype=np.float32)


def _where(mask: np.ndarray, draw: Any, dtype: Any = float) -> np.ndarray:
    """``draw(k)`` where ``mask`` holds (k of them), 0 elsewhere: rare events draw little."""
    out = np.zeros(len(mask), dtype)
    rows = np.flatnonzero(mask)
    if len(rows):
        out[rows] = draw(len(rows))
    return out


def _keep_counts_consistent(s: WorldState) -> None:
    """Chronically ill, disabled and migrant workers are distinct workers (in place)."""
    s.n_chronic_labor = np.minimum(s.n_chronic_labor, s.n_labor).astype(np.int16)
    s.n_disabled_labor = np.minimum(s.n_disabled_labor, s.n_labor - s.n_chronic_labor).astype(
        np.int16
    )
    s.n_migrant = np.minimum(
        s.n_migrant, s.n_labor - s.n_chronic_labor - s.n_disabled_labor
    ).astype(np.int16)
    s.n_chronic = np.minimum(s.n_chronic, s.n_chronic_labor + s.n_elderly).astype(np.int16)
    s.n_disabled = np.minimum(s.n_disabled, s.n_disabled_labor + s.n_elderly).astype(np.int16)


def end_year(state: WorldState, year: int, rng: np.random.Generator) -> WorldState:
    """Registration (end of 2014) and exits from poverty (2016..2020); a new state."""
    s = replace(state)
    n = len(s)
    pc = s.per_capita_net()
    if year == FIRST_YEAR:
        seen = pc * np.exp(0.4 * rng.standard_normal(n))
        s.registered = seen < 5_500.0
    if 2016 <= year <= 2020:
        seen = pc * np.exp(0.4 * rng.standard_normal(n))  # assessments are imperfect
        ready = s.registered & ~s.exited & (seen > 1.1 * LINES[year])
        p_exit = {2016: 0.35, 2017: 0.45, 2018: 0.55, 2019: 0.65}.get(year, 1.0)
        leave = ready & (rng.random(n) < p_exit) if year < 2020 else s.registered & ~s.exited
        s.exited = s.exited | leave
        s.lift_cap = np.where(leave, poverty_ramp(year), s.lift_cap)
    return s
