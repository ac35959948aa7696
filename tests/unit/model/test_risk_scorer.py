"""The logged MLflow model's arithmetic (model/risk_scorer.py) without earlywarn: it imports
only numpy, pandas and lightgbm, and gives earlywarn's own risks for every kind of model."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from earlywarn.model import risk_scorer
from earlywarn.model.blend import BlendScorer
from earlywarn.model.fit import fit_linear_model, fit_model
from earlywarn.model.model_file import SCORER_FILES, SIDECAR_FILE, Calibrator, save_model
from earlywarn.model.risk_scorer import StandaloneRiskModel


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "county": pd.Categorical(rng.choice(["c1", "c2", "c3"], n)),
            "net_income_per_capita_last_round": rng.normal(8_000, 3_000, n),
            "n_illness_events_12m": rng.integers(0, 4, n).astype(float),
        }
    )
    frame.iloc[::7, 1] = np.nan
    return frame


def _labels(features: pd.DataFrame) -> pd.Series:
    income = features["net_income_per_capita_last_round"].fillna(8_000)
    return ((income < 7_000) | (features["county"] == "c1")).astype(int)


def _scoring_rows(features: pd.DataFrame) -> pd.DataFrame:
    """Rows as a user sends them: text categories, one unseen level, one missing, ints."""
    rows = features.head(60).astype({"county": object})
    rows.iloc[0, 0] = "a county never seen"
    rows.iloc[1, 0] = None
    return rows.assign(n_illness_events_12m=rows["n_illness_events_12m"].astype(int))


def _standalone(model, folder: Path) -> StandaloneRiskModel:
    save_model(model, folder)
    sidecar = (folder / SIDECAR_FILE).read_text(encoding="utf-8")
    return StandaloneRiskModel.from_texts(sidecar, (folder / SCORER_FILES[model.kind]).read_bytes())


def test_it_imports_only_numpy_pandas_lightgbm_and_the_standard_library():
    tree = ast.parse(Path(str(risk_scorer.__file__)).read_text(encoding="utf-8"))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"numpy", "pandas", "lightgbm"}


@pytest.mark.parametrize(
    "calibrator",
    [Calibrator("platt", 0.8, -0.2), Calibrator("isotonic", x=(-2.0, 0.0, 2.0), y=(0.1, 0.4, 0.8))],
)
def test_a_booster_gives_earlywarns_risk(features, tmp_path, calibrator):
    model = fit_model(
        features,
        _labels(features),
        {"min_data_in_leaf": 5},
        seed=0,
        num_threads=1,
        num_boost_round=10,
    )
    model = replace(model, calibrator=calibrator)
    rows = _scoring_rows(features)
    standalone = _standalone(model, tmp_path / "booster")
    np.testing.assert_array_equal(standalone.predict_risk(rows), model.predict_risk(rows))


def test_a_linear_scorer_gives_earlywarns_risk(features, tmp_path):
    model = replace(
        fit_linear_model(features, _labels(features), seed=0),
        calibrator=Calibrator("platt", 1.1, 0.1),
    )
    rows = _scoring_rows(features)
    standalone = _standalone(model, tmp_path / "linear")
    np.testing.assert_allclose(
        standalone.predict_risk(rows), model.predict_risk(rows), rtol=1e-13, atol=0
    )


def test_a_blend_gives_earlywarns_risk(features, tmp_path):
    labels = _labels(features)
    booster = fit_model(
        features, labels, {"min_data_in_leaf": 5}, seed=0, num_threads=1, num_boost_round=10
    )
    linear = fit_linear_model(features, labels, seed=0)
    model = replace(
        booster,
        scorer=BlendScorer(booster=booster.booster, linear=linear.scorer, booster_weight=0.4),
        calibrator=Calibrator("platt", 0.9, -0.1),
    )
    rows = _scoring_rows(features)
    standalone = _standalone(model, tmp_path / "blend")
    assert standalone.kind == "blend"
    np.testing.assert_allclose(
        standalone.predict_risk(rows), model.predict_risk(rows), rtol=1e-12, atol=0
    )


def test_a_changed_scorer_file_is_refused(features, tmp_path):
    model = fit_linear_model(features, _labels(features), seed=0)
    save_model(model, tmp_path / "m")
    sidecar = (tmp_path / "m" / SIDECAR_FILE).read_text(encoding="utf-8")
    scorer = (tmp_path / "m" / "linear.json").read_bytes().replace(b"1", b"2", 1)
    with pytest.raises(ValueError, match="does not match the hash"):
        StandaloneRiskModel.from_texts(sidecar, scorer)


def test_missing_feature_columns_are_named(features, tmp_path):
    standalone = _standalone(fit_linear_model(features, _labels(features), seed=0), tmp_path / "m")
    with pytest.raises(KeyError, match="n_illness_events_12m"):
        standalone.predict_risk(features.drop(columns="n_illness_events_12m"))
