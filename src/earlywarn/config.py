"""Job configuration: frozen pydantic models, validated on load from one YAML per job.

Each job (simulate, train, score, report, demo) reads one YAML file whose top-level keys are
the sections below; unknown keys are errors, so a typo fails loudly. Stages receive the
sub-config they need, never a raw dict.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from earlywarn.errors import ConfigError

#: Who is scored: households lifted out of poverty before the target year, or every household
#: not poor the year before.
Population = Literal["exited", "all"]
POPULATIONS: tuple[Population, ...] = get_args(Population)
#: Where scoring runs: in this process, or on a Dask cluster.
Engine = Literal["local", "dask"]
ENGINES: tuple[Engine, ...] = get_args(Engine)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SimulateConfig(Section):
    """The simulate job, and the settings of the simulated world.

    At their defaults the settings give the world the demo and the tests use; other values give
    deliberately different worlds (to measure how a model generalises). Settings left at their
    defaults are left out of dumps, so today's configs keep their hash.
    """

    n_households: int = Field(default=5_000, ge=1)
    seed: int = 0
    first_year: int = Field(default=2014, ge=2014)
    last_year: int = Field(default=2025, le=2025)
    n_oracle_draws: int = Field(default=100, ge=10)
    oracle_workers: int = Field(default=1, ge=1)  # processes for the oracle (2 on 2 free cores)
    # times today's rate of every shock (household shocks, county disasters and lockdowns)
    shock_rate: float = Field(default=1.0, ge=0, le=20, exclude_if=lambda v: v == 1.0)
    # times today's rate, per event type, on top of shock_rate
    shock_rates: dict[
        Literal[
            "illness",
            "injury",
            "disability",
            "chronic_diagnosis",
            "death",
            "job_loss",
            "crop_failure",
            "livestock_loss",
            "disaster",
            "epidemic_lockdown",
            "other",
        ],
        Annotated[float, Field(ge=0, le=20)],
    ] = Field(default_factory=dict, exclude_if=lambda v: not v)
    # extra growth a year of earnings (wages, farming, herds, business) from 2014: -0.02 = 2% less
    income_growth: float = Field(default=0.0, ge=-0.1, le=0.1, exclude_if=lambda v: v == 0.0)
    # times today's spread of earning power's yearly drift and of monthly business income
    income_volatility: float = Field(default=1.0, ge=0, le=5, exclude_if=lambda v: v == 1.0)
    # times today's chance that hardship is met with assistance (medical aid, minimum living
    # allowance, employment and housing aid, public-welfare jobs), each capped at certainty
    assistance_response: float = Field(default=1.0, ge=0, le=5, exclude_if=lambda v: v == 1.0)
    # share of households never registered as poor (the richest as assessed in 2014); None:
    # those assessed under 5,500 yuan a person are registered (about 60% are not)
    never_registered_share: float | None = Field(
        default=None, gt=0, lt=1, exclude_if=lambda v: v is None
    )
    # a year of wide lockdowns and drought, worse than any before it: household shocks and
    # county disasters harsh_shock_rate times as likely, each county locked down with
    # probability harsh_lockdown_share a month and in drought with harsh_drought_share a month
    # from May to September (most crops fail, herds suffer)
    harsh_year: int | None = Field(default=None, ge=2015, le=2025, exclude_if=lambda v: v is None)
    harsh_shock_rate: float = Field(default=1.5, ge=1, le=20, exclude_if=lambda v: v == 1.5)
    harsh_lockdown_share: float = Field(default=0.3, ge=0, le=1, exclude_if=lambda v: v == 0.3)
    harsh_drought_share: float = Field(default=0.1, ge=0, le=1, exclude_if=lambda v: v == 0.1)


class DataConfig(Section):
    mapping: Path | None = None
    population: Population = "exited"


class TuneConfig(Section):
    n_trials: int = Field(default=30, ge=1)
    timeout_seconds: float | None = Field(default=None, gt=0)
    metric: Literal["average_precision", "roc_auc"] = "average_precision"
    seed: int = 0
    num_threads: int = Field(default=1, ge=1)
    storage: Path | None = None
    study_name: str | None = None
    # the search's folds train on this share of the non-poor households (weighted up; 1: all)
    # and on the examples at these as-of months only (null: all of train.as_of_months); at
    # 1 and null the search is the one before these existed, so they leave the dump (and the
    # names of the studies made before them) unchanged
    negative_share: float = Field(default=1.0, gt=0, le=1, exclude_if=lambda v: v == 1.0)
    as_of_months: tuple[Annotated[int, Field(ge=1, le=12)], ...] | None = Field(
        default=None, min_length=1, exclude_if=lambda v: v is None
    )


class PolicyConfig(Section):
    """Who is sent to caseworkers: the top share, the top N per village/county, or a level."""

    kind: Literal["top_share", "top_n_per_group", "threshold"] = "top_share"
    share: float = Field(default=0.10, gt=0, le=1)
    n_per_group: int = Field(default=5, ge=1)
    group: Literal["village", "county"] = "village"
    threshold: float = Field(default=0.5, ge=0, le=1)


class RuleConfig(Section):
    """The current rule: last income within a margin of the line, or a serious shock."""

    income_margin: float = Field(default=0.5, ge=0)
    serious_shocks: tuple[str, ...] = (
        "illness",
        "injury",
        "disability",
        "death",
        "disaster",
        "job_loss",
    )
    shock_window_months: int = Field(default=12, ge=1)
    min_shock_cost: float = Field(default=0.0, ge=0)


class TrackingConfig(Section):
    experiment: str = "earlywarn"
    registered_model: str = "earlywarn"


class ScoreConfig(Section):
    """Batch scoring: chunking, explanations, where the history of runs is kept."""

    chunk_size: int = Field(default=50_000, ge=1)
    explain: Literal["flagged", "all", "none"] = "flagged"
    n_reasons: int = Field(default=3, ge=1)
    history_dir: Path | None = None
    engine: Engine = "local"
    num_threads: int = Field(default=1, ge=1)
    n_workers: int = Field(default=2, ge=1)


class DriftConfig(Section):
    """When the population scored no longer looks like the one the model learned from."""

    n_bins: int = Field(default=10, ge=2)
    psi_warn: float = Field(default=0.10, gt=0)
    psi_alert: float = Field(default=0.25, gt=0)
    missing_share_increase_warn: float = Field(default=0.10, ge=0, le=1)
    unknown_category_share_warn: float = Field(default=0.01, ge=0, le=1)
    # reason groups whose PSI is reported but never warned on: village and county rates of
    # the last closed round are year-level aggregates that move every year by construction
    info_only_groups: tuple[str, ...] = ("place",)
    # features that grow by one every year for every household (a clock, not a shift in
    # who the households are): reported, never warned on
    info_only_features: tuple[str, ...] = (
        "n_rounds_known",
        "years_since_exit",
        "n_rounds_since_last_poor",
    )


ModelCandidate = Literal["rule_score", "logistic", "blend", "lightgbm"]
MODEL_CANDIDATES: tuple[ModelCandidate, ...] = ("rule_score", "logistic", "blend", "lightgbm")


class TrainConfig(Section):
    """Examples, out-of-time split, search bounds, calibration and where models go.

    The last target year with labels is the test year; the one before it calibrates; the
    rest fit. Tuning validates on the last ``n_valid_years`` fitting years, each against a
    model trained only on earlier years. Seed and threads come from ``tune``.
    """

    as_of_months: tuple[int, ...] = (1, 4, 7, 10)
    first_target_year: int | None = None
    last_target_year: int | None = None
    n_valid_years: int = Field(default=2, ge=1)
    calibration: Literal["platt", "isotonic"] = "platt"
    calibration_share: float | None = Field(default=0.5, gt=0, le=1)
    max_boost_rounds: int = Field(default=600, ge=10)
    early_stopping_rounds: int = Field(default=30, ge=1)
    size_tolerance: float = Field(default=0.005, ge=0)
    # model kinds compared on the validation years (one = forced), in the order preferred: the
    # first within max(choice_margin, one standard error) of the best wins (model/choice.py)
    # (left out of the config's hash at their defaults, like the world settings: configs from
    # before the choice existed keep their hash)
    candidates: tuple[ModelCandidate, ...] = Field(
        default=MODEL_CANDIDATES,
        min_length=1,
        exclude_if=lambda v: tuple(v) == MODEL_CANDIDATES,
    )
    choice_margin: float = Field(default=0.005, ge=0, exclude_if=lambda v: v == 0.005)
    # after calibrating, fit the chosen model again on every year before the test year (the
    # calibration households too) and keep the calibrator (model/training.py); on by default
    # since December 2026 (docs/model-quality.md). Left out of the hash when off, so configs
    # that switch it off keep the hash they had when off was the default.
    refit_on_calibration_year: bool = Field(default=True, exclude_if=lambda v: v is False)
    models_dir: Path = Path("models")
    run_name: str | None = None
    explain_rate_rows: int = Field(default=2_000, ge=10)


class ReportConfig(Section):
    """Caseworker reports: language, reason glossary (default: the one shipped in
    ``earlywarn/resources``), PDF next to the HTML."""

    lang: Literal["zh-CN", "en"] = "zh-CN"
    glossary: Path | None = None
    pdf: bool = False


class MonitoringConfig(Section):
    """The monitoring cycle: a household a visit found not at risk less than
    ``verified_months`` months ago, with no event reported since, is shown as verified
    instead of being sent again."""

    verified_months: int = Field(default=6, ge=1, le=60)


class Config(Section):
    simulate: SimulateConfig = SimulateConfig()
    data: DataConfig = DataConfig()
    tune: TuneConfig = TuneConfig()
    policy: PolicyConfig = PolicyConfig()
    rule: RuleConfig = RuleConfig()
    tracking: TrackingConfig = TrackingConfig()
    train: TrainConfig = TrainConfig()
    score: ScoreConfig = ScoreConfig()
    drift: DriftConfig = DriftConfig()
    report: ReportConfig = ReportConfig()
    # at its defaults out of the config hash, so adding the section changed no hash
    monitoring: MonitoringConfig = Field(
        default=MonitoringConfig(), exclude_if=lambda v: v == MonitoringConfig()
    )


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; any problem is a ConfigError naming ``what``."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as err:
        raise ConfigError(f"{what} {path} does not exist") from err
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{what} {path} is not valid UTF-8 YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{what} {path} must hold a mapping of sections")
    return raw


M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], raw: dict[str, Any], what: str, path: Path) -> M:
    """Validate ``raw`` into ``model``, listing every problem in one ConfigError."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        problems = "\n".join(
            f"  {'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{len(err.errors())} problems in {what} {path}:\n{problems}") from err


def load_config(path: Path | None) -> Config:
    """Read and validate a YAML config; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    return validate_model(Config, read_yaml_mapping(path, "config file"), "config", Path(path))


def config_hash(config: BaseModel) -> str:
    """A short, stable hash of a resolved config (for model sidecars and audit records)."""
    payload = config.model_dump(mode="json")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
