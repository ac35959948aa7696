"""Drift: does the population scored today look like the one the model learned from?

A *reference* is taken at training time (:func:`drift_reference`) and kept in the model
sidecar: for every feature and for the risk, bin edges (quantiles of the training rows) and
the share of rows in each bin, plus the share of missing values. At scoring time rows are
counted into the same bins (chunk by chunk: counts add up, :func:`count_bins` /
:func:`add_counts`), and :func:`drift_report` compares the two with the population stability
index (PSI), the change in the share of missing values and the share of category levels the
model never saw (LightGBM treats those as missing, silently).

PSI = sum over bins of (actual - expected) * ln(actual / expected), the missing values
counted as one more bin; shares are floored at ``EPSILON`` so an empty bin stays finite.
Rule of thumb: below 0.1 stable, 0.1-0.25 a shift worth a look, above 0.25 a real shift.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import DriftConfig

REFERENCE_FORMAT = 1
SCORE_KEY = "__risk__"
EPSILON = 1e-4
MAX_LEVELS = 100
OTHER_LEVEL = "__other__"


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two distributions over the same bins.

    Both arguments are counts or shares (each is normalised to sum to 1 here).
    """
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if expected.shape != actual.shape:
        raise ValueError(f"bins differ: {expected.shape} vs {actual.shape}")
    if expected.sum() <= 0 or actual.sum() <= 0:
        return float("nan")
    e = np.maximum(expected / expected.sum(), EPSILON)
    a = np.maximum(actual / actual.sum(), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def _is_categorical(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(values)


def _numeric_reference(values: pd.Series, n_bins: int) -> dict[str, Any]:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = numbers[~np.isnan(numbers)]
    quantiles = np.linspace(0, 1, n_bins + 1)[1:-1]
    edges = np.unique(np.quantile(present, quantiles)) if present.size else np.array([])
    reference = {"kind": "numeric", "edges": [float(e) for e in edges]}
    reference["counts"] = _count_numeric(numbers, edges).tolist()
    return reference


def _count_numeric(numbers: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (x <= edge[0], ..., x > edge[-1]) and, last, the missing values."""
    missing = np.isnan(numbers)
    bins = np.searchsorted(edges, numbers[~missing], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return np.append(counts, missing.sum()).astype(np.int64)


def _categorical_reference(values: pd.Series) -> dict[str, Any]:
    text = values.astype("string")
    top = text.value_counts(dropna=True).sort_index(kind="stable")
    top = top.sort_values(ascending=False, kind="stable").head(MAX_LEVELS)
    levels = sorted(str(level) for level in top.index)
    reference = {"kind": "categorical", "levels": levels}
    reference["counts"] = _count_categorical(text, levels).tolist()
    return reference


def _count_categorical(text: pd.Series, levels: list[str]) -> np.ndarray:
    """Counts per reference level, then all other levels, then the missing values."""
    text = text.astype("string")
    missing = text.isna().to_numpy()
    codes = pd.Index(levels, dtype="string").get_indexer(text)  # -1: a level never seen
    present = codes[~missing]
    counts = np.bincount(present[present >= 0], minlength=len(levels))
    other = int((present < 0).sum())
    return np.concatenate([counts, [other, missing.sum()]]).astype(np.int64)


def drift_reference(X: pd.DataFrame, risk: np.ndarray, *, n_bins: int = 10) -> dict[str, Any]:
    """Binned distributions of every feature and of the risk over the training rows.

    JSON-serialisable; training stores it in the model sidecar as
    ``metadata["drift_reference"]`` so scoring can measure drift against it.
    """
    features = {
        name: _categorical_reference(X[name])
        if _is_categorical(X[name])
        else _numeric_reference(X[name], n_bins)
        for name in X.columns
    }
    score = _numeric_reference(pd.Series(np.asarray(risk, dtype=float)), n_bins)
    return {"format": REFERENCE_FORMAT, "n_rows": len(X), "features": features, "score": score}


def count_bins(
    reference: Mapping[str, Any],
    X: pd.DataFrame,
    risk: np.ndarray,
    known_levels: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Count this slice of households into the reference's bins (adds up across slices).

    ``known_levels`` are the category levels the model was trained with: values outside
    them are counted as unknown categories.
    """
    counts: dict[str, list[int]] = {}
    unknown: dict[str, int] = {}
    for name, ref in reference["features"].items():
        if name not in X.columns:
            continue
        if ref["kind"] == "categorical":
            counts[name] = _count_categorical(X[name], list(ref["levels"])).tolist()
        else:
            numbers = pd.to_numeric(X[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            counts[name] = _count_numeric(numbers, np.asarray(ref["edges"])).tolist()
    for name, levels in (known_levels or {}).items():
        if name in X.columns:
            text = X[name].astype("string")
            unknown[name] = int((text.notna() & ~text.isin(list(levels))).sum())
    score = _count_numeric(
        np.asarray(risk, dtype=float), np.asarray(reference["score"]["edges"])
    ).tolist()
    return {"n_rows": len(X), "features": counts, "score": score, "unknown": unknown}


def add_counts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of two slices of households together."""

    def merged(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(a)
        for key, value in b.items():
            if key not in out:
                out[key] = value
            elif isinstance(value, list):
                out[key] = [x + y for x, y in zip(out[key], value, strict=True)]
            else:
                out[key] = out[key] + value
        return out

    return {
        "n_rows": left["n_rows"] + right["n_rows"],
        "features": merged(left["features"], right["features"]),
        "score": [x + y for x, y in zip(left["score"], right["score"], strict=True)],
        "unknown": merged(left["unknown"], right["unknown"]),
    }


def _share(counts: list[int], index: int) -> float:
    total = sum(counts)
    return counts[index] / total if total else float("nan")


def _status(value: float, cfg: DriftConfig) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= cfg.psi_alert:
        return "alert"
    return "warn" if value >= cfg.psi_warn else "ok"


def _reason_group(name: str) -> str | None:
    """The feature's reason group in the installed catalog (None when it has none)."""
    from earlywarn.features.catalog import feature_spec

    try:
        return feature_spec(name).reason_group
    except KeyError:
        return None


def drift_report(
    reference: Mapping[str, Any] | None, counts: Mapping[str, Any], cfg: DriftConfig
) -> dict[str, Any]:
    """PSI per feature and for the risk, missing and unknown-category shares, and warnings.

    Without a reference (a model trained before references were stored) only the shares of
    missing values and unknown categories of this population are reported.
    """
    n_rows = counts["n_rows"]
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    names = sorted(set(counts["features"]) | set(counts["unknown"]))
    ref_features = reference["features"] if reference else {}
    for name in names:
        now = counts["features"].get(name)
        ref = ref_features.get(name)
        row: dict[str, Any] = {
            "feature": name,
            "psi": float("nan"),
            "missing_share_reference": float("nan"),
            "missing_share": float("nan"),
        }
        if now is not None:
            row["missing_share"] = _share(now, -1)
        if ref is not None and now is not None:
            row["psi"] = psi(np.asarray(ref["counts"]), np.asarray(now))
            row["missing_share_reference"] = _share(ref["counts"], -1)
        unknown = counts["unknown"].get(name)
        row["unknown_category_share"] = (
            unknown / n_rows if unknown is not None and n_rows else float("nan")
        )
        row["status"] = _status(row["psi"], cfg)
        if row["status"] in {"warn", "alert"} and (
            name in cfg.info_only_features or _reason_group(name) in cfg.info_only_groups
        ):
            row["status"] = "info"
        if row["status"] in {"warn", "alert"}:
            warnings.append(f"{name}: PSI {row['psi']:.3f} ({row['status']})")
        increase = row["missing_share"] - row["missing_share_reference"]
        if not math.isnan(increase) and increase > cfg.missing_share_increase_warn:
            warnings.append(
                f"{name}: missing values {row['missing_share']:.1%} "
                f"(training {row['missing_share_reference']:.1%})"
            )
        if row["unknown_category_share"] > cfg.unknown_category_share_warn:
            warnings.append(
                f"{name}: {row['unknown_category_share']:.1%} of households have "
                "a category level the model never saw (scored as missing)"
            )
        rows.append(row)
    score_psi = float("nan")
    if reference:
        score_psi = psi(np.asarray(reference["score"]["counts"]), np.asarray(counts["score"]))
    score_status = _status(score_psi, cfg)
    if score_status in {"warn", "alert"}:
        warnings.insert(0, f"risk: PSI {score_psi:.3f} ({score_status})")
    if not reference:
        warnings.append("the model carries no drift reference: PSI not computed")
    return {
        "n_households": n_rows,
        "has_reference": bool(reference),
        "score_psi": score_psi,
        "score_status": score_status,
        "thresholds": cfg.model_dump(mode="json"),
        "features": rows,
        "warnings": warnings,
    }


def _fmt(value: float, pattern: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, pattern)


def render_drift_markdown(report: Mapping[str, Any], *, title: str = "Drift report") -> str:
    """A short Markdown page: the warnings, then one line per feature (worst PSI first)."""
    lines = [
        f"# {title}",
        "",
        f"Households scored: {report['n_households']:,}. "
        f"Risk PSI: {_fmt(report['score_psi'], '.3f')} ({report['score_status']}). "
        f"Thresholds: warn {report['thresholds']['psi_warn']}, "
        f"alert {report['thresholds']['psi_alert']}. Status `info`: reported, never warned "
        "on (village and county rates, and counts that grow by one each year, move every "
        "year by construction).",
        "",
    ]
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    else:
        lines += ["No warnings.", ""]
    lines += [
        "## Features",
        "",
        "| feature | PSI | status | missing (training) | missing (now) | unknown levels |",
        "|---|---|---|---|---|---|",
    ]
    ordered = sorted(
        report["features"],
        key=lambda r: (-(r["psi"] if not math.isnan(r["psi"]) else -1), r["feature"]),
    )
    for row in ordered:
        lines.append(
            f"| {row['feature']} | {_fmt(row['psi'], '.3f')} | {row['status']} | "
            f"{_fmt(row['missing_share_reference'], '.1%')} | {_fmt(row['missing_share'], '.1%')}"
            f" | {_fmt(row['unknown_category_share'], '.2%')} |"
        )
    return "\n".join(lines) + "\n"


def drift_as_json(report: Any) -> Any:
    """The drift report with NaN -> None everywhere, so that it is strict JSON."""
    if isinstance(report, Mapping):
        return {key: drift_as_json(value) for key, value in report.items()}
    if isinstance(report, list | tuple):
        return [drift_as_json(value) for value in report]
    if isinstance(report, float) and math.isnan(report):
        return None
    return report
