"""What each command prints: a job's result as Rich lines and tables on the console.

Only counts, paths, figures and household IDs are printed, never a data row beyond the one
household ``explain`` was asked about. Results go to ``console`` (stdout); progress, stages and
errors to ``err_console`` (stderr), so that ``earlywarn ... > out.txt`` keeps results only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from earlywarn.data.summary import Summary
    from earlywarn.jobs.backtest import BacktestResult
    from earlywarn.jobs.demo import DemoResult
    from earlywarn.jobs.explain import ExplainResult
    from earlywarn.jobs.features import FeaturesResult
    from earlywarn.jobs.report import ReportsResult
    from earlywarn.jobs.score import ScoringResult
    from earlywarn.jobs.train import TrainingResult
    from earlywarn.simulator.households import Simulation
    from earlywarn.simulator.realism import CalibrationFigures
    from earlywarn.tracking import Promotion

console = Console()
err_console = Console(stderr=True)

MAX_DRIFT_WARNINGS = 10
#: Columns of the training comparison table: result column -> header.
COMPARISON_COLUMNS = {
    "roc_auc": "AUC",
    "average_precision": "AP",
    "brier": "Brier",
    "ece": "ECE",
    "recall_at_capacity": "rec@cap",
    "precision_at_capacity": "prec@cap",
    "n_flagged": "flags",
    "n": "n",
}


def show_error(err: Exception) -> None:
    """``SchemaError: 3 problems ...`` on stderr, no traceback."""
    err_console.print(
        f"[bold red]{type(err).__name__}:[/] {escape(str(err))}",
        highlight=False,
        markup=True,
        soft_wrap=True,
    )


def show_stage(name: str) -> None:
    """One line per stage of the demo as it starts (progress: on stderr)."""
    err_console.print(f"[bold cyan]>[/] {name}", highlight=False)


def show_drift_failure(result: ScoringResult) -> None:
    """Why ``score --fail-on-drift`` fails: the alerts, on stderr."""
    err_console.print(
        f"[bold red]drift:[/] {result.n_drift_alerts} alerts (--fail-on-drift); the scores "
        f"were written; see {escape(str(result.drift_markdown))}",
        highlight=False,
        soft_wrap=True,
    )


def show_scoring(result: ScoringResult, as_of: pd.Timestamp) -> None:
    """Counts, chunks reused, the first drift warnings, then the drift report and scores file."""
    console.print(
        f"Scored [bold]{result.n_households:,}[/] households as of {as_of.date()} with "
        f"model {result.model_version} in {result.seconds:.1f} s: [bold]{result.n_flagged:,}[/]"
        f" flagged (expected to fall below the line among them: "
        f"{result.expected_below_line:,.1f}), {result.n_newly_flagged:,} newly flagged, "
        f"{result.n_risk_doubled:,} with risk doubled since the last run"
        + (
            f" ({result.n_chunks_reused} of {result.n_chunks} chunks reused)"
            if result.n_chunks_reused
            else ""
        ),
        highlight=False,
    )
    for warning in result.drift_warnings[:MAX_DRIFT_WARNINGS]:
        console.print(f"[yellow]drift:[/] {warning}", highlight=False)
    if len(result.drift_warnings) > MAX_DRIFT_WARNINGS:
        console.print(
            f"[yellow]drift:[/] and {len(result.drift_warnings) - MAX_DRIFT_WARNINGS} more "
            "warnings",
            highlight=False,
        )
    console.print(f"drift report: {result.drift_markdown}", highlight=False)
    console.print(str(result.out), highlight=False, soft_wrap=True)


def show_summary(data_dir: Path, summary: Summary) -> None:
    """What a valid data directory holds, one count per row."""
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


def show_promotion(promotion: Promotion) -> None:
    """The checks the version passed, its new alias and the URI to score with."""
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


def model_choice_line(choice: pd.DataFrame) -> str:
    """Which candidate the validation years chose, and each one's validation AP."""
    figures = ", ".join(
        f"{row['candidate']} {row['average_precision']:.3f}" for row in choice.to_dict("records")
    )
    chosen = choice.loc[choice["chosen"].astype(bool), "candidate"]
    winner = str(chosen.iloc[0]) if len(chosen) else "?"
    return f"model chosen on the validation years: {winner} (average precision: {figures})"


