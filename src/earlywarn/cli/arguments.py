"""What the commands share: options, checks of argument values, and turning errors into exit 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, ParamSpec, TypeVar

import typer

from earlywarn.cli.show import show_error
from earlywarn.errors import ConfigError, EarlywarnError

if TYPE_CHECKING:
    import pandas as pd

    from earlywarn.config import Config

P = ParamSpec("P")
R = TypeVar("R")
Choice = TypeVar("Choice", bound=str)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config for this job.", exists=False)
]
DataOption = Annotated[Path, typer.Option("--data", help="Data directory (the data contract).")]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an EarlywarnError into a clear message and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except EarlywarnError as err:
            show_error(err)
            raise typer.Exit(code=2) from None

    return wrapper


def one_of(value: str | None, allowed: tuple[Choice, ...], option: str) -> Choice | None:
    """``value`` as one of the ``allowed`` choices (None stays None); else a ConfigError."""
    if value is None:
        return None
    for choice in allowed:
        if value == choice:
            return choice
    raise ConfigError(f"{option} must be {' or '.join(allowed)}, not {value!r}")


def explain_choice(
    explain: bool | None, explain_all: bool
) -> Literal["flagged", "all", "none"] | None:
    """Whom score explains: --explain-all every household, --explain the flagged ones,
    --no-explain nobody; neither: None (the config decides)."""
    if explain_all:
        return "all"
    if explain is None:
        return None
    return "flagged" if explain else "none"


def as_of_date(text: str) -> pd.Timestamp:
    """The date given with --as-of; a ConfigError if it is none."""
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError as err:
        raise ConfigError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from err


def config_or(path: Path | None, default: Path) -> Config:
    """The config at ``path``; without one, ``default`` if that file exists, else built-ins."""
    from earlywarn.config import load_config

    return load_config(path if path is not None else default if default.is_file() else None)
