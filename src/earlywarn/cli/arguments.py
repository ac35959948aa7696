"""What the commands share: options, the choices they offer, checks of argument values, and
turning errors into exit codes (:mod:`earlywarn.errors`: 2 bad input or config, 3 a service
that cannot be reached, 4 drift with ``--fail-on-drift``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, ParamSpec, TypeVar

import typer

from earlywarn.cli.show import show_error
from earlywarn.errors import ConfigError, EarlywarnError

if TYPE_CHECKING:
    import pandas as pd

    from earlywarn.config import Config, Engine, Population

P = ParamSpec("P")
R = TypeVar("R")


class PopulationChoice(StrEnum):
    """Who is scored (``config.Population``): lifted out before the year, or everyone not
    poor the year before."""

    exited = "exited"
    all = "all"


class EngineChoice(StrEnum):
    """Where scoring runs (``config.Engine``)."""

    local = "local"
    dask = "dask"


class LangChoice(StrEnum):
    """The languages of the reason glossary and the reports."""

    zh_CN = "zh-CN"
    en = "en"


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config for this job.", exists=False)
]
DataOption = Annotated[
    Path, typer.Option("--data", "-d", help="Data directory (one file per table).")
]
#: ``--data`` for the commands that once took the folder as an argument: an option, with a
#: hint (not Click's "unexpected extra argument") when a folder is given bare.
#: ``--data`` of ``earlywarn score``: a folder, or an fsspec URL (``s3://bucket/prefix``) of a
#: directory partitioned by county (kept as text: a path would fold ``s3://`` into ``s3:/``).
LocationDataOption = Annotated[
    str,
    typer.Option(
        "--data",
        "-d",
        help="Data directory (one file per table, or tables partitioned by county); a folder "
        "or an fsspec URL such as s3://bucket/prefix (pip install 'earlywarn[s3]').",
    ),
]
OptionalDataOption = Annotated[
    Path | None,
    typer.Option(
        "--data", "-d", help="Data directory (one file per table). [required]", show_default=False
    ),
]
#: For a command that once took the folder bare: extra arguments reach it (``data_dir``).
TAKES_EXTRA_ARGS = {"allow_extra_args": True}
PopulationOption = Annotated[
    PopulationChoice | None,
    typer.Option(
        "--population",
        help="exited: lifted out of poverty before the year; all: every household not poor "
        "the year before (default: data.population in the config, exited).",
        show_default=False,
    ),
]
LangOption = Annotated[
    LangChoice | None,
    typer.Option(
        "--lang",
        help="Language of the reason texts (default: report.lang in the config, zh-CN).",
        show_default=False,
    ),
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an EarlywarnError into a clear message on stderr and its exit code (2 or 3)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except EarlywarnError as err:
            show_error(err)
            raise typer.Exit(code=err.exit_code) from None

    return wrapper


def data_dir(data: Path | None, ctx: typer.Context) -> Path:
    """The folder given with ``--data``; a usage error (exit 2) with the right spelling when
    it was given as a bare argument, or not at all."""
    command = ctx.info_name
    if ctx.args:
        raise typer.BadParameter(
            f"give the data directory as an option: earlywarn {command} --data "
            + " ".join(ctx.args),
            param_hint="--data",
        )
    if data is not None:
        return data
    raise typer.BadParameter(
        f"the data directory is required: earlywarn {command} --data DIR", param_hint="--data"
    )


def population_of(choice: PopulationChoice | None) -> Population | None:
    """The config's spelling of a ``--population`` choice (None: the config decides)."""
    if choice is None:
        return None
    return "all" if choice is PopulationChoice.all else "exited"


def engine_of(choice: EngineChoice | None) -> Engine | None:
    """The config's spelling of an ``--engine`` choice (None: the config decides)."""
    if choice is None:
        return None
    return "dask" if choice is EngineChoice.dask else "local"


def lang_of(choice: LangChoice | None) -> Literal["zh-CN", "en"] | None:
    """The glossary's spelling of a ``--lang`` choice (None: the config decides)."""
    if choice is None:
        return None
    return "en" if choice is LangChoice.en else "zh-CN"


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
