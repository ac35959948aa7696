"""The promote job: make a registered model version the champion, if it beats the rule."""

from __future__ import annotations

import logging
from typing import Any

from earlywarn.config import Config

log = logging.getLogger(__name__)


def run_promote(cfg: Config, version: str, *, name: str | None = None) -> Any:
    """Make ``version`` (a number or an alias such as ``candidate``) the ``champion`` of the
    registered model (default ``cfg.tracking.registered_model``) if it beats the rule on the
    test year; returns a :class:`earlywarn.tracking.Promotion`, raises ``PromotionRefused``."""
    from earlywarn.tracking import promote

    return promote(version, name=name or cfg.tracking.registered_model)
