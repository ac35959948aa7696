"""The Python API: what a notebook or a pipeline needs, in six functions (``docs/api.md``).

    import earlywarn
    tables = earlywarn.read_tables("data/")
    result = earlywarn.train(tables, config="configs/train.yaml")
    scores = earlywarn.score(result.model, tables, "2025-07-01")
    earlywarn.explain_household(result.model, tables, "H000123", "2025-07-01")

Each function calls the same stages as the command of the same name, on tables in memory:
:func:`read_tables` reads and validates a data directory (``SchemaError`` naming every
problem), :func:`build_features` the point-in-time features, :func:`train` trains, compares,
saves and (unless ``track=False``) logs to MLflow, :func:`score` gives the scores frame of the
scores file, :func:`explain_household` one household's reasons, :func:`load_model` a model
from a folder or a registry URI. Options the functions do not take come from ``config``
(a :class:`~earlywarn.config.Config`, the path of a YAML config, or None for the defaults).
The language of reason texts is ``report.lang`` of the config (zh-CN) unless ``lang`` says.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias

import pandas as pd

from earlywarn.config import Config, Population, load_config
from earlywarn.data.columns import HOUSEHOLD_ID
from earlywarn.data.schema import read_tables as read_data_directory
from earlywarn.data.tables import Tables
from earlywarn.errors import ConfigError, SchemaError
from earlywarn.explain.glossary import Glossary, load_glossary
from earlywarn.model.model_file import RiskModel

if TYPE_CHECKING:
    from earlywarn.jobs.train import TrainingResult

__all__ = [
    "build_features",
    "explain_household",
    "load_model",
    "read_tables",
    "score",
    "train",
]

#: A date as the API takes it: ``"2025-07-01"``, a ``datetime.date`` or a ``pd.Timestamp``.
AsOf: TypeAlias = str | date | pd.Timestamp
Lang: TypeAlias = Literal["zh-CN", "en"]


def read_tables(data: str | Path, *, mapping: str | Path | None = None) -> Tables:
    """The data directory ``data`` (one file per table), read and checked against the data
    contract: a ``SchemaError`` lists every problem at once. ``mapping``: a column mapping
    YAML for exports with other names (``configs/column_mapping.zh.yaml``)."""
    return read_data_directory(Path(data), mapping=mapping)


def build_features(
    tables: Tables, as_of: AsOf, *, population: Population = "exited"
) -> pd.DataFrame:
    """The features of every household of the population at ``as_of`` (index household_id,
    the catalog's columns): survey rounds of years before ``as_of``'s, events and assistance
    before ``as_of``. ``population``: ``exited`` (lifted out of poverty before the year) or
    ``all`` (every household not poor the year before)."""
    from earlywarn.features.build import build_features as features_as_of
    from earlywarn.scoring.score import population_ids

    day = _day(as_of)
    return features_as_of(tables, as_of=day, households=population_ids(tables, day, population))


def train(
    tables: Tables,
    *,
    config: Config | str | Path | None = None,
    truth: pd.DataFrame | None = None,
    out_dir: str | Path | None = None,
    trials: int | None = None,
    population: Population | None = None,
    track: bool = True,
) -> TrainingResult:
    """Tune, fit and calibrate the risk model on ``tables`` and compare it, out of time, with
    the rule and logistic regression (``result.comparison``); the model is ``result.model``.

    The model is saved in ``out_dir`` (default ``models/<run-name>``) with its card beside it;
    with ``track`` the run is logged to MLflow (``MLFLOW_TRACKING_URI``, default
    ``sqlite:///mlflow.db``) and the model registered with the alias ``candidate``
    (``result.model_uri``). ``truth``: the simulator's oracle, to compare with.
    """
    from earlywarn.jobs.train import train_on_tables

    return train_on_tables(
        _config(config),
        tables,
        truth=truth,
        out_dir=Path(out_dir) if out_dir is not None else None,
        trials=trials,
        population=population,
        track=track,
    )


def load_model(model: str | Path) -> RiskModel:
    """A model from a model folder (as ``train`` saves it) or a registry URI
    (``models:/earlywarn@champion``, ``models:/earlywarn/3``, ``runs:/<id>/model``), refused
    (``ModelError``) when it was trained with another feature catalog than the installed one."""
    from earlywarn.jobs.score import resolve_scoring_model
    from earlywarn.scoring.score import check_catalog, installed_catalog

    found = resolve_scoring_model(model)
    catalog, names = installed_catalog()
    check_catalog(found, catalog_hash=catalog, catalog_names=names)
    return found


def score(
    model: RiskModel | str | Path,
    tables: Tables,
    as_of: AsOf,
    *,
    config: Config | str | Path | None = None,
    population: Population | None = None,
    explain: Literal["flagged", "all", "none"] | None = None,
    lang: Lang | None = None,
) -> pd.DataFrame:
    """One row per household of the population at ``as_of``: the columns of the scores file
    (``risk``, ``flagged`` by the config's policy, ``rank_in_village``, ``reasons`` for the
    flagged households, or ``explain="all"``/``"none"``), as ``earlywarn score`` writes them.
    ``model``: a :class:`RiskModel` or what :func:`load_model` takes."""
    from earlywarn.scoring.score import score_households

    cfg = _config(config)
    risk_model = model if isinstance(model, RiskModel) else load_model(model)
    day = _day(as_of)
    features = build_features(tables, day, population=population or cfg.data.population)
    return score_households(
        risk_model,
        features,
        as_of=day,
        policy_cfg=cfg.policy,
        households_frame=tables.households,
        glossary=_glossary(cfg),
        explain=explain or cfg.score.explain,
        n_reasons=cfg.score.n_reasons,
        lang=lang or cfg.report.lang,
        tables=tables,
        rule_cfg=cfg.rule,
    )


def explain_household(
    model: RiskModel | str | Path,
    tables: Tables,
    household_id: str,
    as_of: AsOf,
    *,
    config: Config | str | Path | None = None,
    lang: Lang | None = None,
) -> pd.DataFrame:
    """One household's reasons at ``as_of``, strongest first: ``code``, ``text`` (the
    glossary's, quoting the household's figures) and ``contribution`` (probability points on
    the calibrated risk; empty for the current rule's triggers, which follow). The top
    ``score.n_reasons`` reason groups of the config, as in the scores file."""
    from earlywarn.features.build import build_features as features_as_of
    from earlywarn.scoring.score import explain_households

    cfg = _config(config)
    risk_model = model if isinstance(model, RiskModel) else load_model(model)
    known = tables.households[HOUSEHOLD_ID].astype("str")
    if not (known == household_id).any():
        raise SchemaError(f"households.{HOUSEHOLD_ID}: no household {household_id!r}")
    day = _day(as_of)
    features = features_as_of(tables, as_of=day, households=pd.Index([household_id]))
    reasons = explain_households(
        risk_model,
        features,
        glossary=_glossary(cfg),
        n_reasons=cfg.score.n_reasons,
        lang=lang or cfg.report.lang,
        tables=tables,
        as_of=day,
        rule_cfg=cfg.rule,
    )
    rows = reasons.iloc[0] if len(reasons) else []
    return pd.DataFrame(list(rows), columns=["code", "text", "contribution"])


def _config(config: Config | str | Path | None) -> Config:
    if isinstance(config, Config):
        return config
    return load_config(Path(config) if config is not None else None)


def _day(as_of: AsOf) -> pd.Timestamp:
    try:
        return pd.Timestamp(as_of).normalize()
    except ValueError as err:
        raise ConfigError(f"as_of {as_of!r} is not a date (YYYY-MM-DD)") from err


def _glossary(cfg: Config) -> Glossary:
    return load_glossary(cfg.report.glossary)
