"""The earlywarn command: simulate, validate, features, train, score, report, demo.

Each command loads its config, calls one function of :mod:`earlywarn.pipelines` and prints
the result with Rich. Errors the user can fix (``EarlywarnError``) are printed without a
traceback and exit with code 2; a traceback means a bug.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from earlywarn.errors import EarlywarnError

app = typer.Typer(
    name="earlywarn",
    help="Early warning, with reasons, of households at risk of falling back into poverty.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config for this job.", exists=False)
]


def reports_errors(command: F) -> F:
    """Turn an EarlywarnError into a clear message and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except EarlywarnError as err:
            err_console.print(f"[bold red]{type(err).__name__}:[/] {err}", highlight=False,
                              markup=True, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """earlywarn: find households at risk of returning to poverty, with reasons."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


# --- commands: each helper inserts its command above this line ---
