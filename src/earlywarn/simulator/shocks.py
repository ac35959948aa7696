"""The month's shocks: county disasters and lockdowns, then each household's health and
livelihood shocks, drawn in a fixed order (the order of draws is part of the world)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earlywarn.simulator.world import (
    CHRONIC,
    CROP_FAILURE,
    DEATH,
    DISABILITY,
    DISASTER,
    HARVEST_SHARE,
    HOSPITAL_COST,
    ILLNESS,
    INJURY,
    JOB_LOSS,
    LIVESTOCK_LOSS,
    LOCKDOWN,
    OTHER,
    Month,
    WorldState,
    draw_where,
    lognormal,
    uniform,
)


@dataclass(frozen=True)
class CountyShocks:
    """Flags per (world, county) for one month: a disaster struck, a lockdown was ordered, a
    drought set in (only in a harsh year's growing season; None otherwise, when nothing is
    drawn for it)."""

    disaster: np.ndarray
    lockdown: np.ndarray
    drought: np.ndarray | None


@dataclass(frozen=True)
class Shock:
    """The households one kind of shock hit this month (``hit``) and its cost to each, yuan."""

    hit: np.ndarray
    cost: np.ndarray


@dataclass(frozen=True)
class HealthShocks:
    """This month's health shocks per household; costs are full bills (``out_of_pocket``: the
    hospital bills after insurance; ``end_of_life``: medical costs before a death, after
    insurance)."""

    illness: Shock
    out_of_pocket: np.ndarray
    chronic: Shock
    disability: Shock
    injury: Shock
    death: Shock  # cost: funeral and end-of-life care
    end_of_life: np.ndarray


@dataclass(frozen=True)
class LivelihoodShocks:
    """This month's shocks to earnings per household (``locked``: its county is locked down;
    ``other``: a minor misfortune, costed when recorded)."""

    job_loss: np.ndarray
    crop: Shock
    livestock: Shock
    disaster: Shock
    locked: np.ndarray
    other: np.ndarray


def county_shocks(
    when: Month, n_worlds: int, n_counties: int, rng: np.random.Generator
) -> CountyShocks:
    """Disaster, lockdown and drought flags per (world, county) for one month."""
    rate, settings = when.shock_rate, when.settings
    wet = when.month in (6, 7, 8, 9)
    p_disaster = min((0.02 if wet else 0.004) * rate[DISASTER], 1.0)
    disaster = rng.random((n_worlds, n_counties)) < p_disaster
    if when.year == 2020:
        p_lock = {2: 0.9, 3: 0.5, 4: 0.1}.get(when.month, 0.0)
    elif when.year == 2022:
        p_lock = 0.07 if when.month >= 3 else 0.02
    elif when.year == 2021:
        p_lock = 0.01
    else:
        p_lock = 0.0
    p_lock = min(p_lock * rate[LOCKDOWN], 1.0)
    if when.is_harsh:
        p_lock = max(p_lock, settings.harsh_lockdown_share)
    lockdown = rng.random((n_worlds, n_counties)) < p_lock
    drought = None
    if when.is_harsh and 5 <= when.month <= 9:
        drought = rng.random((n_worlds, n_counties)) < settings.harsh_drought_share
    return CountyShocks(disaster, lockdown, drought)


def health_shocks(
    s: WorldState, when: Month, coverage: np.ndarray, rng: np.random.Generator
) -> HealthShocks:
    """Hospital stays (the largest single risk), chronic diagnoses (lasting costs and half a
    worker less), disability, injuries at work and deaths; adds the bills (in place)."""
    n, rate = len(s), when.shock_rate
    frail = s.frailty
    med_growth = when.medical_growth
    weight = (
        0.5 * s.n_children + 0.4 * s.n_students + s.n_labor + 3.0 * s.n_elderly + 2.0 * s.n_chronic
    )
    p_ill = 1 - np.exp(-(0.0045 * rate[ILLNESS]) * weight * frail)
    ill = uniform(rng, n) < p_ill
    bill = draw_where(ill, lambda k: lognormal(rng, HOSPITAL_COST * med_growth, 1.0, k))
    bill *= 1 + 0.3 * (s.n_elderly > 0)
    oop = np.where(ill, bill * (1 - coverage), 0.0)
    s.medical += oop
    worker_ill = ill & (uniform(rng, n) * weight < s.n_labor)
    s.sick_months += draw_where(worker_ill, lambda k: rng.geometric(0.45, k), np.int16)
    p_chronic = 1 - np.exp(-(0.0009 * rate[CHRONIC]) * frail * (s.n_labor + 3.0 * s.n_elderly))
    chronic = uniform(rng, n) < p_chronic
    to_labor = chronic & (uniform(rng, n) * (s.n_labor + 3.0 * s.n_elderly) < s.n_labor)
    to_labor &= (s.n_labor - s.n_chronic_labor - s.n_disabled_labor - s.n_migrant) > 0
    s.n_chronic += chronic.astype(np.int16)
    s.n_chronic_labor += to_labor.astype(np.int16)
    diagnosis = draw_where(chronic, lambda k: lognormal(rng, 2_000.0 * med_growth, 0.6, k))
    s.medical += diagnosis * (1 - coverage)
    p_disabled = 1 - np.exp(-(0.00025 * rate[DISABILITY]) * frail * (s.n_labor + s.n_elderly))
    disabled = uniform(rng, n) < p_disabled
    dis_labor = disabled & (s.n_labor - s.n_chronic_labor - s.n_disabled_labor > 0)
    dis_labor &= uniform(rng, n) < 0.6
    s.n_migrant -= (
        dis_labor
        & (s.n_migrant > 0)
        & (s.n_labor - s.n_chronic_labor - s.n_disabled_labor <= s.n_migrant)
    ).astype(np.int16)
    s.n_disabled += disabled.astype(np.int16)
    s.n_disabled_labor += dis_labor.astype(np.int16)
    dis_cost = draw_where(disabled, lambda k: lognormal(rng, 5_000.0 * med_growth, 0.8, k))
    s.medical += dis_cost * (1 - coverage)
    injured = uniform(rng, n) < 1 - np.exp(-(0.0016 * rate[INJURY]) * s.n_labor)
    inj_cost = draw_where(injured, lambda k: lognormal(rng, 3_000.0 * med_growth, 1.0, k))
    s.medical += inj_cost * (1 - coverage) * 0.7
    s.sick_months += draw_where(injured, lambda k: rng.integers(1, 4, k), np.int16)
    death, end_of_life = _deaths(s, when, coverage, rng)
    return HealthShocks(
        illness=Shock(ill, bill),
        out_of_pocket=oop,
        chronic=Shock(chronic, diagnosis),
        disability=Shock(disabled, dis_cost),
        injury=Shock(injured, inj_cost),
        death=death,
        end_of_life=end_of_life,
    )


def _deaths(
    s: WorldState, when: Month, coverage: np.ndarray, rng: np.random.Generator
) -> tuple[Shock, np.ndarray]:
    """Deaths (elders most often) and who died; the end-of-life bill after insurance is added
    to medical expenses (in place) and returned with the deaths."""
    n, rate = len(s), when.shock_rate[DEATH]
    frail = s.frailty
    w_elder = 0.0035 * rate * s.n_elderly * frail
    w_labor = 0.0003 * rate * s.n_labor * frail
    w_young = 0.00005 * rate * (s.n_children + s.n_students)
    total = w_elder + w_labor + w_young
    died = (uniform(rng, n) < 1 - np.exp(-total)) & (s.size > 1)
    pick = uniform(rng, n) * np.maximum(total, 1e-12)
    d_elder = died & (pick < w_elder)
    d_labor = died & ~d_elder & (pick < w_elder + w_labor)
    d_young = died & ~d_elder & ~d_labor
    s.n_elderly -= d_elder.astype(np.int16)
    s.n_chronic -= (d_elder & (s.n_chronic > s.n_chronic_labor) & (uniform(rng, n) < 0.6)).astype(
        np.int16
    )
    d_mig = d_labor & (s.n_migrant > 0) & (uniform(rng, n) * np.maximum(s.n_labor, 1) < s.n_migrant)
    d_chr = d_labor & ~d_mig & (s.n_chronic_labor > 0)
    d_dis = d_labor & ~d_mig & ~d_chr & (s.n_disabled_labor > 0)
    s.n_labor -= d_labor.astype(np.int16)
    s.n_migrant -= d_mig.astype(np.int16)
    s.n_chronic_labor -= d_chr.astype(np.int16)
    s.n_chronic -= d_chr.astype(np.int16)
    s.n_disabled_labor -= d_dis.astype(np.int16)
    s.n_disabled -= d_dis.astype(np.int16)
    young_child = d_young & (s.n_children > 0) & (uniform(rng, n) < 0.5)
    s.n_children -= young_child.astype(np.int16)
    s.n_students -= (d_young & ~young_child & (s.n_students > 0)).astype(np.int16)
    med_growth = when.medical_growth
    funeral = draw_where(died, lambda k: lognormal(rng, 12_000.0 * med_growth, 0.5, k))
    end_of_life = draw_where(died, lambda k: lognormal(rng, 4_000.0 * med_growth, 1.0, k))
    end_of_life *= 1 - coverage
    s.medical += end_of_life
    return Shock(died, funeral + end_of_life), end_of_life


def livelihood_shocks(
    s: WorldState,
    when: Month,
    hit_disaster: np.ndarray,
    locked: np.ndarray,
    in_drought: np.ndarray | None,
    rng: np.random.Generator,
) -> LivelihoodShocks:
    """Migrant job loss (likelier in a lockdown), crop failure, livestock loss and disaster
    damage; takes the losses off the year's business income (in place). ``hit_disaster``,
    ``locked``, ``in_drought``: the county shocks as each household meets them."""
    n, rate = len(s), when.shock_rate
    p_job = 1 - np.exp(-((0.006 + 0.25 * locked) * rate[JOB_LOSS]) * s.n_migrant)
    job_lost = (s.n_migrant > 0) & (s.jobless_months == 0) & (uniform(rng, n) < p_job)
    s.jobless_months += draw_where(job_lost, lambda k: rng.geometric(0.25, k), np.int16)
    p_crop = min(0.012 * rate[CROP_FAILURE], 1.0) if 5 <= when.month <= 9 else 0.0
    crop = (uniform(rng, n) < p_crop) | (hit_disaster & (uniform(rng, n) < 0.7))
    drought_herd = np.zeros(n, bool)
    if in_drought is not None:  # most crops fail, herds suffer
        crop |= in_drought & (uniform(rng, n) < 0.8)
        drought_herd = in_drought & (uniform(rng, n) < 0.3)
    crop_loss = draw_where(crop, lambda k: rng.uniform(0.3, 0.85, k))
    crop_cost = (
        crop_loss
        * s.harvest_factor
        * s.expected_harvest(when)
        * s.farm_hands()
        * HARVEST_SHARE[when.month - 1 :].sum()
    )
    s.harvest_factor = s.harvest_factor * (1 - crop_loss)
    p_herd = min(0.004 * rate[LIVESTOCK_LOSS], 1.0)
    livestock = (s.herd > 0) & (
        (uniform(rng, n) < p_herd) | (hit_disaster & (uniform(rng, n) < 0.3)) | drought_herd
    )
    herd_loss = s.herd * draw_where(livestock, lambda k: rng.uniform(0.3, 1.0, k))
    s.herd -= herd_loss
    s.business -= herd_loss * 0.6
    damage = draw_where(hit_disaster, lambda k: lognormal(rng, 4_000.0, 0.9, k))
    s.business -= damage * 0.3
    other = uniform(rng, n) < min(0.0015 * rate[OTHER], 1.0)
    return LivelihoodShocks(
        job_loss=job_lost,
        crop=Shock(crop, crop_cost),
        livestock=Shock(livestock, herd_loss),
        disaster=Shock(hit_disaster, damage),
        locked=locked,
        other=other,
    )
