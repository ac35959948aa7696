"""The earlywarn command: simulate, validate, features, train, score, report, demo.

Each command loads its config, calls one function of :mod:`earlywarn.jobs` and prints
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
from rich.markup import escape

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
            err_console.print(
                f"[bold red]{type(err).__name__}:[/] {escape(str(err))}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """earlywarn: find households at risk of returning to poverty, with reasons."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
@reports_errors
def score(
    data: Annotated[Path, typer.Option("--data", help="Data directory (the data contract).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="models:/earlywarn@champion, models:/NAME/VERSION, runs:/ID/model "
            "or a model folder.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Scores file to write (Parquet).")],
    population: Annotated[
        str | None,
        typer.Option("--population", help="exited (default) or all households not poor last year."),
    ] = None,
    explain: Annotated[
        bool | None,
        typer.Option(
            "--explain/--no-explain",
            help="Top reasons for the flagged households (default: "
            "score.explain in the config, flagged).",
        ),
    ] = None,
    explain_all: Annotated[
        bool, typer.Option("--explain-all", help="Top reasons for every household (slower).")
    ] = False,
    engine: Annotated[str | None, typer.Option("--engine", help="local (default) or dask.")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Dask scheduler address (tcp://host:8786); default a local cluster."
        ),
    ] = None,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", min=1, help="Households per chunk (bounds memory)."),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history", help="Score history folder (default: score-history beside --out)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Reason texts: en or zh-CN.")] = "en",
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    config: ConfigOption = None,
) -> None:
    """Score every household of the population as of a date: risk, flag, reasons, drift."""
    import pandas as pd

    from earlywarn.config import load_config
    from earlywarn.errors import ConfigError
    from earlywarn.jobs.score import run_scoring

    if population not in (None, "exited", "all"):
        raise ConfigError(f"--population must be exited or all, not {population!r}")
    if engine not in (None, "local", "dask"):
        raise ConfigError(f"--engine must be local or dask, not {engine!r}")
    try:
        as_of_date = pd.Timestamp(as_of)
    except ValueError as err:
        raise ConfigError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from err
    from earlywarn.config import config_hash
    from earlywarn.jobs.audit import audited

    cfg = load_config(config)
    explain_mode = (
        "all" if explain_all else (None if explain is None else ("flagged" if explain else "none"))
    )
    with audited(
        "score",
        data_dir=data,
        details={
            "as_of": str(as_of_date.date()),
            "model_uri": model,
            "config_hash": config_hash(cfg),
        },
    ) as audit:
        result = run_scoring(
            cfg,
            data,
            as_of_date,
            model,
            out,
            population=population,  # type: ignore[arg-type]
            explain=explain_mode,  # type: ignore[arg-type]
            engine=engine,  # type: ignore[arg-type]
            scheduler=scheduler,
            chunk_size=chunk_size,
            history_dir=history,
            lang=lang,
            progress=progress,
        )
        audit.add_outputs(
            result.out, result.metadata_path, result.drift_json, result.drift_markdown
        )
        audit.details.update(
            model_version=result.model_version,
            n_households=result.n_households,
            n_flagged=result.n_flagged,
        )
    console.print(
        f"Scored [bold]{result.n_households:,}[/] households as of {as_of_date.date()} with "
        f"model {result.model_version} in {result.seconds:.1f} s: [bold]{result.n_flagged:,}[/]"
        f" flagged, {result.n_newly_flagged:,} newly flagged, {result.n_risk_doubled:,} with "
        f"risk doubled since the last run"
        + (
            f" ({result.n_chunks_reused} of {result.n_chunks} chunks reused)"
            if result.n_chunks_reused
            else ""
        ),
        highlight=False,
    )
    for warning in result.drift_warnings[:10]:
        console.print(f"[yellow]drift:[/] {warning}", highlight=False)
    if len(result.drift_warnings) > 10:
        console.print(
            f"[yellow]drift:[/] and {len(result.drift_warnings) - 10} more warnings",
            highlight=False,
        )
    console.print(f"drift report: {result.drift_markdown}", highlight=False)
    console.print(str(result.out), highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def validate(
    data_dir: Annotated[Path, typer.Argument(help="Data directory: one file per table.")],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="Column mapping YAML (headers, codes, encoding)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check a data directory against the data contract; print every problem. Writes nothing."""
    from rich.table import Table

    from earlywarn.config import load_config
    from earlywarn.jobs.validate import run_validate

    summary = run_validate(data_dir, mapping=mapping or load_config(config).data.mapping)
    years = (
        f"{summary.first_year}-{summary.last_year}" if summary.first_year is not None else "none"
    )
    table = Table(title=f"{data_dir}: valid", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("households", f"{summary.n_households:,}")
    table.add_row("counties / villages", f"{summary.n_counties:,} / {summary.n_villages:,}")
    table.add_row("survey rounds (household-years)", f"{summary.n_rounds:,}")
    table.add_row("years covered", years)
    for event_type, n in summary.events_by_type.items():
        table.add_row(f"events: {event_type}", f"{n:,}")
    for measure, n in summary.assistance_by_measure.items():
        table.add_row(f"assistance: {measure}", f"{n:,}")
    table.add_row("poverty line overrides", f"{summary.n_line_overrides:,}")
    if summary.personal_columns:
        table.add_row("personal columns (kept apart)", ", ".join(summary.personal_columns))
    console.print(table)


@app.command()
@reports_errors
def promote(
    version: Annotated[
        str,
        typer.Argument(
            help="Registered model version to promote (a number, or an alias such as candidate)."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Registered model name (default: tracking.registered_model)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Make a model version the champion, only if it beats the current rule on the test year."""
    from rich.table import Table

    from earlywarn.config import load_config
    from earlywarn.jobs.promote import run_promote

    promotion = run_promote(load_config(config), version, name=name)
    table = Table(
        "metric (test year)",
        "this version",
        "must beat",
        "value",
        title=f"{promotion.name}/{promotion.version} against the rule",
    )
    for check in promotion.comparisons:
        table.add_row(
            check.metric, f"{check.value:.4f}", check.baseline_metric, f"{check.baseline:.4f}"
        )
    console.print(table)
    was = (
        ""
        if promotion.previous_version is None
        else " (unchanged)"
        if promotion.previous_version == promotion.version
        else f" (was version {promotion.previous_version})"
    )
    console.print(
        f"[bold green]{promotion.name}/{promotion.version}[/] is now "
        f"[bold]{promotion.alias}[/]{was}",
        highlight=False,
    )
    console.print(f"models:/{promotion.name}@{promotion.alias}", highlight=False, soft_wrap=True)


@app.command()
@reports_errors
def train(
    data: Annotated[Path, typer.Option("--data", help="Data directory (the data contract).")],
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Training config (default: configs/train.yaml if present)."
        ),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials", min=1, help="Tuning trials in the study (overrides tune.n_trials)."
        ),
    ] = None,
    population: Annotated[
        str | None, typer.Option("--population", help="exited (default) or all.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Model directory (default: models/<run-name>).")
    ] = None,
) -> None:
    """Tune, fit and calibrate the risk model; compare it with the rule on the test year.

    The last target year is the test year. Tuning is stored in tuning.sqlite3 beside the
    model directory: run the same command again after an interruption and the study
    continues. The last line printed is the registered model's URI.
    """
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before LightGBM starts OpenMP
    from rich.table import Table

    from earlywarn.config import load_config
    from earlywarn.errors import ConfigError
    from earlywarn.jobs.train import run_training

    if population not in (None, "exited", "all"):
        raise ConfigError(f"--population must be exited or all, not {population!r}")
    default_config = Path("configs/train.yaml")
    cfg = load_config(
        config if config is not None else default_config if default_config.is_file() else None
    )
    from earlywarn.config import config_hash
    from earlywarn.jobs.audit import audited

    with audited("train", data_dir=data, details={"config_hash": config_hash(cfg)}) as audit:
        result = run_training(cfg, data, out_dir=out, trials=trials, population=population)  # type: ignore[arg-type]
        audit.add_outputs(result.model_dir)
        audit.details.update(
            model_uri=result.model_uri, run_id=result.run_id, model_version=result.model.version
        )
    table = Table(title=f"Test year {result.test_year} (out of time)")
    columns = {
        "roc_auc": "AUC",
        "average_precision": "AP",
        "brier": "Brier",
        "ece": "ECE",
        "recall_at_capacity": "rec@cap",
        "precision_at_capacity": "prec@cap",
        "n_flagged": "flags",
        "n": "n",
    }
    table.add_column("score", no_wrap=True, min_width=8)
    for title in columns.values():
        table.add_column(title, justify="right")
    for row in result.comparison.to_dict("records"):
        cells = []
        for key in columns:
            value = row.get(key)
            if value is None or value != value:
                cells.append("-")
            elif key in ("n_flagged", "n"):
                cells.append(f"{int(value):,}")
            else:
                cells.append(f"{value:.3f}")
        table.add_row(str(row["model"]), *cells)
    console.print(table)
    if result.oracle_gap is not None:
        console.print(
            f"gap to the oracle in average precision (model - oracle, same rows): "
            f"{result.oracle_gap:+.3f}",
            highlight=False,
        )
    console.print(f"model saved in {result.model_dir}", highlight=False, soft_wrap=True)
    console.print(result.model_uri, highlight=False, soft_wrap=True, markup=False)


@app.command()
@reports_errors
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Data directory to write.")],
    households: Annotated[int | None, typer.Option("--households", "-n", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s")] = None,
    oracle_draws: Annotated[int | None, typer.Option("--oracle-draws", min=10)] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for the oracle.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Simulate households 2014-2025 into a contract-shaped data directory plus truth.parquet."""
    from earlywarn.config import load_config
    from earlywarn.errors import ConfigError
    from earlywarn.jobs.simulate import run_simulate

    cfg = load_config(config).simulate
    if (cfg.first_year, cfg.last_year) != (2014, 2025):
        raise ConfigError("simulate.first_year/last_year: the simulator covers 2014-2025 only")
    n = households if households is not None else cfg.n_households
    from earlywarn.config import config_hash
    from earlywarn.jobs.audit import audited

    with (
        audited(
            "simulate",
            details={
                "n_households": n,
                "seed": seed if seed is not None else cfg.seed,
                "config_hash": config_hash(cfg),
            },
        ) as audit,
        console.status(f"simulating {n:,} households..."),
    ):
        simulation = run_simulate(
            out,
            n_households=n,
            seed=seed if seed is not None else cfg.seed,
            n_oracle_draws=oracle_draws if oracle_draws is not None else cfg.n_oracle_draws,
            workers=workers if workers is not None else cfg.oracle_workers,
        )
        audit.add_outputs(out)
    tables = simulation.tables
    console.print(
        f"[green]wrote[/] {out}: {len(tables.households):,} households, "
        f"{len(tables.household_years):,} survey rounds, {len(tables.events):,} events, "
        f"{len(tables.assistance):,} assistance spells, {len(simulation.truth):,} truth rows"
    )


@app.command()
@reports_errors
def calibration(
    data_dir: Annotated[Path, typer.Argument(help="A directory written by `earlywarn simulate`.")],
) -> None:
    """Print the simulator's calibration figures against public figures, and the oracle's."""
    from rich.table import Table

    from earlywarn.jobs.simulate import run_calibration
    from earlywarn.simulator.realism import render_calibration

    figures = run_calibration(data_dir)
    for title, rows in render_calibration(figures):
        table = Table(title=title, title_justify="left")
        for column in rows[0]:
            table.add_column(column, justify="right" if column != rows[0][0] else "left")
        for row in rows[1:]:
            table.add_row(*row)
        console.print(table)
    problems = figures.problems()
    if problems:
        console.print("[yellow]outside target:[/] " + "; ".join(problems))
    else:
        console.print("[green]all calibration figures within their targets[/]")


@app.command()
@reports_errors
def features(
    data: Annotated[Path, typer.Option("--data", "-d", help="Data directory to read.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The date d (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.parquet or .csv).")],
    population: Annotated[
        str,
        typer.Option(
            "--population",
            help="exited: lifted out before Y; all: every household not poor in Y-1.",
        ),
    ] = "exited",
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="Column mapping YAML.")
    ] = None,
) -> None:
    """Write features and label (label_poor, empty while year(d) is open) as of a date."""
    from earlywarn.jobs.features import run_features

    if population not in ("exited", "all"):
        raise typer.BadParameter("must be 'exited' or 'all'", param_hint="--population")
    try:
        day = _parse_date(as_of)
    except ValueError as err:
        raise typer.BadParameter(f"not a date: {as_of!r}", param_hint="--as-of") from err
    result = run_features(
        data,
        day,
        out,
        population=population,  # type: ignore[arg-type]
        mapping=mapping,
    )
    console.print(
        f"[green]wrote[/] {escape(str(result.out))}: {result.n_households:,} households "
        f"({result.population}) x {result.n_features} features as of {result.as_of.date()}; "
        f"label known for {result.n_labels_known:,} ({result.n_poor:,} poor) "
        f"in {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
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
    from rich.table import Table

    from earlywarn.features.catalog import FEATURES, catalog_hash
    from earlywarn.jobs.features import run_catalog_docs

    if out is not None:
        path = run_catalog_docs(out)
        console.print(
            f"[green]wrote[/] {escape(str(path))}: {len(FEATURES)} features, "
            f"catalog {catalog_hash()}",
            highlight=False,
        )
        return
    table = Table(title=f"{len(FEATURES)} features, catalog {catalog_hash()}", title_justify="left")
    for column in ("feature", "unit", "reason group", "description"):
        table.add_column(column)
    for spec in FEATURES:
        table.add_row(spec.name, spec.unit, spec.reason_group, spec.description_en)
    console.print(table)


def _parse_date(text: str) -> Any:
    """Parse a date given on the command line."""
    import pandas as pd

    return pd.Timestamp(text)


@app.command()
@reports_errors
def report(
    scores: Annotated[Path, typer.Option("--scores", help="Scores file (Parquet) to report on.")],
    data: Annotated[Path, typer.Option("--data", help="Data directory the scores came from.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports (replaced whole).")],
    lang: Annotated[str | None, typer.Option("--lang", help="zh-CN (default) or en.")] = None,
    pdf: Annotated[
        bool | None,
        typer.Option(
            "--pdf/--no-pdf", help="Also write PDF booklets (one per village and county)."
        ),
    ] = None,
    glossary: Annotated[
        Path | None,
        typer.Option(
            "--glossary", help="Reason glossary YAML (default configs/reason_glossary.yaml)."
        ),
    ] = None,
    data_changed_ok: Annotated[
        bool,
        typer.Option(
            "--data-changed-ok",
            help="Report even if the tables changed since the scores were made (warned).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Caseworker sheets, village lists and county summaries for the flagged households."""
    from earlywarn.config import load_config
    from earlywarn.errors import ConfigError
    from earlywarn.jobs.report import run_reports

    if lang not in (None, "zh-CN", "en"):
        raise ConfigError(f"--lang must be zh-CN or en, not {lang!r}")
    from earlywarn.config import config_hash
    from earlywarn.jobs.audit import audited, output_digest

    cfg = load_config(config)
    with audited("report", data_dir=data, details={"config_hash": config_hash(cfg)}) as audit:
        audit.inputs[f"scores:{scores}"] = output_digest(scores)
        result = run_reports(
            scores,
            data,
            out,
            cfg=cfg,
            lang=lang,
            pdf=pdf,
            glossary_path=glossary,
            data_changed_ok=data_changed_ok,
        )
        audit.add_outputs(result.out_dir)
        audit.details.update(n_households=result.n_households)
    console.print(
        f"[green]reports[/] for {result.n_households} flagged households: "
        f"{result.n_pages} pages, {result.n_pdfs} PDFs ({result.lang}) in "
        f"{result.out_dir} ({result.seconds:.1f} s); open "
        f"{result.out_dir / 'index.html'}",
        highlight=False,
    )


@app.command()
@reports_errors
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for everything the demo writes.")
    ] = Path("demo"),
    households: Annotated[int | None, typer.Option("--households", "-n", min=50)] = None,
    trials: Annotated[int | None, typer.Option("--trials", min=1)] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write PDF booklets.")] = False,
    config: ConfigOption = None,
) -> None:
    """The whole path on the built-in default: simulate -> validate -> train -> score ->
    reports, all under --out (default configs/demo.yaml: a small, fast budget)."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before LightGBM starts OpenMP
    from earlywarn.config import load_config
    from earlywarn.jobs.demo import DEMO_CONFIG, run_demo

    cfg = load_config(
        config if config is not None else DEMO_CONFIG if DEMO_CONFIG.is_file() else None
    )
    if households is not None:
        cfg = cfg.model_copy(
            update={"simulate": cfg.simulate.model_copy(update={"n_households": households})}
        )
    if trials is not None:
        cfg = cfg.model_copy(update={"tune": cfg.tune.model_copy(update={"n_trials": trials})})

    def stage(name: str) -> None:
        console.print(f"[bold cyan]>[/] {name}", highlight=False)

    result = run_demo(cfg, out, pdf=pdf, on_stage=stage)
    comparison = result.training.comparison.set_index("model")
    console.print(
        f"\n[bold]Test year {result.training.test_year}[/] (out of time), average precision:",
        highlight=False,
    )
    for name, row in comparison.iterrows():
        console.print(f"  {name:<10} {row['average_precision']:.3f}", highlight=False)
    scoring = result.scoring
    console.print(
        f"Scored {scoring.n_households:,} households, flagged {scoring.n_flagged:,}: "
        f"{result.scores_path}",
        highlight=False,
        soft_wrap=True,
    )
    for lang, reports in result.reports.items():
        console.print(
            f"Reports ({lang}): {reports.out_dir / 'index.html'}", highlight=False, soft_wrap=True
        )
    console.print(
        f"Tracking: {result.tracking_uri}  (mlflow ui --backend-store-uri {result.tracking_uri})",
        highlight=False,
        soft_wrap=True,
    )
    console.print(result.model_uri, highlight=False, markup=False)


def _signed(contribution: float | None) -> str:
    """A reason's contribution (+0.1234), or "rule" for a rule trigger without one."""
    return "rule" if contribution is None else f"{contribution:+.4f}"


@app.command(name="explain")
@reports_errors
def explain_household(
    household_id: Annotated[str, typer.Argument(help="The household to re-derive.")],
    scores: Annotated[Path, typer.Option("--scores", help="Scores file written by score.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Data directory (default: the one the scores file records)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Model URI or folder (default: the one the scores file records)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Re-derive a household's risk, flag and reasons from the inputs a scores file records.

    Refuses (exit 2) when a table, the model version or the config hash is not the recorded
    one. Exit 0 when the re-derived score matches the recorded one, 2 when it does not.
    """
    from rich.table import Table

    from earlywarn.config import load_config
    from earlywarn.jobs.explain import run_explain

    result = run_explain(load_config(config), household_id, scores, data_dir=data, model_uri=model)
    found = result.rederivation
    table = Table(
        "",
        "recorded",
        "re-derived",
        title=(
            f"household {escape(household_id)} as of {result.as_of.date()}, model "
            f"{escape(result.model_version)}, config {result.config_hash}"
        ),
        title_justify="left",
    )
    table.add_row("risk", f"{found.recorded.risk:.6f}", f"{found.rederived.risk:.6f}")
    table.add_row("flagged", str(found.recorded.flagged), str(found.rederived.flagged))
    for n in range(max(len(found.recorded.reasons), len(found.rederived.reasons))):
        cells = [
            f"{r[n]['code']} {_signed(r[n]['contribution'])} ({escape(r[n]['text'])})"
            if n < len(r)
            else "-"
            for r in (found.recorded.reasons, found.rederived.reasons)
        ]
        table.add_row(f"reason {n + 1}", *cells)
    console.print(table)
    console.print(
        f"inputs: {escape(str(result.data_dir))} (fingerprints match), model "
        f"{escape(result.model_uri)}",
        highlight=False,
        soft_wrap=True,
    )
    if found.matches:
        console.print(
            "[bold green]match[/]: the recorded score is re-derived from the recorded inputs",
            highlight=False,
        )
        return
    for difference in found.differences:
        console.print(f"[red]differs:[/] {escape(difference)}", highlight=False)
    console.print("[bold red]no match[/]", highlight=False)
    raise typer.Exit(code=2)


# --- commands: each helper inserts its command above this line ---


@app.command()
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
    from rich.table import Table

    from earlywarn.jobs.audit import audit_log_path, read_records, unfinished_runs

    path = log_path or audit_log_path()
    records = read_records(path)
    unfinished = {r.get("run_id") for r in unfinished_runs(records)}
    ended = [r for r in records if r.get("status") != "started" or r.get("run_id") in unfinished]
    shown = ended[-last:]
    table = Table(
        title=f"{escape(str(path))}: {len(shown)} of {len(ended)} runs", title_justify="left"
    )
    for column in ("started (UTC)", "command", "status", "user", "outputs"):
        table.add_column(column)
    for record in shown:
        status = record.get("status", "")
        if record.get("run_id") in unfinished:
            status = "[yellow]did not finish[/] (killed, or still running)"
        elif status == "failed":
            status = f"[red]failed[/] ({escape(str(record.get('details', {}).get('error', '')))})"
        table.add_row(
            escape(str(record.get("started_at", ""))),
            escape(str(record.get("command", ""))),
            status,
            escape(str(record.get("user", ""))),
            escape(", ".join(record.get("outputs", {}))),
        )
    console.print(table)
