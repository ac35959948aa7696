"""Drift: does the population scored today look like the one the model learned from?

A *reference* is taken at training time (:func:`drift_reference`) and kept in the model
sidecar: for every feature and for the risk, bin edges (quantiles of the reference rows) and
the count of rows in each bin, plus the missing values. At scoring time rows are counted into
the same bins (chunk by chunk: counts add up, :func:`count_bins` / :func:`add_counts`), and
:func:`drift_report` compares the two with the population stability index (PSI), the change
in the share of missing values and the share of category levels the model never saw
(LightGBM treats those as missing, silently).

What a shift *means* is judged against what the world does by itself. Given each row's as-of
date (format 2), the reference keeps the latest training year's counts per as-of month, so a
run as of 1 July compares with the 1 July rows (days since the last harvest, this year's
events and assistance that runs in spring are seasonal); and each feature's PSI between
consecutive training years at the same month (the largest seen, ``year_to_year_psi``): a
feature warns only by the PSI beyond ``TOLERANCE_FACTOR`` times that (county-wide disasters
and lockdowns move that much every year; noise in a small population too). Features that
grow by construction (clocks, place rates of the last round: ``DriftConfig.info_only_*``)
are reported with status ``info``, never warned on. A format 1 reference (every row pooled,
no years) is still read: pooled counts, no tolerance.

PSI = sum over bins of (actual - expected) * ln(actual / expected), the missing values
counted as one more bin; shares are floored at ``EPSILON`` so an empty bin stays finite.
Rule of thumb: below 0.1 stable, 0.1-0.25 a shift worth a look, above 0.25 a real shift.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from earlywarn.config import DriftConfig

REFERENCE_FORMAT = 2
SCORE_KEY = "__risk__"
EPSILON = 1e-4
NO_REFERENCE: dict[str, Any] = {"features": {}, "score": {"edges": []}}
"""The reference of a model without one: counts hold only the rows and the risk's one bin."""
MAX_LEVELS = 100
OTHER_LEVEL = "__other__"
#: A feature warns on the PSI beyond this many times its largest PSI between two training
#: years (PSI saturates near 9 when a share goes from most households to none, so the
#: margin scales with it).
TOLERANCE_FACTOR = 1.5


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
    """Up to ``n_bins`` bins, edges halfway between consecutive distinct quantiles (min and
    max included): a value heaped on a quantile (351 days since a yearly grant ended) stays
    in its bin when it moves by a day (352 the year after a leap day)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = numbers[~np.isnan(numbers)]
    points = np.unique(np.quantile(present, np.linspace(0, 1, n_bins))) if present.size else None
    if points is None:
        edges = np.array([])
    else:
        edges = points[:1] if len(points) == 1 else (points[:-1] + points[1:]) / 2
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


def drift_reference(
    X: pd.DataFrame,
    risk: np.ndarray,
    *,
    as_of: pd.Series | Sequence[Any] | None = None,
    n_bins: int = 10,
) -> dict[str, Any]:
    """Binned distributions of every feature and of the risk over the training rows.

    JSON-serialisable; training stores it in the model sidecar as
    ``metadata["drift_reference"]``. ``as_of``: each row's as-of date. With it, bins are cut
    on the latest year's rows, whose counts are also kept per as-of month (``by_month``), and
    ``year_to_year_psi`` holds each feature's (and the risk's, under ``SCORE_KEY``) largest PSI
    between two consecutive years at the same month. Without it, all rows are pooled.
    """
    risk = np.asarray(risk, dtype=float)
    if as_of is None:
        return _pooled_reference(X, risk, n_bins)
    dates = pd.to_datetime(pd.Series(np.asarray(as_of)))
    if len(dates) != len(X):
        raise ValueError(f"as_of has {len(dates)} dates for {len(X)} rows")
    years, months = dates.dt.year.to_numpy(), dates.dt.month.to_numpy()
    X = X.reset_index(drop=True)
    latest_year = int(years.max()) if len(years) else 0
    latest = np.flatnonzero(years == latest_year)
    reference = _pooled_reference(X.iloc[latest], risk[latest], n_bins)
    counted = {
        (int(y), int(m)): count_bins(reference, X.iloc[rows], risk[rows])
        for (y, m), rows in pd.DataFrame({"y": years, "m": months})
        .groupby(["y", "m"])
        .indices.items()
    }
    reference["reference_year"] = latest_year
    reference["by_month"] = {
        str(m): {key: c[key] for key in ("n_rows", "features", "score")}
        for (y, m), c in sorted(counted.items())
        if y == latest_year
    }
    reference["year_to_year_psi"] = _year_to_year_psi(counted)
    return reference


def _pooled_reference(X: pd.DataFrame, risk: np.ndarray, n_bins: int) -> dict[str, Any]:
    features = {
        name: _categorical_reference(X[name])
        if _is_categorical(X[name])
        else _numeric_reference(X[name], n_bins)
        for name in X.columns
    }
    score = _numeric_reference(pd.Series(risk), n_bins)
    return {"format": REFERENCE_FORMAT, "n_rows": len(X), "features": features, "score": score}


def _year_to_year_psi(counted: Mapping[tuple[int, int], Mapping[str, Any]]) -> dict[str, float]:
    """Per feature (and ``SCORE_KEY``), the largest PSI between year - 1 and year at one month."""
    largest: dict[str, float] = {}
    for (year, month), now in counted.items():
        before = counted.get((year - 1, month))
        if before is None:
            continue
        pairs = [
            (name, before["features"][name], now["features"][name]) for name in now["features"]
        ]
        pairs.append((SCORE_KEY, before["score"], now["score"]))
        for name, then, later in pairs:
            value = psi(np.asarray(then), np.asarray(later))
            if not math.isnan(value):
                largest[name] = round(max(largest.get(name, 0.0), value), 6)
    return largest


def reference_month(reference: Mapping[str, Any], as_of: pd.Timestamp | str) -> int | None:
    """The reference's as-of month nearest ``as_of``'s (the earlier on a tie); None when the
    reference keeps no months (format 1)."""
    months = sorted(int(m) for m in reference.get("by_month") or {})
    if not months:
        return None
    month = pd.Timestamp(as_of).month
    return min(months, key=lambda m: (min((m - month) % 12, (month - m) % 12), (month - m) % 12))


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


def sum_counts(
    reference: Mapping[str, Any] | None, slices: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The counts of every slice together (the empty counts of ``reference`` if none; no
    reference counts only rows and the risk's missing bin)."""
    total = count_bins(reference or NO_REFERENCE, pd.DataFrame(), np.empty(0))
    for counts in slices:
        total = add_counts(counts, total) if total["n_rows"] else dict(counts)
    return total


