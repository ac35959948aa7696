"""Commands on a data directory, its features and the log of runs: simulate, calibration,
validate, features, catalog, runs. Each parses its arguments, calls one job and shows the result.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from earlywarn.cli import show
from earlywarn.cli.arguments import (
    ConfigOption,
    DataOption,
    OptionalDataOption,
    PopulationOption,
    data_dir,
    population_of,
    reports_errors,
)
from earlywarn.errors import ConfigError


class PartitionBy(StrEnum):
    county = "county"


@reports_errors
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Data directory to write.")],
    households: Annotated[int | None, typer.Option("--households", "-n", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s")] = None,
    oracle_draws: Annotated[int | None, typer.Option("--oracle-draws", min=10)] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for the oracle.")
    ] = None,
    partition_by: Annotated[
        PartitionBy | None,
        typer.Option(
            "--partition-by",
            help="Write the tables keyed by household as Parquet datasets partitioned by "
            "county (households/county=.../part-0.parquet), for Dask workers to read.",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Simulate households 2014-2025 into a contract-shaped data directory plus truth.parquet."""
    from earlywarn.config import config_hash, load_config
    from earlywarn.jobs.audit import audited
    from earlywarn.jobs.simulate import run_simulate

    cfg = load_config(config).simulate
    if (cfg.first_year, cfg.last_year) != (2014, 2025):
        raise ConfigError("simulate.first_year/last_year: the simulator covers 2014-2025 only")
    n = households if households is not None else cfg.n_households
    seed = seed if seed is not None else cfg.seed
    details = {"n_households": n, "seed": seed, "config_hash": config_hash(cfg)}
    with (
        audited("simulate", details=details) as audit,
        show.err_console.status(f"simulating {n:,} households..."),
    ):
        simulation = run_simulate(
            out,
            n_households=n,
            seed=seed,
            n_oracle_draws=oracle_draws if oracle_draws is not None else cfg.n_oracle_draws,
            workers=workers if workers is not None else cfg.oracle_workers,
            settings=cfg,
            partition_by=partition_by.value if partition_by else None,
        )
        audit.add_outputs(out)
    show.show_simulation(out, simulation)


@reports_errors
def calibration(ctx: typer.Context, data: OptionalDataOption = None) -> None:
    """Print the simulator's calibration figures against public figures, and the oracle's
    (--data: a directory written by `earlywarn simulate`)."""
    from earlywarn.jobs.simulate import run_calibration

    show.show_calibration(run_calibration(data_dir(data, ctx)))


@reports_errors
def validate(
    ctx: typer.Context,
    data: OptionalDataOption = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="Column mapping YAML (headers, codes, encoding)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check a data directory against the data contract; print every problem. Writes nothing."""
    from earlywarn.config import load_config
    from earlywarn.jobs.validate import run_validate

    folder = data_dir(data, ctx)
    summary = run_validate(folder, mapping=mapping or load_config(config).data.mapping)
    show.show_summary(folder, summary)


@reports_errors
def features(
    data: DataOption,
    as_of: Annotated[str, typer.Option("--as-of", help="The date d (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.parquet or .csv).")],
    population: PopulationOption = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="Column mapping YAML.")
    ] = None,
) -> None:
    """Write features and label (label_poor, empty while year(d) is open) as of a date."""
    import pandas as pd

    from earlywarn.jobs.features import run_features

    chosen_population = population_of(population) or "exited"
    try:
        day = pd.Timestamp(as_of)
    except ValueError as err:
        raise typer.BadParameter(f"not a date: {as_of!r}", param_hint="--as-of") from err
    result = run_features(data, day, out, population=chosen_population, mapping=mapping)
    show.show_features(result)


@reports_errors
def catalog(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the catalog as Markdown here (e.g. docs/features.md)."
        ),
    ] = None,
) -> None:
    """Print the feature catalog, or write it as Markdown with --out."""
    from earlywarn.jobs.features import run_catalog_docs

    show.show_catalog(run_catalog_docs(out) if out is not None else None)


@reports_errors
def runs(
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many runs to show.")] = 20,
    log_path: Annotated[
        Path | None,
        typer.Option(
            "--log", help="Audit log (default: $EARLYWARN_AUDIT_LOG or ./earlywarn-runs.jsonl)."
        ),
    ] = None,
) -> None:
    """The latest runs in the audit log; a run that began and never ended is called out."""
    from earlywarn.jobs.audit import audit_log_path, read_records

    path = log_path or audit_log_path()
    show.show_runs(path, read_records(path), last)
