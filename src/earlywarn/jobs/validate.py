"""The validate job: read a data directory, check every contract rule, summarise."""

from __future__ import annotations

import logging
from pathlib import Path

from earlywarn.data.schema import read_tables
from earlywarn.data.summary import Summary, summarize

log = logging.getLogger(__name__)


def run_validate(data_dir: Path, *, mapping: Path | None = None) -> Summary:
    """Read and check a data directory against the data contract; write nothing.

    Returns counts for a summary; raises SchemaError listing every problem.
    """
    tables = read_tables(Path(data_dir), mapping=mapping)
    summary = summarize(tables)
    log.info(
        "validated %s: %d households, %d survey rounds",
        data_dir,
        summary.n_households,
        summary.n_rounds,
    )
    return summary
