"""The Python API (docs/api.md): its example runs as written on small simulated data, its
functions are the documented six, and they give what the commands give."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pandas as pd
import pytest

import earlywarn
from earlywarn.config import Config
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, REASONS, RISK
from earlywarn.data.directory import write_tables
from earlywarn.errors import SchemaError
from earlywarn.jobs.score import run_scoring
from earlywarn.model.model_file import save_model

pytestmark = pytest.mark.slow

API_DOC = Path(__file__).parents[2] / "docs" / "api.md"
FUNCTIONS = ("build_features", "explain_household", "load_model", "read_tables", "score", "train")
AS_OF = "2024-03-01"


def code_blocks(section: str) -> list[str]:
    """The ```python blocks under the ``## section`` heading of docs/api.md."""
    text = API_DOC.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


@pytest.fixture
def in_data_folder(simulation, tmp_path, monkeypatch) -> Path:
    """A working directory with ``data/`` (the simulator's 300 households) and its own
    tracking store, as the example expects."""
    write_tables(simulation.tables, tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def test_the_package_exports_the_six_functions_typed_and_documented():
    assert sorted(set(earlywarn.__all__) - {"__version__"}) == sorted(FUNCTIONS)
    table = API_DOC.read_text(encoding="utf-8")
    for name in FUNCTIONS:
        function = getattr(earlywarn, name)
        assert function.__module__ == "earlywarn.api" and function.__doc__
        assert f"| `{name}(" in table, name
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)


def test_the_example_in_the_docs_runs(in_data_folder, capsys):
    (example,) = code_blocks("Example")
    exec(compile(example, str(API_DOC), "exec"), {})
    printed = capsys.readouterr().out
    assert re.search(r"\d+ households x \d+ features", printed)
    assert any(name in printed for name in ("rule_score", "logistic", "blend", "lightgbm"))
    assert (in_data_folder / "models" / "notebook").is_dir()


def test_training_inside_an_active_mlflow_run_is_its_child(in_data_folder, tables):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{in_data_folder / 'mlflow.db'}")  # as a notebook does
    (nested,) = code_blocks("Inside an MLflow run")
    namespace = {"earlywarn": earlywarn, "tables": tables}
    try:
        exec(compile(nested, str(API_DOC), "exec"), namespace)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
    child = mlflow.get_run(namespace["result"].run_id)
    parent_id = child.data.tags["mlflow.parentRunId"]
    assert mlflow.get_run(parent_id).data.params["data_snapshot"] == "2025-07"


@pytest.fixture(scope="module")
def scored_by_the_job(tables, tiny_model, tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("job")
    data_dir = write_tables(tables, folder / "data")
    model_dir = save_model(tiny_model, folder / "model")
    result = run_scoring(
        Config(), data_dir, AS_OF, model_dir, folder / "scores.parquet", lang="en", progress=False
    )
    return pd.read_parquet(result.out)


def test_score_gives_the_rows_of_the_scores_file(tables, tiny_model, scored_by_the_job):
    scores = earlywarn.score(tiny_model, tables, AS_OF, lang="en")
    expected = scored_by_the_job
    assert list(scores[HOUSEHOLD_ID]) == list(expected[HOUSEHOLD_ID])
    pd.testing.assert_series_equal(scores[RISK], expected[RISK], check_exact=False, rtol=1e-12)
    assert scores[FLAGGED].tolist() == expected[FLAGGED].tolist()
    flagged = expected[FLAGGED].to_numpy()
    texts = [[r["text"] for r in reasons] for reasons in scores.loc[flagged, REASONS]]
    assert texts == [[r["text"] for r in reasons] for reasons in expected.loc[flagged, REASONS]]


def test_explain_household_gives_the_reasons_of_its_row(tables, tiny_model, scored_by_the_job):
    row = scored_by_the_job[scored_by_the_job[FLAGGED]].iloc[0]
    reasons = earlywarn.explain_household(tiny_model, tables, row[HOUSEHOLD_ID], AS_OF, lang="en")
    assert list(reasons.columns) == ["code", "text", "contribution"]
    assert reasons["code"].tolist() == [r["code"] for r in row[REASONS]]
    assert reasons["text"].tolist() == [r["text"] for r in row[REASONS]]


def test_the_default_language_is_the_configs_in_score_and_explain(tables, tiny_model):
    """One default: report.lang (zh-CN), for the API as for the commands."""
    household = str(earlywarn.score(tiny_model, tables, AS_OF, explain="none")[HOUSEHOLD_ID][0])
    chinese = earlywarn.explain_household(tiny_model, tables, household, AS_OF)
    english = earlywarn.explain_household(tiny_model, tables, household, AS_OF, lang="en")
    assert len(chinese) == len(english) > 0
    assert chinese["text"].str.contains(r"[\u4e00-\u9fff]").all()
    assert not english["text"].str.contains(r"[\u4e00-\u9fff]").any()


def test_an_unknown_household_is_named(tables, tiny_model):
    with pytest.raises(SchemaError, match="no household 'H999999'"):
        earlywarn.explain_household(tiny_model, tables, "H999999", AS_OF)
