"""Tables kept as partitioned Parquet datasets: ``households/county=C01/part-0.parquet``.

A data directory may hold a table as one file (``households.parquet``) or as a folder of
Parquet files in Hive layout, one level ``<key>=<value>`` (e.g. ``county=C01``, the value
URL-quoted). The partition key is a column of the table in the folder names only; every
table keyed by household is cut by its household's county, so one partition holds every row
of its households. Reading the whole folder gives the table as one frame (files in sorted
path order, the key column back as text); reading one partition gives its rows only, which is
what a Dask worker does with its own share of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, HOUSEHOLDS
from earlywarn.data.storage import folder_digest
from earlywarn.errors import SchemaError

PART_FILE = "part-0.parquet"


def is_dataset(path: Path) -> bool:
    """Whether ``path`` is a folder holding a partitioned Parquet dataset."""
    return path.is_dir() and any(path.glob("*=*"))


def dataset_files(path: Path) -> list[Path]:
    """The Parquet files of a dataset folder, in sorted path order (the rows' order)."""
    return sorted(p for p in path.rglob("*.parquet") if p.is_file())


def partition_key(path: Path) -> str:
    """The partition column of a dataset folder (``county`` for ``county=C01/``)."""
    keys = {child.name.split("=", 1)[0] for child in path.iterdir() if "=" in child.name}
    if len(keys) != 1:
        raise SchemaError(f"{path} is not partitioned by one column (found {sorted(keys)})")
    return keys.pop()


def partition_names(path: Path) -> list[str]:
    """The partitions of a dataset folder (``county=C01``, ...), sorted."""
    return sorted(child.name for child in path.iterdir() if child.is_dir() and "=" in child.name)


def partition_value(name: str) -> str:
    """The value of a partition folder's name (``county=C%2001`` -> ``C 01``)."""
    return unquote(name.split("=", 1)[1])


def read_dataset(
    path: Path,
    *,
    partitions: Sequence[str] | None = None,
    households: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A dataset folder's rows (or some ``partitions``' only; or some ``households``' only,
    by a Parquet filter) as one frame, the partition column back as text, rows in file
    order (partitions in sorted order)."""
    key = partition_key(path)
    folder = path
    if partitions is None:
        files = dataset_files(path)
    else:
        files = []
        for name in sorted(partitions):
            folder = path / name
            found = dataset_files(folder) if folder.is_dir() else []
            if not found:
                raise SchemaError(f"{folder} holds no Parquet file")
            files.extend(found)
    partitioning = ds.partitioning(pa.schema([(key, pa.string())]), flavor="hive")
    try:
        dataset = ds.dataset(
            [str(f) for f in files],
            format="parquet",
            partitioning=partitioning,
            partition_base_dir=str(path),
        )
        wanted = None
        if households is not None:
            wanted = ds.field(HOUSEHOLD_ID).isin(pa.array(list(households), pa.string()))
        table = dataset.to_table(filter=wanted)
    except (OSError, ValueError, pa.ArrowException) as err:
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise SchemaError(f"{folder} cannot be read as a Parquet dataset ({reason})") from err
    frame = table.to_pandas()
    if key in frame.columns:
        frame[key] = frame[key].astype("str")
    return frame.rename(columns=str).reset_index(drop=True)


def write_dataset(
    frame: pd.DataFrame, folder: Path, *, key: str, values: pd.Series | None = None
) -> None:
    """Write ``frame`` as a Hive-partitioned dataset in ``folder`` (which must not exist): one
    file per value of ``key`` (``values``, aligned with ``frame``, when the frame has no such
    column), rows in their order; the key in folder names only."""
    keys = (frame[key] if values is None else values).astype("str").to_numpy()
    body = frame.drop(columns=[key], errors="ignore").reset_index(drop=True)
    folder.mkdir(parents=True)
    codes, uniques = pd.factorize(keys, sort=True)
    for code, value in enumerate(uniques):
        part = folder / f"{key}={quote(str(value), safe='')}"
        part.mkdir()
        rows = body.iloc[codes == code]
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), part / PART_FILE)


def county_of_rows(frame: pd.DataFrame, households: pd.DataFrame) -> pd.Series:
    """The county of each row of a table keyed by household (aligned with ``frame``)."""
    county = households.drop_duplicates(HOUSEHOLD_ID).set_index(HOUSEHOLD_ID)[COUNTY]
    return frame[HOUSEHOLD_ID].map(county).reset_index(drop=True)


def dataset_fingerprints(data_dir: Path) -> dict[str, str]:
    """SHA-256 of each dataset folder of ``data_dir``: its files' relative paths and hashes
    (``{}`` when it has none); what a rerun compares before reusing finished work."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return {}
    out: dict[str, str] = {}
    for folder in sorted(p for p in data_dir.iterdir() if is_dataset(p)):
        out[f"{folder.name}/"] = folder_digest(folder, dataset_files(folder))
    return out


def county_partitions(data_dir: Path, stem: str = HOUSEHOLDS) -> list[str] | None:
    """The county partitions of the households dataset (``county=...``, sorted), or None
    when households is not a dataset partitioned by county."""
    folder = Path(data_dir) / stem
    if not is_dataset(folder) or partition_key(folder) != COUNTY:
        return None
    return partition_names(folder)


def partition_sizes(folder: Path, partitions: Sequence[str]) -> list[int]:
    """Rows in each partition of a dataset folder, from the Parquet footers only."""
    return [
        sum(pq.ParquetFile(file).metadata.num_rows for file in dataset_files(folder / name))
        for name in partitions
    ]
