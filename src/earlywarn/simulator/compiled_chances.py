"""The chances of the shocks whose monthly rates depend only on a household's members, for the
oracle's compiled months: 1 - exp(-rate), the rates of ``shocks.health_shocks`` and
``shocks.livelihood_shocks``. Worked out once per household for all its draws
(:func:`chances`) and anew only for a draw whose members changed (:func:`same_members`):
most draws keep their members all year, so most of the exponentials are saved. Both use the
same expressions, so the chance is the same value either way.
"""

from __future__ import annotations

import numpy as np

from earlywarn.simulator.compiled_layout import (
    CHILDREN,
    CHRONIC_ILL,
    ELDERLY,
    FRAILTY,
    LABOR,
    MIGRANT,
    R_CHRONIC,
    R_DEATH,
    R_DISABILITY,
    R_ILLNESS,
    R_INJURY,
    R_JOB_LOSS,
    STUDENTS,
)
from earlywarn.simulator.compiled_random import compiled

# the month's chance of each shock whose rate depends only on a household's members
P_ILLNESS, P_CHRONIC, P_DISABILITY, P_INJURY, P_DEATH, P_JOB, P_JOB_LOCKED, N_CHANCES = range(8)


@compiled
def same_members(x, x0):  # type: ignore[no-untyped-def]
    """Whether the draw ``x`` still has the members of its household's row ``x0`` (all that
    the chances of :func:`chances` depend on, besides frailty, which does not change)."""
    return (
        x[LABOR] == x0[LABOR]
        and x[ELDERLY] == x0[ELDERLY]
        and x[CHILDREN] == x0[CHILDREN]
        and x[STUDENTS] == x0[STUDENTS]
        and x[CHRONIC_ILL] == x0[CHRONIC_ILL]
        and x[MIGRANT] == x0[MIGRANT]
    )


@compiled
def chances(x, p, odds):  # type: ignore[no-untyped-def]
    """``odds[m]``: the chance of each shock in month ``m`` for a row with ``x``'s members."""
    for m in range(p.shape[0]):
        odds[m, P_ILLNESS] = p_illness(x, p, m)
        odds[m, P_CHRONIC] = p_chronic(x, p, m)
        odds[m, P_DISABILITY] = p_disability(x, p, m)
        odds[m, P_INJURY] = p_injury(x, p, m)
        odds[m, P_DEATH] = p_death(x, p, m)
        odds[m, P_JOB] = p_job_loss(x, p, m, False)
        odds[m, P_JOB_LOCKED] = p_job_loss(x, p, m, True)


@compiled
def p_illness(x, p, m):  # type: ignore[no-untyped-def]
    weight = (
        0.5 * x[CHILDREN] + 0.4 * x[STUDENTS] + x[LABOR] + 3.0 * x[ELDERLY] + 2.0 * x[CHRONIC_ILL]
    )
    return 1 - np.exp(-(0.0045 * p[m, R_ILLNESS]) * weight * x[FRAILTY])


@compiled
def p_chronic(x, p, m):  # type: ignore[no-untyped-def]
    exposed = x[LABOR] + 3.0 * x[ELDERLY]
    return 1 - np.exp(-(0.0009 * p[m, R_CHRONIC]) * x[FRAILTY] * exposed)


@compiled
def p_disability(x, p, m):  # type: ignore[no-untyped-def]
    exposed = x[LABOR] + x[ELDERLY]
    return 1 - np.exp(-(0.00025 * p[m, R_DISABILITY]) * x[FRAILTY] * exposed)


@compiled
def p_injury(x, p, m):  # type: ignore[no-untyped-def]
    return 1 - np.exp(-(0.0016 * p[m, R_INJURY]) * x[LABOR])


@compiled
def p_death(x, p, m):  # type: ignore[no-untyped-def]
    return 1 - np.exp(-death_weights(x, p[m, R_DEATH])[2])


@compiled
def p_job_loss(x, p, m, locked):  # type: ignore[no-untyped-def]
    rate = (0.006 + 0.25 if locked else 0.006) * p[m, R_JOB_LOSS]
    return 1 - np.exp(-rate * x[MIGRANT])


@compiled
def death_weights(x, rate):  # type: ignore[no-untyped-def]
    """shocks._deaths's weights of an elder's and a labourer's death, and the total rate."""
    frail = x[FRAILTY]
    w_elder = 0.0035 * rate * x[ELDERLY] * frail
    w_labor = 0.0003 * rate * x[LABOR] * frail
    w_young = 0.00005 * rate * (x[CHILDREN] + x[STUDENTS])
    return w_elder, w_labor, w_elder + w_labor + w_young
