"""How the oracle's compiled months are compiled: the on-disk cache is keyed on everything the
loop calls into, a missing cache folder is not an error, and arrays handed over without their
owner are the same memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from earlywarn.simulator import compiled_months
from earlywarn.simulator.compiled_layout import unowned
from earlywarn.simulator.compiled_random import cached, compiled

CALLED_INTO = ("compiled_chances.py", "compiled_layout.py", "compiled_random.py")


def test_the_cached_loop_changes_with_the_modules_it_calls_into():
    folder = Path(compiled_months.__file__).parent
    digest = hashlib.sha256()
    for name in CALLED_INTO:
        digest.update((folder / name).read_bytes())
    # after editing one of them, put this digest in compiled_months.COMPILED_WITH: Numba
    # recompiles a cached function only when its own file changes
    assert digest.hexdigest()[:16] == compiled_months.COMPILED_WITH


def test_nowhere_to_cache_compiles_in_the_process_instead():
    namespace: dict[str, object] = {}
    exec("def twice(x):\n    return 2 * x\n", namespace)  # no source file: no cache folder
    twice = cached(namespace["twice"])
    assert twice(21) == 42
    assert type(twice._cache).__name__ == "NullCache"
    assert type(compiled_months._run._cache).__name__ == "FunctionCache"


@compiled
def _fill_unowned(values):  # type: ignore[no-untyped-def]
    view = unowned(values)
    for i in range(view.shape[0]):
        view[i] = i
    return view.sum()


def test_an_unowned_array_is_the_same_memory():
    values = np.zeros(5)
    assert _fill_unowned(values) == 10.0
    np.testing.assert_array_equal(values, np.arange(5.0))
