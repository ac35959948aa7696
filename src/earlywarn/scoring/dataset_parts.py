"""The scores written as a dataset partitioned by county, by the workers that scored them.

After the client has flagged and ranked the whole population (and compared it with the last
run), each task's households go back to a worker as their rows of the scores frame without
reasons (:func:`write_scores_parts`); the worker adds the reasons and monitoring status its
partitions' work files hold and writes one scores file per county into the run's work
directory (``dataset/county=C/part-0.parquet``, each written atomically), then marks the task
done. The client moves the whole dataset into place once every task is done
(:func:`earlywarn.scoring.scores_file.publish_dataset`), so readers never see half a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID
from earlywarn.scoring.partitions import PartitionPlan, check_identity
from earlywarn.scoring.score import attach_reasons, place_status
from earlywarn.scoring.scores_file import write_scores_parquet

DATASET_PART = "part-0.parquet"
"""The one file of each county's folder in a scores dataset."""


def write_scores_parts(
    number: int,
    rows: pd.DataFrame,
    reason_chunks: Sequence[int],
    plan: PartitionPlan,
    metadata: dict[str, str],
    with_status: bool,
) -> int:
    """Task ``number``'s counties as parts of the staged scores dataset: ``rows`` (its
    households' scores, reasons left out, in file order) with the reasons kept in the
    work directory's ``reason_chunks`` and, ``with_status``, the task's monitoring status.
    Returns how many households were written."""
    check_identity(plan.identity)
    work = plan.work
    reasons = work.read_reasons_of(reason_chunks, rows[HOUSEHOLD_ID].tolist())
    scores = attach_reasons(rows, reasons)
    if with_status:
        status, _ = work.read_part("status", number)
        scores = place_status(scores, status.reindex(scores[HOUSEHOLD_ID].to_numpy()))
    write_scores_dataset_parts(scores, work.dataset_path, metadata=metadata)
    work.mark_dataset_part(number)
    return len(scores)


def write_scores_dataset_parts(
    scores: pd.DataFrame, folder: Path, *, metadata: dict[str, str]
) -> list[str]:
    """The rows of each county of ``scores`` as ``folder/county=<C>/part-0.parquet`` (the
    value URL-quoted), each a scores file of its own (:func:`write_scores_parquet`: same
    schema, metadata and row order as the whole file), written atomically; returns the
    partitions written."""
    written = []
    for county, rows in scores.groupby(COUNTY, sort=True):
        name = f"{COUNTY}={quote(str(county), safe='')}"
        write_scores_parquet(
            rows.reset_index(drop=True), Path(folder) / name / DATASET_PART, metadata=metadata
        )
        written.append(name)
    return written
