"""earlywarn: early warning, with reasons, of households at risk of falling back into poverty.

The Python API (``docs/api.md``) is six functions, importable from here::

    import earlywarn
    tables = earlywarn.read_tables("data/")
    result = earlywarn.train(tables)
    scores = earlywarn.score(result.model, tables, "2025-07-01")

They live in :mod:`earlywarn.api` and are imported on first use, so that ``import earlywarn``
stays light (the command and every stage import this package first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "build_features",
    "explain_household",
    "load_model",
    "read_tables",
    "score",
    "train",
]

if TYPE_CHECKING:
    from earlywarn.api import (
        build_features,
        explain_household,
        load_model,
        read_tables,
        score,
        train,
    )


def __getattr__(name: str) -> Any:
    """The API's functions, from :mod:`earlywarn.api` on first use."""
    if name in __all__:
        from earlywarn import api

        return getattr(api, name)
    raise AttributeError(f"module 'earlywarn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
