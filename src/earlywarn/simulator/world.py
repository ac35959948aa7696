"""The simulated world: every household's full state, hidden variables included, and its rules.

One row of a :class:`WorldState` is a household (in the oracle: one Monte Carlo copy of one).
This module holds the state, the world's constants and the households of 1 January 2014
(:func:`initial_state`); :mod:`~earlywarn.simulator.month` moves a state a month at a time
(:func:`~earlywarn.simulator.month.run_months`, pure, so the oracle can re-run the rest of a
year from any month many times) and :mod:`~earlywarn.simulator.new_year` across New Year
(ageing, births, migration, reviews of assistance, registration and exits). Money is yuan;
flows accumulate per calendar year in the ``wage`` .. ``education`` fields, which
:func:`~earlywarn.simulator.new_year.start_year` resets.

The world's settings (:class:`~earlywarn.config.SimulateConfig`: shock rates, earnings growth
and volatility, how assistance responds, who is registered, a harsh year) reach the months
through :class:`Month` and the turn of the year as an argument; at their defaults they give
today's world, draw for draw.

Hidden variables (never written to the tables) drive outcomes so that what a survey shows is
informative but not the whole story: ``ability`` (earning power), ``frailty`` (health),
``farm_skill``, ``uplift_boost`` (how much poverty alleviation lifted a registered household).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from earlywarn.config import SimulateConfig
from earlywarn.data.columns import DEFAULT_LINES, EVENT_TYPES

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
TODAY = SimulateConfig()  # the world's settings at their defaults: today's world


def years_since_start(year: int) -> int:
    """Years since 2014: the exponent of every growth rate."""
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

    def local_workers(self) -> np.ndarray:
        """Workers at home, a chronically ill one counting half."""
        return np.maximum(
            self.n_labor - self.n_migrant - self.n_disabled_labor - 0.5 * self.n_chronic_labor, 0.0
        )

    def farm_hands(self) -> np.ndarray:
        """Share of its land a household farms (0.3..1): one with nobody at home rents it out
        or farms it at weekends."""
        local = self.local_workers()
        return np.clip((local + 0.5 * (self.n_elderly - self.n_chronic).clip(0)) / 1.5, 0.3, 1.0)

    def expected_harvest(self, when: Month) -> np.ndarray:
        """Gross harvest of a normal year in ``when``'s year, yuan, if all the land is farmed."""
        growth = FARM_GROWTH**when.t * when.earned_growth
        return FARM_HARVEST * growth * self.farm_scale * self.farm_skill


NO_END = np.iinfo(np.int64).min  # marks an assistance spell still running


def month_start(year: int, month: int) -> int:
    """Days since 1970 of the first day of ``month``."""
    return int((np.datetime64(f"{year}-{month:02d}-01", "D") - EPOCH).astype(int))


def days_in_month(year: int, month: int) -> int:
    nxt = month_start(year + month // 12, month % 12 + 1)
    return nxt - month_start(year, month)


@dataclass(frozen=True)
class Month:
    """One month as every household lives it: the calendar (first day in days since 1970,
    length, years since 2014), price and earnings levels, and how many times today's rate each
    shock type has (``shock_rate``, by event code) under the world's ``settings``."""

    year: int
    month: int
    start: int
    n_days: int
    t: int
    medical_growth: float  # medical prices relative to 2014
    earned_growth: float  # earnings relative to today's world (``settings.income_growth``)
    shock_rate: tuple[float, ...]
    is_harsh: bool  # the world's harsh year
    settings: SimulateConfig

    @classmethod
    def of(cls, year: int, month: int, settings: SimulateConfig = TODAY) -> Month:
        t = years_since_start(year)
        is_harsh = year == settings.harsh_year
        harsh = settings.harsh_shock_rate if is_harsh else 1.0
        shock_rate = tuple(
            settings.shock_rate * settings.shock_rates.get(name, 1.0) * harsh
            for name in EVENT_TYPES
        )
        return cls(
            year=year,
            month=month,
            start=month_start(year, month),
            n_days=days_in_month(year, month),
            t=t,
            medical_growth=MEDICAL_GROWTH**t,
            earned_growth=(1.0 + settings.income_growth) ** t,
            shock_rate=shock_rate,
            is_harsh=is_harsh,
            settings=settings,
        )


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    """``n`` draws with median ``median`` and log-scale spread ``sigma``."""
    return median * np.exp(sigma * rng.standard_normal(n))


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform [0, 1) draws in single precision: plenty for Bernoulli events, twice as fast."""
    return rng.random(n, dtype=np.float32)


def draw_where(
    mask: np.ndarray, draw: Callable[[int], np.ndarray], dtype: npt.DTypeLike = float
) -> np.ndarray:
    """``draw(k)`` where ``mask`` holds (k of them), 0 elsewhere: rare events draw little."""
    out = np.zeros(len(mask), dtype)
    rows = np.flatnonzero(mask)
    if len(rows):
        out[rows] = draw(len(rows))
    return out


def keep_counts_consistent(s: WorldState) -> None:
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
