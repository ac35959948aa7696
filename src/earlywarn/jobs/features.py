"""The features and catalog jobs: features as of a date to a file; the catalog as Markdown."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from earlywarn.config import Population
from earlywarn.data.columns import HOUSEHOLD_ID, LABEL_POOR
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import (
    atomic_path,
    check_writable,
    write_parquet_atomic,
    write_text_atomic,
)
from earlywarn.features.build import build_features
from earlywarn.features.catalog import render_catalog_markdown
from earlywarn.features.labels import make_labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeaturesResult:
    """What ``run_features`` wrote: one row per household of the population."""

    out: Path
    as_of: pd.Timestamp
    population: Population
    n_households: int
    n_features: int
    n_labels_known: int
    n_poor: int
    seconds: float


def run_features(
    data_dir: Path,
    as_of: pd.Timestamp | str,
    out: Path,
    *,
    population: Population = "exited",
    mapping: Path | None = None,
) -> FeaturesResult:
    """Read a data directory, build the features and label as of ``as_of`` for the population
    and write them (household_id, the catalog's features, label_poor) to ``out`` atomically
    (Parquet, or CSV when ``out`` ends in .csv)."""
    started = time.perf_counter()
    as_of = pd.Timestamp(as_of)
    check_writable(Path(out), folder=False)
    tables = read_tables(Path(data_dir), mapping=mapping)
    labels = make_labels(tables, as_of, population=population)
    features = build_features(tables, as_of=as_of, households=labels.index)
    frame = features.assign(**{LABEL_POOR: labels}).reset_index(names=HOUSEHOLD_ID)
    out = Path(out)
    if out.suffix.lower() == ".csv":
        with atomic_path(out) as staged:
            frame.to_csv(staged, index=False)
    else:
        write_parquet_atomic(frame, out, index=False)
    seconds = time.perf_counter() - started
    log.info(
        "features as of %s: %d households x %d features in %.1f s",
        as_of.date(),
        len(frame),
        features.shape[1],
        seconds,
    )
    return FeaturesResult(
        out=out,
        as_of=as_of,
        population=population,
        n_households=len(frame),
        n_features=features.shape[1],
        n_labels_known=int(labels.notna().sum()),
        n_poor=int(labels.fillna(False).sum()),
        seconds=seconds,
    )


def run_catalog_docs(out: Path) -> Path:
    """Write the feature catalog as Markdown (``docs/features.md``) atomically."""
    out = Path(out)
    write_text_atomic(render_catalog_markdown() + "\n", out)
    return out
