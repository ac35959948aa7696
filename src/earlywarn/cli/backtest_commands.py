"""The backtest command: how good the stored scoring runs of a year were, once its round is in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from earlywarn.cli.arguments import ConfigOption, DataOption, reports_errors


@reports_errors
def backtest(
    history: Annotated[
        Path, typer.Option("--history", help="Score history folder (as_of=*/model_version=*).")
    ],
    data: DataOption,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the reports (both languages) and CSVs.")
    ],
    year: Annotated[
        int | None,
        typer.Option("--year", help="Target year (default: the latest with runs and a round)."),
    ] = None,
    track: Annotated[
        bool,
        typer.Option(
            "--track/--no-track",
            help="Log the backtest to MLflow (tracking.experiment): a run per backtest, "
            "a nested run per scoring run.",
        ),
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Evaluate every stored run of a year against that year's survey round, model vs rule."""
    from earlywarn.cli import show
    from earlywarn.config import load_config
    from earlywarn.jobs.audit import audited
    from earlywarn.jobs.backtest import run_backtest

    cfg = load_config(config)
    details = {"history": str(history), "year": year}
    with audited("backtest", data_dir=data, details=details) as audit:
        result = run_backtest(cfg, history, data, out, year=year, track=track)
        audit.add_outputs(out)
    show.show_backtest(result)
