"""Commands on models, scores and reports: train, promote, score, explain, report, demo.
Each parses its arguments, calls one job (inside an audit record when it reads data or writes
results) and shows the result.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from earlywarn.cli import show
from earlywarn.cli.arguments import (
    ConfigOption,
    DataOption,
    EngineChoice,
    LangOption,
    LocationDataOption,
    PopulationOption,
    as_of_date,
    config_or,
    engine_of,
    explain_choice,
    lang_of,
    population_of,
    reports_errors,
)
from earlywarn.errors import EXIT_DRIFT


@reports_errors
def train(
    data: DataOption,
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
    population: PopulationOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Model directory (default: models/<run-name>).")
    ] = None,
) -> None:
    """Tune, fit and calibrate the risk model; compare it with the rule on the test year.

    The last target year is the test year. Tuning is stored in tuning.sqlite3 beside the
    model directory: run the same command again after an interruption and the study
    continues. The last line printed is the registered model's URI.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before LightGBM starts OpenMP
    from earlywarn.config import config_hash
    from earlywarn.jobs.audit import audited
    from earlywarn.jobs.train import run_training

    chosen_population = population_of(population)
    cfg = config_or(config, Path("configs/train.yaml"))
    with audited("train", data_dir=data, details={"config_hash": config_hash(cfg)}) as audit:
        result = run_training(cfg, data, out_dir=out, trials=trials, population=chosen_population)
        audit.add_outputs(result.model_dir)
        audit.details.update(
            model_uri=result.model_uri, run_id=result.run_id, model_version=result.model.version
        )
    show.show_training(result)


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
    from earlywarn.config import load_config
    from earlywarn.jobs.promote import run_promote

    show.show_promotion(run_promote(load_config(config), version, name=name))


@reports_errors
def score(
    data: LocationDataOption,
    as_of: Annotated[str, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="models:/earlywarn@champion, models:/NAME/VERSION, runs:/ID/model "
            "or a model folder.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Scores file to write (Parquet; byte for byte the same for the same inputs). "
            "Give it, --out-dataset, or both.",
        ),
    ] = None,
    out_dataset: Annotated[
        Path | None,
        typer.Option(
            "--out-dataset",
            help="Folder to write the scores into as a dataset partitioned by county "
            "(county=C/part-0.parquet, each a scores file of its own; replaced whole). With "
            "--engine dask on county-partitioned data the workers write it. Without --out the "
            "meta.json and drift report sit beside this folder.",
        ),
    ] = None,
    population: PopulationOption = None,
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
    engine: Annotated[
        EngineChoice | None,
        typer.Option(
            "--engine",
            help="Where chunks are scored (default: score.engine in the config, local; "
            "dask with --scheduler).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://host:8786); implies --engine dask "
            "(default: a local cluster). Unreachable: exit 3.",
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
    lang: LangOption = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="A progress bar on stderr.")
    ] = True,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift",
            help=f"Exit {EXIT_DRIFT} when the drift report has an alert (scores still written).",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Score every household of the population as of a date: risk, flag, reasons, drift.

    Results on stdout, progress and logs on stderr. Exit 0, 2 on bad input or config, 3 when
    the tracking store or the Dask scheduler cannot be reached, 4 with --fail-on-drift when
    the drift report has an alert.
    """
    from earlywarn.config import config_hash, load_config
    from earlywarn.jobs.audit import audited
    from earlywarn.jobs.score import run_scoring

    chosen_population = population_of(population)
    chosen_engine = engine_of(engine)
    day = as_of_date(as_of)
    cfg = load_config(config)
    details = {"as_of": str(day.date()), "model_uri": model, "config_hash": config_hash(cfg)}
    with audited("score", data_dir=data, details=details) as audit:
        result = run_scoring(
            cfg,
            data,
            day,
            model,
            out,
            out_dataset=out_dataset,
            population=chosen_population,
            explain=explain_choice(explain, explain_all),
            engine=chosen_engine,
            scheduler=scheduler,
            chunk_size=chunk_size,
            history_dir=history,
            lang=lang_of(lang),
            progress=progress,
        )
        audit.add_outputs(
            result.out,
            result.out_dataset if result.out_dataset != result.out else None,
            result.metadata_path,
            result.drift_json,
            result.drift_markdown,
        )
        audit.details.update(
            model_version=result.model_version,
            n_households=result.n_households,
            n_flagged=result.n_flagged,
            drift_alerts=result.n_drift_alerts,
        )
    show.show_scoring(result, day)
    if fail_on_drift and result.n_drift_alerts:
        show.show_drift_failure(result)
        raise typer.Exit(code=EXIT_DRIFT)


@reports_errors
def explain_household(
    household_id: Annotated[str, typer.Argument(help="The household to re-derive.")],
    scores: Annotated[Path, typer.Option("--scores", help="Scores file written by score.")],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", "-d", help="Data directory (default: the one the scores file records)."
        ),
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
    from earlywarn.config import load_config
    from earlywarn.jobs.explain import run_explain

    result = run_explain(load_config(config), household_id, scores, data_dir=data, model_uri=model)
    if not show.show_rederivation(result, household_id):
        raise typer.Exit(code=2)


@reports_errors
def report(
    scores: Annotated[Path, typer.Option("--scores", help="Scores file (Parquet) to report on.")],
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports (replaced whole).")],
    lang: LangOption = None,
    pdf: Annotated[
        bool | None,
        typer.Option(
            "--pdf/--no-pdf", help="Also write PDF booklets (one per village and county)."
        ),
    ] = None,
    glossary: Annotated[
        Path | None,
        typer.Option(
            "--glossary", help="Reason glossary YAML (default: the one shipped with earlywarn)."
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
    from earlywarn.config import config_hash, load_config
    from earlywarn.jobs.audit import audited, output_digest
    from earlywarn.jobs.report import run_reports

    chosen_lang = lang_of(lang)
    cfg = load_config(config)
    with audited("report", data_dir=data, details={"config_hash": config_hash(cfg)}) as audit:
        audit.inputs[f"scores:{scores}"] = output_digest(scores)
        result = run_reports(
            scores,
            data,
            out,
            cfg=cfg,
            lang=chosen_lang,
            pdf=pdf,
            glossary_path=glossary,
            data_changed_ok=data_changed_ok,
        )
        audit.add_outputs(result.out_dir)
        audit.details.update(n_households=result.n_households)
    show.show_reports(result)


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
    reports, all under --out (default: the shipped demo config, a small, fast budget)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before LightGBM starts OpenMP
    from earlywarn.jobs.demo import DEMO_CONFIG, run_demo

    cfg = config_or(config, DEMO_CONFIG)
    if households is not None:
        cfg = cfg.model_copy(
            update={"simulate": cfg.simulate.model_copy(update={"n_households": households})}
        )
    if trials is not None:
        cfg = cfg.model_copy(update={"tune": cfg.tune.model_copy(update={"n_trials": trials})})
    show.show_demo(run_demo(cfg, out, pdf=pdf, on_stage=show.show_stage))
