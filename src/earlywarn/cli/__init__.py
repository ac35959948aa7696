"""The earlywarn command (``earlywarn.cli:app``): the Typer app and its commands, in help order.

Each command parses its arguments, calls one function of :mod:`earlywarn.jobs` and hands the
result to :mod:`earlywarn.cli.show`; the commands live in :mod:`~earlywarn.cli.data_commands`
and :mod:`~earlywarn.cli.model_commands`. Errors the user can fix (``EarlywarnError``) are
printed without a traceback and exit with code 2; a traceback means a bug.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from earlywarn.cli import backtest_commands, data_commands, model_commands

app = typer.Typer(
    name="earlywarn",
    help="Early warning, with reasons, of households at risk of falling back into poverty.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """earlywarn: find households at risk of returning to poverty, with reasons."""
    logging.basicConfig(
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
    app.command()(command)
app.command(name="explain")(model_commands.explain_household)
app.command()(data_commands.runs)
app.command()(backtest_commands.backtest)
