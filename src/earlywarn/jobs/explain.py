"""The explain job: re-derive one household's score and reasons from its recorded inputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from earlywarn.config import Config, config_hash
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.jobs.score import resolve_scoring_model
from earlywarn.scoring.scores_file import read_scores, read_scores_metadata

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExplainResult:
    """A household's recorded score next to the one re-derived from the recorded inputs."""

    rederivation: Any  # earlywarn.scoring.rederive.Rederivation
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
    records, after checking they are the same: each table file's SHA-256, the model version
    and the config hash (pass the config used for scoring). ``data_dir``/``model_uri``
    override the recorded locations (files moved), never the checks. Raises EarlywarnError
    when an input no longer matches; the comparison itself is in the result.
    """
    from earlywarn.data.schema import read_tables
    from earlywarn.errors import ConfigError, ModelError, SchemaError
    from earlywarn.scoring.rederive import (
        changed_inputs,
        compare_scores,
        recorded_score,
        rederive_household,
    )

    scores_path = Path(scores_path)
    scores = read_scores(scores_path)
    meta = read_scores_metadata(scores_path)
    recorded = recorded_score(scores, household_id)

    recorded_data = meta.get("data_dir")
    if data_dir is None and recorded_data is None:
        raise ConfigError(f"{scores_path} does not record its data directory: pass --data")
    data_dir = Path(data_dir if data_dir is not None else recorded_data)  # type: ignore[arg-type]
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

    recorded_hash = meta.get("earlywarn.config_hash")
    if recorded_hash is not None and recorded_hash != config_hash(cfg):
        raise ConfigError(
            f"{scores_path.name} was made with config {recorded_hash}, this "
            f"config is {config_hash(cfg)}: pass the --config used for scoring"
        )

    model_uri = model_uri or meta.get("model_uri")
    if model_uri is None:
        raise ConfigError(f"{scores_path} does not record its model: pass --model")
    model = resolve_scoring_model(model_uri)
    recorded_version = meta.get("earlywarn.model_version")
    if recorded_version is not None and model.version != recorded_version:
        raise ModelError(
            f"model {model_uri} is version {model.version}, {scores_path.name} "
            f"was made with version {recorded_version}; refusing to re-derive"
        )

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
