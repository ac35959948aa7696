"""The command's conventions: --version, choices in help and completion, one spelling of
--data, results on stdout and the rest on stderr, and the exit codes README documents."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from earlywarn import __version__
from earlywarn.cli import app
from earlywarn.cli.arguments import EngineChoice, LangChoice, PopulationChoice
from earlywarn.config import ENGINES, POPULATIONS, ReportConfig
from earlywarn.data.directory import write_tables
from earlywarn.errors import EXIT_BAD_INPUT, EXIT_DRIFT, EXIT_UNAVAILABLE
from earlywarn.model.model_file import save_model
from earlywarn.scoring.drift import drift_reference

AS_OF = "2024-03-01"
runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tables, tmp_path_factory) -> Path:
    return write_tables(tables, tmp_path_factory.mktemp("data"))


def model_with_reference(model, tables, tmp: Path, *, halve: str | None = None) -> Path:
    """The tiny model with a drift reference of the population it will score (as of AS_OF),
    ``halve``'s values halved in it: a reference the scored rows do or do not match."""
    from earlywarn.api import build_features

    X = build_features(tables, AS_OF).loc[:, list(model.feature_names)]
    if halve is not None:
        X[halve] = X[halve] / 2
    reference = drift_reference(X, model.predict_risk(X), as_of=pd.Series([AS_OF] * len(X)))
    return save_model(replace(model, metadata={"drift_reference": reference}), tmp / "model")


def score(data_dir: Path, model_dir: Path, out: Path, *extra: str):
    command = ["score", "--data", str(data_dir), "--as-of", AS_OF, "--model", str(model_dir)]
    return runner.invoke(app, [*command, "--out", str(out), *extra])


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"earlywarn {__version__}\n"


def test_the_choices_are_the_configs():
    assert tuple(c.value for c in PopulationChoice) == POPULATIONS
    assert tuple(c.value for c in EngineChoice) == ENGINES
    lang = ReportConfig.model_fields["lang"].annotation
    assert tuple(c.value for c in LangChoice) == lang.__args__


def test_choices_are_shown_in_help_and_completed_by_the_shell():
    help_text = runner.invoke(app, ["score", "--help"], terminal_width=200).stdout
    for choices in ("exited|all", "local|dask", "zh-CN|en"):
        assert choices in help_text
    completion = runner.invoke(
        app,
        [],
        prog_name="earlywarn",
        env={
            "_EARLYWARN_COMPLETE": "complete_bash",
            "COMP_WORDS": "earlywarn score --engine ",
            "COMP_CWORD": "3",
        },
    )
    assert completion.stdout.split() == ["local", "dask"]


def test_every_data_directory_is_given_with_data():
    command = typer.main.get_command(app)
    spelled = {}
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        for param in sub.params:
            if param.name in ("data", "data_dir"):
                spelled[name] = (param.param_type_name, tuple(sorted(param.opts)))
    assert set(spelled) >= {"validate", "calibration", "features", "train", "score", "report"}
    assert set(spelled.values()) == {("option", ("--data", "-d"))}, spelled


@pytest.mark.parametrize("command", ["validate", "calibration"])
def test_a_bare_data_directory_gets_the_right_spelling(command, data_dir):
    result = runner.invoke(app, [command, str(data_dir)], env={"COLUMNS": "300"})
    assert result.exit_code == EXIT_BAD_INPUT
    assert f"earlywarn {command} --data {data_dir}" in result.stderr
    assert result.stdout == ""


def test_errors_go_to_stderr_and_exit_2(tmp_path):
    result = runner.invoke(app, ["validate", "--data", str(tmp_path / "none")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert result.stdout == "" and "SchemaError:" in result.stderr


def test_results_on_stdout_progress_and_logs_on_stderr(data_dir, tiny_model, tables, tmp_path):
    model_dir = model_with_reference(tiny_model, tables, tmp_path)
    out = tmp_path / "scores.parquet"
    result = score(data_dir, model_dir, out, "--progress")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == str(out)
    assert result.stdout.startswith("Scored ")
    assert "households/s" not in result.stdout
    assert "features + risk" in result.stderr and "households/s" in result.stderr


def test_fail_on_drift_exits_4_after_writing_the_scores(data_dir, tiny_model, tables, tmp_path):
    same = model_with_reference(tiny_model, tables, tmp_path / "same")
    calm = score(data_dir, same, tmp_path / "a.parquet", "--no-progress", "--fail-on-drift")
    assert calm.exit_code == 0, calm.output
    shifted = model_with_reference(
        tiny_model, tables, tmp_path / "shift", halve="wage_income_share"
    )
    out = tmp_path / "b.parquet"
    plain = score(data_dir, shifted, out, "--no-progress")
    assert plain.exit_code == 0, plain.output
    assert "wage_income_share: PSI" in plain.stdout
    failed = score(data_dir, shifted, out, "--no-progress", "--fail-on-drift")
    assert failed.exit_code == EXIT_DRIFT, failed.output
    assert out.is_file() and "alerts (--fail-on-drift)" in failed.stderr


def test_an_unreachable_scheduler_exits_3_before_reading_anything(data_dir, tiny_model, tmp_path):
    model_dir = save_model(tiny_model, tmp_path / "model")
    out = tmp_path / "scores.parquet"
    result = score(data_dir, model_dir, out, "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    assert "SchedulerError: Dask scheduler tcp://127.0.0.1:9 is unreachable" in result.stderr
    assert not out.exists()


def test_a_scheduler_needs_the_dask_engine(data_dir, tiny_model, tmp_path):
    model_dir = save_model(tiny_model, tmp_path / "model")
    result = score(
        data_dir,
        model_dir,
        tmp_path / "s.parquet",
        *("--engine", "local", "--scheduler", "tcp://127.0.0.1:9"),
    )
    assert result.exit_code == EXIT_BAD_INPUT
    assert "needs the dask engine" in result.stderr


def test_an_unreachable_tracking_server_exits_3(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--trials", "1"])
    assert result.exit_code == EXIT_UNAVAILABLE, result.output
    assert "TrackingError: tracking server http://127.0.0.1:9 is unreachable" in result.stderr
