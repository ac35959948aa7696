"""The explain job: re-derive one household's score and reasons from its recorded inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from earlywarn.config import Config, config_hash
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import sha256_file
from earlywarn.errors import ConfigError, ModelError, SchemaError
from earlywarn.explain.glossary import DEFAULT_GLOSSARY, Glossary, load_glossary
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.jobs.score import resolve_scoring_model
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.rederive import (
    Rederivation,
    changed_inputs,
    compare_scores,
    recorded_score,
    rederive_household,
)
from earlywarn.scoring.scores_file import read_scores, read_scores_metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExplainResult:
    """A household's recorded score next to the one re-derived from the recorded inputs."""

    rederivation: Rederivation
    scores_path: Path
    data_dir: Path
    model_uri: str
    model_version: str
    as_of: pd.Timestamp
    population: str
    config_hash: str


def run_explain(
    cfg: Config,
    household_id: str,
    scores_path: Path,
    *,
    data_dir: Path | None = None,
    model_uri: str | None = None,
) -> ExplainResult:
    """Re-derive ``household_id``'s risk, flag and reasons from the inputs the scores file
    records, after checking they are the same: each table file's SHA-256, the model version,
    the config hash and the reason glossary's SHA-256 (pass the config used for scoring).
    ``data_dir``/``model_uri`` override the recorded locations (files moved), never the
    checks. Raises EarlywarnError when an input no longer matches; the comparison itself is
    in the result.
    """
    scores_path = Path(scores_path)
    scores = read_scores(scores_path)
    meta = read_scores_metadata(scores_path)
    recorded = recorded_score(scores, household_id)
    data_dir = _checked_data_dir(cfg, meta, scores_path, data_dir)
    _check_config(cfg, meta, scores_path)
    glossary = _checked_glossary(cfg, meta, scores_path)
    model_uri = model_uri or meta.get("model_uri")
    if model_uri is None:
        raise ConfigError(f"{scores_path} does not record its model: pass --model")
    model = _checked_model(model_uri, meta, scores_path)

    as_of = pd.Timestamp(meta["earlywarn.as_of"])
    population = meta.get("earlywarn.population", cfg.data.population)
    explain = meta.get("explain")
    explained = (
        explain == "all" or (explain == "flagged" and recorded.flagged)
        if explain is not None
        else bool(recorded.reasons)
    )
    tables = read_tables(data_dir, mapping=cfg.data.mapping)
    rederived = rederive_household(
        tables,
        model,
        str(household_id),
        as_of=as_of,
        population=population,
        policy_cfg=cfg.policy,
        explained=explained,
        glossary=glossary,
        n_reasons=cfg.score.n_reasons,
        lang=meta.get("lang", "en"),
        rule_cfg=cfg.rule,
    )
    comparison = compare_scores(recorded, rederived)
    log.info(
        "re-derived household %s from %s: %s",
        household_id,
        scores_path.name,
        "match" if comparison.matches else f"{len(comparison.differences)} differences",
    )
    return ExplainResult(
        rederivation=comparison,
        scores_path=scores_path,
        data_dir=data_dir,
        model_uri=str(model_uri),
        model_version=model.version,
        as_of=as_of,
        population=str(population),
        config_hash=config_hash(cfg),
    )


def _checked_data_dir(
    cfg: Config, meta: dict[str, Any], scores_path: Path, data_dir: Path | None
) -> Path:
    """The data directory (given, else recorded), refused unless its table files are the
    ones the scores were made from."""
    if data_dir is None:
        if meta.get("data_dir") is None:
            raise ConfigError(f"{scores_path} does not record its data directory: pass --data")
        data_dir = Path(meta["data_dir"])
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise SchemaError(
            f"data directory {data_dir} (recorded by {scores_path.name}) does "
            "not exist: pass --data where the tables are now"
        )
    problems = changed_inputs(meta["earlywarn.input_fingerprints"], table_fingerprints(data_dir))
    if problems:
        try:  # say too what is wrong with them, when they break the data contract
            read_tables(data_dir, mapping=cfg.data.mapping)
        except SchemaError as err:
            problems.append(f"and they break the data contract: {err}")
        raise SchemaError(
            f"the tables in {data_dir} are not the ones {scores_path.name} was made from; "
            "refusing to re-derive:\n  " + "\n  ".join(problems)
        )
    return data_dir


def _check_config(cfg: Config, meta: dict[str, Any], scores_path: Path) -> None:
    recorded = meta.get("earlywarn.config_hash")
    if recorded is not None and recorded != config_hash(cfg):
        raise ConfigError(
            f"{scores_path.name} was made with config {recorded}, this "
            f"config is {config_hash(cfg)}: pass the --config used for scoring"
        )


def _checked_glossary(cfg: Config, meta: dict[str, Any], scores_path: Path) -> Glossary:
    """The configured reason glossary, refused when the scores file records another one."""
    path = Path(cfg.report.glossary or DEFAULT_GLOSSARY)
    recorded, current = meta.get("glossary_sha256"), sha256_file(path)
    if recorded is not None and str(recorded) != current:
        raise ConfigError(
            f"{scores_path.name} was made with a reason glossary of sha256 "
            f"{str(recorded)[:12]}..., the configured one ({path}) is {current[:12]}...: "
            "pass the --config used for scoring, or restore the glossary"
        )
    return load_glossary(path)


def _checked_model(model_uri: str, meta: dict[str, Any], scores_path: Path) -> RiskModel:
    model = resolve_scoring_model(model_uri)
    recorded = meta.get("earlywarn.model_version")
    if recorded is not None and model.version != recorded:
        raise ModelError(
            f"model {model_uri} is version {model.version}, {scores_path.name} "
            f"was made with version {recorded}; refusing to re-derive"
        )
    return model