def _share(counts: list[int], index: int) -> float:
    total = sum(counts)
    return counts[index] / total if total else float("nan")


def _status(value: float, cfg: DriftConfig, tolerance: float = 0.0) -> str:
    """``alert``, ``warn`` or ``ok`` by the PSI beyond ``TOLERANCE_FACTOR`` times the
    feature's own PSI between training years; ``n/a`` without a PSI."""
    if math.isnan(value):
        return "n/a"
    beyond = value - TOLERANCE_FACTOR * tolerance
    if beyond >= cfg.psi_alert:
        return "alert"
    return "warn" if beyond >= cfg.psi_warn else "ok"


def _reason_group(name: str) -> str | None:
    """The feature's reason group in the installed catalog (None when it has none)."""
    from earlywarn.features.catalog import feature_spec

    try:
        return feature_spec(name).reason_group
    except KeyError:
        return None


def _compared_counts(
    reference: Mapping[str, Any] | None, as_of: pd.Timestamp | str | None
) -> tuple[dict[str, Any], list[int] | None, int | None]:
    """The reference counts to compare with: the as-of month's when the reference keeps
    months and ``as_of`` is given, else the pooled ones. (features, risk, month used)."""
    if not reference:
        return {}, None, None
    pooled = {name: ref["counts"] for name, ref in reference["features"].items()}
    month = reference_month(reference, as_of) if as_of is not None else None
    if month is None:
        return pooled, reference["score"]["counts"], None
    kept = reference["by_month"][str(month)]
    return {**pooled, **kept["features"]}, kept["score"], month


def _feature_row(
    name: str,
    now: list[int] | None,
    expected: list[int] | None,
    tolerance: float,
    unknown: float,
    cfg: DriftConfig,
) -> tuple[dict[str, Any], list[str]]:
    """One feature's line of the drift report, and its warnings."""
    row: dict[str, Any] = {
        "feature": name,
        "psi": float("nan"),
        "psi_between_training_years": tolerance,
        "missing_share_reference": float("nan"),
        "missing_share": _share(now, -1) if now is not None else float("nan"),
        "unknown_category_share": unknown,
    }
    if expected is not None and now is not None:
        row["psi"] = psi(np.asarray(expected), np.asarray(now))
        row["missing_share_reference"] = _share(expected, -1)
    row["status"] = _status(row["psi"], cfg, tolerance)
    if _status(row["psi"], cfg) in {"warn", "alert"} and (
        name in cfg.info_only_features or _reason_group(name) in cfg.info_only_groups
    ):
        row["status"] = "info"  # moved, by construction: whatever the years before did
    warnings = []
    if row["status"] in {"warn", "alert"}:
        beyond = f", {tolerance:.3f} between training years" if tolerance else ""
        warnings.append(f"{name}: PSI {row['psi']:.3f} ({row['status']}{beyond})")
    increase = row["missing_share"] - row["missing_share_reference"]
    if not math.isnan(increase) and increase > cfg.missing_share_increase_warn:
        warnings.append(
            f"{name}: missing values {row['missing_share']:.1%} "
            f"(training {row['missing_share_reference']:.1%})"
        )
    if unknown > cfg.unknown_category_share_warn:
        warnings.append(
            f"{name}: {unknown:.1%} of households have "
            "a category level the model never saw (scored as missing)"
        )
    return row, warnings


