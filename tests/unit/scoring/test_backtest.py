"""The backtest: its figures equal a direct computation from the stored scores and the labels;
its report renders in both languages; the command prints the prevention figure."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.config import Config, PolicyConfig, RuleConfig
from earlywarn.data.columns import DEFAULT_LINES
from earlywarn.data.directory import write_tables
from earlywarn.errors import EarlywarnError
from earlywarn.explain.backtest_report import backtest_summary, render_backtest
from earlywarn.explain.glossary import DEFAULT_GLOSSARY, load_glossary
from earlywarn.features.build import build_features
from earlywarn.jobs.backtest import run_backtest, stored_runs
from earlywarn.model.rule import rule_flags
from earlywarn.scoring.backtest import backtest
from earlywarn.scoring.history import append_run
from earlywarn.scoring.score import population_ids, score_households

YEAR = 2024
AS_OF_DATES = [pd.Timestamp(YEAR, month, 1) for month in (1, 4, 7, 10)]


@pytest.fixture(scope="module")
def workspace(tables, tiny_model, tmp_path_factory):
    """A data directory and a score history of four runs of 2024 (top 20% flagged)."""
    root = tmp_path_factory.mktemp("backtest")
    glossary = load_glossary(DEFAULT_GLOSSARY)
    for as_of in AS_OF_DATES:
        ids = population_ids(tables, as_of, "exited")
        scores = score_households(
            tiny_model,
            build_features(tables, as_of=as_of, households=ids),
            as_of=as_of,
            policy_cfg=PolicyConfig(share=0.2),
            households_frame=tables.households,
            glossary=glossary,
            explain="none",
        )
        append_run(root / "history", scores, as_of=as_of, model_version="tiny-1", created_at="then")
    write_tables(tables, root / "data")
    result = run_backtest(Config(), root / "history", root / "data", root / "out")
    return root, result


def direct_labels(tables) -> pd.Series:
    """Poor in 2024, computed here from the round's own columns (NaN unknown)."""
    rounds = tables.household_years[tables.household_years["year"] == YEAR]
    income = rounds[["wage_income", "business_income", "property_income", "transfer_income"]]
    expense = rounds[["medical_expense", "education_expense"]]
    net = income.sum(axis=1, skipna=False) - expense.sum(axis=1, skipna=False)
    per_capita = net / rounds["household_size"]
    poor = (per_capita < DEFAULT_LINES[YEAR]).astype(float).where(per_capita.notna())
    return pd.Series(poor.to_numpy(), index=rounds["household_id"].astype(str).to_numpy())


def not_monitored_at(tables, as_of: pd.Timestamp) -> set[str]:
    spells = tables.monitoring
    running = spells[(spells["entered"] < as_of) & ~(spells["exited"] < as_of)]
    return set(tables.households["household_id"]) - set(running["household_id"])


def test_the_figures_equal_a_direct_computation(workspace, tables):
    root, result = workspace
    labels = direct_labels(tables)
    runs = result.backtest.runs.set_index("as_of")
    assert list(runs.index) == AS_OF_DATES
    for as_of in AS_OF_DATES:
        stored = pd.read_parquet(
            root / "history" / f"as_of={as_of.date()}" / "model_version=tiny-1" / "scores.parquet"
        )
        poor = labels.reindex(stored["household_id"]).to_numpy()
        known = ~np.isnan(poor)
        y, risk = poor[known], stored["risk"].to_numpy()[known]
        flagged = stored["flagged"].to_numpy()[known]
        row = runs.loc[as_of]
        assert row["capacity"] == stored["flagged"].sum()
        assert row["n_known"] == known.sum() and row["n_poor"] == y.sum()
        assert row["model_recall_at_capacity"] == pytest.approx(
            (flagged & (y == 1)).sum() / y.sum()
        )
        assert row["model_precision_at_capacity"] == pytest.approx(
            (flagged & (y == 1)).sum() / flagged.sum()
        )
        assert row["model_roc_auc"] == pytest.approx(roc_auc_score(y, risk))
        assert row["model_average_precision"] == pytest.approx(average_precision_score(y, risk))
        assert row["mean_risk"] == pytest.approx(risk.mean())
        assert row["realised_rate"] == pytest.approx(y.mean())
        assert row["expected_poor_flagged"] == pytest.approx(risk[flagged].sum())
        assert row["realised_poor_flagged"] == (y[flagged] == 1).sum()
        free = np.isin(
            stored["household_id"].to_numpy()[known], list(not_monitored_at(tables, as_of))
        )
        poor_free = (y == 1) & free
        assert row["n_poor_not_monitored"] == poor_free.sum()
        assert row["model_prevention_share"] == pytest.approx(flagged[poor_free].mean())
        monitored = ~np.isin(stored["household_id"], list(not_monitored_at(tables, as_of)))
        assert row["model_flagged_monitored"] == (stored["flagged"].to_numpy() & monitored).sum()
        triggered = rule_flags(tables, as_of, stored["household_id"])["rule_flagged"].to_numpy()
        hits = (triggered[known] & (y == 1)).sum()
        assert row["rule_n_triggered"] == triggered.sum()
        assert row["rule_triggered_recall"] == pytest.approx(hits / y.sum())


