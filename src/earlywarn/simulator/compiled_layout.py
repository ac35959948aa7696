"""How the oracle's compiled months hold their data: one row of parameters per month, one row
of floats per household (counts and flags as floats), and arrays handed to compiled code
without their owner."""

from __future__ import annotations

import numpy as np
from numba.core import cgutils
from numba.extending import intrinsic

from earlywarn.config import SimulateConfig
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
    HOSPITAL,
    MIGRANT_PAY,
    SEASON,
    LOCAL_PAY,
    HARVEST,
    HARVEST_NOW,
    FARM_COST,
    HERD_RETURN,
    POLICY,
    SCHOOL_COST,
    N_PARAMS,
) = range(38)


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
        # the world's constants too: compiled code that read them as globals would keep
        # them in its on-disk cache after world.py changed
        row[HOSPITAL], row[MIGRANT_PAY], row[LOCAL_PAY] = HOSPITAL_COST, MIGRANT_WAGE, LOCAL_WAGE
        row[SEASON], row[HARVEST_NOW] = MIGRANT_SEASON[month - 1], HARVEST_SHARE[month - 1]
        row[HARVEST], row[FARM_COST] = FARM_HARVEST, FARM_COST_SHARE
        row[HERD_RETURN], row[POLICY], row[SCHOOL_COST] = (
            LIVESTOCK_RETURN,
            POLICY_TRANSFER,
            EDUCATION_COST,
        )
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


@intrinsic
def unowned(typingctx, array):  # type: ignore[no-untyped-def]
    """In compiled code, ``array`` as a view without its owner (Numba's meminfo), so passing
    it around costs no reference counting (each count is an atomic instruction; in the
    oracle's loop they took most of the time). The view does not keep the memory alive: use
    it only on a function's arguments, which the caller holds for the whole call."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        view = context.make_array(signature.args[0])(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        return view._getvalue()

    return array(array), codegen
