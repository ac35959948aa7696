"""The model registry: register a logged model as ``candidate``, and promote a version to
``champion`` when its run beats the current rule on the test year (aliases, not the
deprecated stages)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from earlywarn.errors import PromotionRefused
from earlywarn.model.comparison import MODEL, RULE, metric_key
from earlywarn.tracking.provenance import REGISTERED_MODEL_DESCRIPTION
from earlywarn.tracking.store import (
    check_tracking_available,
    configure,
    first_line,
    redact_uri,
    require_store,
    tracking_uri,
)

log = logging.getLogger(__name__)

CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"

# Promotion: the candidate must beat the current rule on the test year. Training logs these
# two metrics (test year, average precision, the tuned model and the rule on the same rows).
PROMOTION_METRIC_MODEL = metric_key("average_precision", MODEL)
PROMOTION_METRIC_RULE = metric_key("average_precision", RULE)
PROMOTION_REQUIREMENTS: tuple[tuple[str, str], ...] = (
    (PROMOTION_METRIC_MODEL, PROMOTION_METRIC_RULE),
)


@dataclass(frozen=True)
class Comparison:
    """One promotion requirement: ``metric`` of the candidate must exceed ``baseline``."""

    metric: str
    value: float | None
    baseline_metric: str
    baseline: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.baseline is not None and self.value > self.baseline


@dataclass(frozen=True)
class Promotion:
    """A version moved to an alias (``champion``), and the evidence it was checked against."""

    name: str
    version: str
    alias: str
    previous_version: str | None
    comparisons: tuple[Comparison, ...]


def register_version(
    model_uri: str,
    name: str,
    *,
    run_id: str,
    catalog_hash: str,
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
    description: str = "",
) -> str:
    """Register a logged model under ``name``; the new version's number.

    The version is tagged with its run, its feature catalog, the promotion metrics and
    ``tags`` (earlywarn version, git commit, data fingerprints), and described by
    ``description`` (its model card's summary). A registered model without a description
    gets :data:`~earlywarn.tracking.provenance.REGISTERED_MODEL_DESCRIPTION`.
    """
    registered = mlflow.register_model(
        model_uri,
        name,
        tags={
            **dict(tags or {}),
            "run_id": run_id,
            "catalog_hash": catalog_hash,
            **{
                k: f"{v:.6g}"
                for k, v in metrics.items()
                if k in (PROMOTION_METRIC_MODEL, PROMOTION_METRIC_RULE)
            },
        },
    )
    client = MlflowClient()
    if description:
        client.update_model_version(name, registered.version, description=description)
    if not client.get_registered_model(name).description:
        client.update_registered_model(name, description=REGISTERED_MODEL_DESCRIPTION)
    return str(registered.version)


def make_candidate(client: MlflowClient, name: str, version: str) -> None:
    """Point the alias ``candidate`` at ``version``: what ``train`` registered last."""
    client.set_registered_model_alias(name, CANDIDATE_ALIAS, version)


def promote(
    version: str | int,
    *,
    name: str,
    require: Sequence[tuple[str, str]] = PROMOTION_REQUIREMENTS,
    alias: str = CHAMPION_ALIAS,
) -> Promotion:
    """Move ``alias`` (``champion``) to ``version`` if its run beats the rule on the test year.

    ``version`` is a number or an alias (``candidate``). Each ``(metric, baseline)`` pair in
    ``require`` names two metrics logged in the version's run; the metric must be strictly
    greater. Raises :class:`PromotionRefused` (with the figures) otherwise.
    """
    uri = tracking_uri()
    require_store(uri, f"cannot promote {name} {str(version).strip()!r}")
    check_tracking_available(uri)
    configure(uri)
    client = MlflowClient(tracking_uri=uri)
    wanted = str(version).strip()
    try:
        if wanted.isdigit():
            model_version = client.get_model_version(name, wanted)
        else:
            model_version = client.get_model_version_by_alias(name, wanted)
    except MlflowException as err:
        raise PromotionRefused(
            f"model {name} has no version {wanted!r} in {redact_uri(uri)}: {first_line(err)}"
        ) from err
    number = str(model_version.version)
    if not model_version.run_id:
        raise PromotionRefused(f"{name}/{number} has no training run to check it against")
    run_metrics = client.get_run(model_version.run_id).data.metrics
    comparisons = tuple(
        Comparison(
            metric=metric,
            value=run_metrics.get(metric),
            baseline_metric=baseline,
            baseline=run_metrics.get(baseline),
        )
        for metric, baseline in require
    )
    failures = [c for c in comparisons if not c.passed]
    if failures:
        reasons = "; ".join(_refusal_reason(c) for c in failures)
        raise PromotionRefused(f"{name}/{number} was not made {alias}: {reasons}")
    try:
        previous = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        previous = None
    client.set_registered_model_alias(name, alias, number)
    log.info("%s/%s is now %s (was %s)", name, number, alias, previous)
    return Promotion(
        name=name, version=number, alias=alias, previous_version=previous, comparisons=comparisons
    )


def _refusal_reason(comparison: Comparison) -> str:
    if comparison.value is None or comparison.baseline is None:
        missing = [
            m
            for m, v in (
                (comparison.metric, comparison.value),
                (comparison.baseline_metric, comparison.baseline),
            )
            if v is None
        ]
        return f"its run did not log {', '.join(missing)}"
    if math.isnan(comparison.value) or math.isnan(comparison.baseline):
        return f"{comparison.metric} or {comparison.baseline_metric} is NaN"
    return (
        f"{comparison.metric} {comparison.value:.4f} is not above "
        f"{comparison.baseline_metric} {comparison.baseline:.4f}"
    )