def test_the_rule_sends_as_many_households_as_the_model(workspace):
    _, result = workspace
    frame = result.backtest.households
    counts = frame.groupby("as_of")[["flagged", "rule_at_capacity"]].sum()
    assert (counts["flagged"] == counts["rule_at_capacity"]).all()
    # triggered households go first
    for _, run in frame.groupby("as_of"):
        if run["rule_flagged"].sum() >= run["flagged"].sum():
            assert not (run["rule_at_capacity"] & ~run["rule_flagged"]).any()


def test_county_figures_add_up_to_the_run(workspace):
    _, result = workspace
    counties = result.backtest.by_county
    model = counties[counties["scorer"] == "model"].groupby("as_of")
    runs = result.backtest.runs.set_index("as_of")
    assert (model["n_poor"].sum() == runs["n_poor"]).all()
    assert (model["n_flagged"].sum() == runs["capacity"]).all()


def test_the_report_renders_in_both_languages(workspace):
    _, result = workspace
    zh, en = result.reports["zh-CN"].read_text(), result.reports["en"].read_text()
    assert "2024年预警效果回测" in zh and "现行规则" in zh and 'lang="zh-CN"' in zh
    assert "How good were the warnings of 2024?" in en and "<svg" in en
    assert en.count("<polyline") == 2  # the model's recall line and the rule's
    first = result.backtest.runs.iloc[0]
    assert f"{100 * first['model_recall_at_capacity']:.1f}%" in en
    csv = pd.read_csv(result.runs_csv)
    assert len(csv) == len(AS_OF_DATES)


def test_a_county_name_is_escaped_in_the_report(workspace):
    _, result = workspace
    counties = result.backtest.by_county.assign(county="<b>C1</b>")
    page = render_backtest(result.backtest.runs, counties, target_year=YEAR, lang="en")
    assert "<b>C1</b>" not in page and "&lt;b&gt;C1&lt;/b&gt;" in page


def test_summary_prints_the_prevention_figure(workspace):
    _, result = workspace
    lines = backtest_summary(result.backtest.runs, target_year=YEAR)
    assert lines[0] == "backtest of 2024: 4 run(s) against the round of 2024"
    assert sum("prevention: of" in line for line in lines) == 4


def test_the_command_prints_the_figures_and_writes_the_reports(workspace, tmp_path, monkeypatch):
    root, _ = workspace
    monkeypatch.setenv("EARLYWARN_AUDIT_LOG", str(tmp_path / "runs.jsonl"))
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--history",
            str(root / "history"),
            "--data",
            str(root / "data"),
            "--out",
            str(tmp_path / "out"),
            "--year",
            "2024",
            "--no-track",  # tracking is tested in test_backtest_tracking.py and the demo
        ],
    )
    assert result.exit_code == 0, result.output
    assert "prevention: of" in result.output and "rule" in result.output
    assert "MLflow run" not in result.output
    assert (tmp_path / "out" / "backtest-2024.zh-CN.html").is_file()
    record = json.loads((tmp_path / "runs.jsonl").read_text().splitlines()[-1])
    assert record["command"] == "backtest"


def test_no_run_of_the_year_or_no_round_is_an_error(workspace, tables):
    root, _ = workspace
    runs = stored_runs(root / "history")
    with pytest.raises(EarlywarnError, match="no stored scoring run of 2023"):
        backtest(runs, tables, target_year=2023, rule_cfg=RuleConfig())
    years = tables.household_years
    without = replace(tables, household_years=years[years["year"] < YEAR])
    with pytest.raises(EarlywarnError, match="its survey round has not arrived"):
        backtest(runs, without, target_year=YEAR, rule_cfg=RuleConfig())


def test_a_missing_history_is_an_error(tmp_path):
    with pytest.raises(EarlywarnError, match="does not exist"):
        stored_runs(tmp_path / "nowhere")
