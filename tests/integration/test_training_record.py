"""What a training run leaves for the people who look at it later: tuning progress on stderr
while it runs, the study and its trials in the run, the study naming the run, the version
described by its card and its inputs; the demo's champion when the model beats the rule."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient

from earlywarn import tracking
from earlywarn.config import load_config
from earlywarn.data.contract import TABLES
from earlywarn.data.directory import write_tables
from earlywarn.jobs.demo import promote_if_better
from earlywarn.jobs.train import run_training
from earlywarn.model.search import RUN_ID_ATTR

pytestmark = pytest.mark.slow

NAME = "earlywarn-record"


@pytest.fixture(scope="module")
def trained(simulation, tmp_path_factory):
    root = tmp_path_factory.mktemp("record")
    write_tables(simulation.tables, root / "data")
    config = root / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tune": {"n_trials": 3, "num_threads": 1, "seed": 0},
                "train": {"max_boost_rounds": 60, "early_stopping_rounds": 10, "n_valid_years": 1},
                "tracking": {"experiment": NAME, "registered_model": NAME},
            }
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        patch.chdir(root)
        cfg = load_config(config)
        result = run_training(cfg, root / "data", out_dir=root / "models" / "run")
        yield {"root": root, "cfg": cfg, "result": result, "client": MlflowClient()}


def test_tuning_shows_each_trial_on_stderr_and_nothing_on_stdout(trained, tmp_path, capfd):
    cfg = trained["cfg"]
    cfg = cfg.model_copy(update={"tune": cfg.tune.model_copy(update={"n_trials": 2})})
    out_dir = tmp_path / "models" / "run"
    run_training(cfg, trained["root"] / "data", out_dir=out_dir, track=False)
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("tuning: trial ")]
    assert [line.split(" ")[2] for line in lines] == ["1/2", "2/2"]
    assert all("best so far" in line and "pruned" in line for line in lines)
    assert "tuning:" not in out


def test_the_run_names_the_studys_real_storage_and_the_study_names_the_run(trained):
    result, client = trained["result"], trained["client"]
    params = client.get_run(result.run_id).data.params
    storage = Path(params["config.tune.storage"])
    assert storage == (trained["root"] / "models" / "tuning.sqlite3").resolve()
    assert storage.is_file()
    assert params["tune.storage"] == f"sqlite:///{storage}"
    study = optuna.load_study(study_name=params["tune.study_name"], storage=params["tune.storage"])
    assert params["config.tune.study_name"] == study.study_name
    assert study.user_attrs[RUN_ID_ATTR] == result.run_id
    trial_values = client.get_metric_history(result.run_id, "tune_best_value_so_far")
    assert [m.step for m in trial_values] == [t.number for t in study.trials][: len(trial_values)]
    assert len(trial_values) == 3


def test_the_version_is_described_by_its_card_and_lists_its_input_tables(trained):
    result, client = trained["result"], trained["client"]
    number = result.model_uri.rsplit("/", 1)[-1]
    version = client.get_model_version(NAME, number)
    assert version.description.startswith("earlywarn risk model ")
    assert f"({result.model.kind}, " in version.description
    assert "Test-year average precision" in version.description
    assert version.description.count("\n") == 0 and len(version.description) < 700
    for table in TABLES:
        assert len(version.tags[f"earlywarn.fingerprint.{table}"]) == 64
    inputs = client.get_run(result.run_id).inputs.dataset_inputs
    assert {d.dataset.name for d in inputs} == set(TABLES)
    assert all(str(trained["root"] / "data") in d.dataset.source for d in inputs)


def test_the_demo_makes_the_model_champion_only_when_it_beats_the_rule(trained, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{trained['root'] / 'mlflow.db'}")
    result, client = trained["result"], trained["client"]
    stages: list[str] = []
    promotion, not_promoted = promote_if_better(trained["cfg"], result, stages.append)
    beats = (
        result.metrics[tracking.PROMOTION_METRIC_MODEL]
        > result.metrics[tracking.PROMOTION_METRIC_RULE]
    )
    if beats:
        assert promotion is not None and not_promoted is None
        assert (
            str(client.get_model_version_by_alias(NAME, "champion").version)
            == (result.model_uri.rsplit("/", 1)[-1])
        )
        assert stages == [f"promoted {result.model_uri} to @champion"]
    else:
        assert promotion is None and "is not above" in (not_promoted or "")
        with pytest.raises(Exception, match="alias"):
            client.get_model_version_by_alias(NAME, "champion")