def drift_report(
    reference: Mapping[str, Any] | None,
    counts: Mapping[str, Any],
    cfg: DriftConfig,
    *,
    as_of: pd.Timestamp | str | None = None,
) -> dict[str, Any]:
    """PSI per feature and for the risk, missing and unknown-category shares, and warnings.

    ``as_of``: the date scored; a reference that keeps months is compared month for month.
    ``alerts`` counts the features (and the risk) in status ``alert``; ``--fail-on-drift``
    fails on it. Without a reference (a model trained before references were stored) only
    the shares of missing values and unknown categories of this population are reported.
    """
    n_rows = counts["n_rows"]
    expected, expected_score, month = _compared_counts(reference, as_of)
    tolerances = (reference or {}).get("year_to_year_psi") or {}
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for name in sorted(set(counts["features"]) | set(counts["unknown"])):
        unknown = counts["unknown"].get(name)
        row, found = _feature_row(
            name,
            counts["features"].get(name),
            expected.get(name),
            float(tolerances.get(name, 0.0)),
            unknown / n_rows if unknown is not None and n_rows else float("nan"),
            cfg,
        )
        rows.append(row)
        warnings += found
    score_psi = float("nan")
    if expected_score is not None:
        score_psi = psi(np.asarray(expected_score), np.asarray(counts["score"]))
    score_status = _status(score_psi, cfg, float(tolerances.get(SCORE_KEY, 0.0)))
    if score_status in {"warn", "alert"}:
        warnings.insert(0, f"risk: PSI {score_psi:.3f} ({score_status})")
    if not reference:
        warnings.append("the model carries no drift reference: PSI not computed")
    statuses = [row["status"] for row in rows] + [score_status]
    return {
        "n_households": n_rows,
        "has_reference": bool(reference),
        "reference_year": (reference or {}).get("reference_year"),
        "reference_month": month,
        "score_psi": score_psi,
        "score_status": score_status,
        "alerts": statuses.count("alert"),
        "thresholds": cfg.model_dump(mode="json"),
        "features": rows,
        "warnings": warnings,
    }


def _fmt(value: float, pattern: str) -> str:
    return "-" if value is None or math.isnan(value) else format(value, pattern)


def render_drift_markdown(report: Mapping[str, Any], *, title: str = "Drift report") -> str:
    """A short Markdown page: the warnings, then one line per feature (worst PSI first)."""
    month = report.get("reference_month")
    against = (
        f"the {report.get('reference_year')} training rows as of 1 {calendar.month_name[month]}"
        if month
        else "the training rows"
    )
    lines = [
        f"# {title}",
        "",
        f"Households scored: {report['n_households']:,}, compared with {against}. "
        f"Risk PSI: {_fmt(report['score_psi'], '.3f')} ({report['score_status']}). "
        f"Thresholds: warn {report['thresholds']['psi_warn']}, "
        f"alert {report['thresholds']['psi_alert']}, on the PSI beyond {TOLERANCE_FACTOR:g} "
        "times the largest between two training years at the same month (a feature that "
        "moves that much every year by itself does not warn). Status `info`: reported, never "
        "warned on (village and county rates, and counts that grow by one each year, move "
        "every year by construction).",
        "",
    ]
    if report["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report["warnings"]] + [""]
    else:
        lines += ["No warnings.", ""]
    lines += [
        "## Features",
        "",
        "| feature | PSI | between training years | status | missing (training) "
        "| missing (now) | unknown levels |",
        "|---|---|---|---|---|---|---|",
    ]
    ordered = sorted(
        report["features"],
        key=lambda r: (-(r["psi"] if not math.isnan(r["psi"]) else -1), r["feature"]),
    )
    for row in ordered:
        lines.append(
            f"| {row['feature']} | {_fmt(row['psi'], '.3f')} | "
            f"{_fmt(row.get('psi_between_training_years', 0.0), '.3f')} | {row['status']} | "
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
