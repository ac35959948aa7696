"""The earlywarn command (``earlywarn.cli:app``): the Typer app and its commands, in help order.

Each command parses its arguments, calls one function of :mod:`earlywarn.jobs` and hands the
result to :mod:`earlywarn.cli.show`; the commands live in :mod:`~earlywarn.cli.data_commands`
and :mod:`~earlywarn.cli.model_commands`. Errors the user can fix (``EarlywarnError``) are
printed on stderr without a traceback; results go to stdout, progress and logs to stderr.

Exit codes (README "Exit codes"): 0 done; 1 a bug (a traceback); 2 bad input, config or
usage; 3 a service that cannot be reached or used now (tracking store, Dask scheduler); 4
``score --fail-on-drift`` found drift (the scores were written).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from earlywarn import __version__
from earlywarn.cli import backtest_commands, data_commands, model_commands
from earlywarn.cli.arguments import TAKES_EXTRA_ARGS

app = typer.Typer(
    name="earlywarn",
    help="Early warning, with reasons, of households at risk of falling back into poverty.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(asked: bool) -> None:
    if asked:
        typer.echo(f"earlywarn {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each stage does (on stderr).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """earlywarn: find households at risk of returning to poverty, with reasons.

    Exit codes: 0 done, 2 bad input or config, 3 tracking store or Dask scheduler
    unreachable, 4 drift (score --fail-on-drift); 1 is a bug.
    """
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


for command in (
    model_commands.score,
    data_commands.validate,
    model_commands.promote,
    model_commands.train,
    data_commands.simulate,
    data_commands.calibration,
    data_commands.features,
    data_commands.catalog,
    model_commands.report,
    model_commands.demo,
):
    taking_bare_data = command in (data_commands.validate, data_commands.calibration)
    app.command(context_settings=TAKES_EXTRA_ARGS if taking_bare_data else None)(command)
app.command(name="explain")(model_commands.explain_household)
app.command()(data_commands.runs)
app.command()(backtest_commands.backtest)
