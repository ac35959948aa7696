"""Random draws inside compiled (Numba) code: splitmix64 with its state in a one-element array;
and how the simulator's functions are compiled (:func:`compiled`, :func:`inlined`, :func:`cached`).

A draw costs a few nanoseconds, where Numba's ``np.random`` costs several times that. Not
NumPy's streams: results are reproducible for a seed, not equal to NumPy's draws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def compiled(function: Callable[..., Any]) -> Any:
    """``function`` compiled by Numba when first called, with NumPy's error model."""
    return njit(error_model="numpy")(function)


def inlined(function: Callable[..., Any]) -> Any:
    """:func:`compiled`, and inlined where it is called (Numba's ``inline="always"``): for the
    large steps of a loop, whose calls would pass dozens of arguments. Slower to compile."""
    return njit(error_model="numpy", inline="always")(function)


def cached(function: Callable[..., Any]) -> Any:
    """:func:`compiled`, and the machine code (with the compiled functions it calls) cached on
    disk where Numba finds a writable place: the module's ``__pycache__``, else
    ``NUMBA_CACHE_DIR`` or the user's cache folder; where there is none (a read-only install
    and home), compiled afresh in each process instead of failing. Numba recompiles it when
    its own module's file changes, not when a module it calls into does: a cached function's
    module must change with them (see ``compiled_months.COMPILED_WITH``)."""
    try:
        return njit(error_model="numpy", cache=True)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return compiled(function)


def new_state(seed: int) -> np.ndarray:
    """A generator's state for ``seed`` (0 <= seed < 2**63)."""
    return np.full(1, seed, np.uint64)


@compiled
def uniform(st: np.ndarray) -> float:
    """A uniform draw in [0, 1) (53 random bits); advances ``st``."""
    st[0] += _GAMMA
    z = st[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    # 53 bits fit a signed integer, whose conversion to float is one instruction
    return float(np.int64(z >> np.uint64(11))) * (1.0 / 9_007_199_254_740_992.0)


@compiled
def normal(st: np.ndarray) -> float:
    """A standard normal draw (Box-Muller)."""
    radius = np.sqrt(-2.0 * np.log(1.0 - uniform(st)))
    return radius * np.cos(2.0 * np.pi * uniform(st))


@compiled
def lognormal(st: np.ndarray, median: float, sigma: float) -> float:
    """A draw with median ``median`` and log-scale spread ``sigma``."""
    return median * np.exp(sigma * normal(st))


@compiled
def geometric(st: np.ndarray, success: float) -> int:
    """Trials up to the first success (1, 2, ...), by inversion."""
    return max(int(np.ceil(np.log(1.0 - uniform(st)) / np.log(1.0 - success))), 1)


@compiled
def between(st: np.ndarray, low: float, high: float) -> float:
    """A uniform draw in [low, high)."""
    return low + (high - low) * uniform(st)


@compiled
def sample(st: np.ndarray, kind: int, n: int, a: float, b: float) -> np.ndarray:
    """``n`` draws of one kind (0 uniform, 1 normal, 2 lognormal(a, b), 3 geometric(a),
    4 between(a, b)): for testing the distributions."""
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i] = uniform(st)
        elif kind == 1:
            out[i] = normal(st)
        elif kind == 2:
            out[i] = lognormal(st, a, b)
        elif kind == 3:
            out[i] = geometric(st, a)
        else:
            out[i] = between(st, a, b)
    return out