def show_training(result: TrainingResult) -> None:
    """The test-year comparison of every score, the gap to the oracle, and the model URI last."""
    console.print(model_choice_line(result.choice), highlight=False, soft_wrap=True)
    table = Table(title=f"Test year {result.test_year} (out of time)")
    table.add_column("score", no_wrap=True, min_width=8)
    for title in COMPARISON_COLUMNS.values():
        table.add_column(title, justify="right")
    for row in result.comparison.to_dict("records"):
        table.add_row(
            str(row["model"]), *(_figure(key, row.get(key)) for key in COMPARISON_COLUMNS)
        )
    console.print(table)
    if result.oracle_gap is not None:
        console.print(
            f"gap to the oracle in average precision (model - oracle, same rows): "
            f"{result.oracle_gap:+.3f}",
            highlight=False,
        )
    console.print(f"model saved in {result.model_dir}", highlight=False, soft_wrap=True)
    console.print(result.model_uri, highlight=False, soft_wrap=True, markup=False)


def _figure(key: str, value: float | None) -> str:
    """A comparison cell: ``-`` when missing, counts with thousands separators, else 3 places."""
    if value is None or value != value:
        return "-"
    if key in ("n_flagged", "n"):
        return f"{int(value):,}"
    return f"{value:.3f}"


def show_simulation(out: Path, simulation: Simulation) -> None:
    tables = simulation.tables
    console.print(
        f"[green]wrote[/] {out}: {len(tables.households):,} households, "
        f"{len(tables.household_years):,} survey rounds, {len(tables.events):,} events, "
        f"{len(tables.assistance):,} assistance spells, {len(simulation.truth):,} truth rows"
    )


def show_calibration(figures: CalibrationFigures) -> None:
    """One table per group of figures, then the figures outside their targets."""
    from earlywarn.simulator.realism import render_calibration

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


def show_features(result: FeaturesResult) -> None:
    console.print(
        f"[green]wrote[/] {escape(str(result.out))}: {result.n_households:,} households "
        f"({result.population}) x {result.n_features} features as of {result.as_of.date()}; "
        f"label known for {result.n_labels_known:,} ({result.n_poor:,} poor) "
        f"in {result.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


def show_catalog(out: Path | None) -> None:
    """Where the catalog was written (``out``), or the catalog itself as a table."""
    from earlywarn.features.catalog import FEATURES, catalog_hash

    if out is not None:
        console.print(
            f"[green]wrote[/] {escape(str(out))}: {len(FEATURES)} features, "
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


def show_reports(result: ReportsResult) -> None:
    console.print(
        f"[green]reports[/] for {result.n_households} flagged households: "
        f"{result.n_pages} pages, {result.n_pdfs} PDFs ({result.lang}) in "
        f"{result.out_dir} ({result.seconds:.1f} s); open "
        f"{result.out_dir / 'index.html'}",
        highlight=False,
    )


def show_demo(result: DemoResult) -> None:
    """The headline figures and where each stage's output is; the model URI last."""
    comparison = result.training.comparison.set_index("model")
    console.print("\n" + model_choice_line(result.training.choice), highlight=False, soft_wrap=True)
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
    if result.backtest is not None:
        console.print("")
        show_backtest(result.backtest, reports_label="Backtest")
    console.print(
        f"Tracking: {result.tracking_uri}  (mlflow ui --backend-store-uri {result.tracking_uri})",
        highlight=False,
        soft_wrap=True,
    )
    console.print(result.model_uri, highlight=False, markup=False)


def show_backtest(result: BacktestResult, *, reports_label: str = "report") -> None:
    """The backtest's lines per run (model vs rule, the run's estimate, prevention), then
    where its report is in each language."""
    from earlywarn.explain.backtest_report import backtest_summary

    found = result.backtest
    for line in backtest_summary(found.runs, target_year=found.target_year):
        console.print(line, highlight=False, soft_wrap=True)
    for lang, path in result.reports.items():
        console.print(f"{reports_label} ({lang}): {path}", highlight=False, soft_wrap=True)
    if result.tracking_run is not None:
        console.print(f"MLflow run: {result.tracking_run}", highlight=False, soft_wrap=True)


def show_rederivation(result: ExplainResult, household_id: str) -> bool:
    """The recorded and re-derived risk, flag and reasons side by side; whether they match."""
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
        return True
    for difference in found.differences:
        console.print(f"[red]differs:[/] {escape(difference)}", highlight=False)
    console.print("[bold red]no match[/]", highlight=False)
    return False


def _signed(contribution: float | None) -> str:
    """A reason's contribution (+0.1234), or "rule" for a rule trigger without one."""
    return "rule" if contribution is None else f"{contribution:+.4f}"


def show_runs(path: Path, records: list[dict[str, Any]], last: int) -> None:
    """The ``last`` runs that ended or never did (a start without an end), oldest first."""
    from earlywarn.jobs.audit import unfinished_runs

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
