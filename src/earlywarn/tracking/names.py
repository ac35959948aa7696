"""Names and values MLflow accepts: metric, parameter and tag keys, parameter values, the
resolved config as parameters."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)

_NAME_BAD_CHARS = re.compile(r"[^\w./\- ]+")
_MAX_KEY_LENGTH = 250
_MAX_PARAM_LENGTH = 6000


def sanitize_name(name: str) -> str:
    """A metric/param/tag key MLflow accepts: letters, digits, ``_ - . / space``; no ``..``."""
    clean = _NAME_BAD_CHARS.sub("_", str(name)).strip()
    clean = re.sub(r"/{2,}", "/", clean).strip("/")
    clean = re.sub(r"\.{2,}", "_", clean)
    clean = "/".join(part if part not in (".", "") else "_" for part in clean.split("/"))
    return clean[:_MAX_KEY_LENGTH] or "_"


def unique_names(raw: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Sanitised keys; a key that collides after sanitising gets a numbered suffix."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = sanitize_name(key)
        if name in out:
            n = 2
            while f"{name}_{n}" in out:
                n += 1
            log.warning(
                "%s name %r collides after sanitising; logged as %r", what, key, f"{name}_{n}"
            )
            name = f"{name}_{n}"
        out[name] = value
    return out


def param_value(value: Any) -> str:
    """A parameter value as MLflow stores it: text (lists and dicts as JSON), truncated."""
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= _MAX_PARAM_LENGTH else text[: _MAX_PARAM_LENGTH - 3] + "..."


def flatten_config(config: BaseModel, prefix: str = "config") -> dict[str, str]:
    """The resolved config as ``config.<section>.<field>`` -> string value."""
    flat: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        else:
            flat[path] = param_value(node)

    walk(config.model_dump(mode="json"), prefix)
    return flat


def clean_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Metric names made MLflow-valid; values as floats (``None`` and non-numbers dropped)."""
    values: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            values[key] = float(value)
        except (TypeError, ValueError):
            log.warning("metric %r is not a number (%s); not logged", key, type(value).__name__)
    return unique_names(values, "metric")
