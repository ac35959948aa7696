"""The promote job: make a registered model version the champion, if it beats the rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from earlywarn.config import Config

if TYPE_CHECKING:  # mlflow is imported only when a command needs it
    from earlywarn.tracking import Promotion


def run_promote(cfg: Config, version: str, *, name: str | None = None) -> Promotion:
    """Make ``version`` (a number or an alias such as ``candidate``) the ``champion`` of the
    registered model (default ``cfg.tracking.registered_model``) if it beats the rule on the
    test year; raises ``PromotionRefused`` otherwise."""
    from earlywarn.tracking import promote

    return promote(version, name=name or cfg.tracking.registered_model)
