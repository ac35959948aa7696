"""Tables kept as partitioned Parquet datasets: ``households/county=C01/part-0.parquet``.

A data directory may hold a table as one file (``households.parquet``) or as a folder of
Parquet files in Hive layout, one level ``<key>=<value>`` (e.g. ``county=C01``, the value
URL-quoted). The partition key is a column of the table in the folder names only; every
table keyed by household is cut by its household's county, so one partition holds every row
of its households. Reading the whole folder gives the table as one frame (files in sorted
path order, the key column back as text); reading one partition gives its rows only, which is
what a Dask worker does with its own share of the data.

A data directory may also be an fsspec URL (``s3://bucket/prefix``, ``file:///data``,
``memory://d``; :func:`is_url`): the same layout, listed and read through the URL's
filesystem (pyarrow reads the datasets through fsspec), so every Dask worker can read its
partitions from object storage. A scheme whose package is missing is an
:class:`~earlywarn.errors.EarlywarnError` naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, HOUSEHOLDS
from earlywarn.data.storage import folder_digest, listing_digest, sha256_stream
from earlywarn.errors import EarlywarnError, SchemaError

PART_FILE = "part-0.parquet"
#: earlywarn's extra that installs a URL scheme's filesystem (``pip install 'earlywarn[s3]'``).
EXTRAS = {"s3": "s3", "s3a": "s3"}

#: A data location: a local folder or file, or an fsspec URL (:func:`is_url`).
Location = Path | str


def is_url(location: Location) -> bool:
    """Whether ``location`` is an fsspec URL (``scheme://...``) rather than a local path."""
    return isinstance(location, str) and "://" in location


def as_location(location: Location) -> Location:
    """``location`` as the data layer takes it: a URL kept as text, anything else a Path."""
    return location if is_url(location) else Path(location)


def location_text(location: Location) -> str:
    """``location`` as runs record it and workers receive it: a URL as given, a path made
    absolute."""
    return str(location) if is_url(location) else str(Path(location).resolve())


def child(location: Location, name: str) -> Location:
    """``name`` inside the folder ``location`` (a path, or a URL when it is one)."""
    if is_url(location):
        return f"{str(location).rstrip('/')}/{name}"
    return Path(location) / name


def url_filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path inside it; an EarlywarnError naming the
    package (and earlywarn's extra) to install when the scheme's package is missing."""
    import fsspec

    scheme = url.split("://", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as err:
        extra = EXTRAS.get(scheme)
        how = f"install it with pip install 'earlywarn[{extra}]'" if extra else "install it"
        raise EarlywarnError(
            f"reading {url} needs the filesystem package for {scheme}:// ({err}); {how}"
        ) from err
    except ValueError as err:
        raise EarlywarnError(f"cannot read {url}: {err} (not an fsspec URL scheme)") from err
    return fs, str(path).rstrip("/") or "/"


def _arrow_filesystem(fs: Any) -> pafs.FileSystem:
    """``fs`` as pyarrow sees a filesystem (its own local one for local files)."""
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def _entries(fs: Any, path: str) -> list[tuple[str, bool]]:
    """(name, is a folder) of what a folder on ``fs`` holds, sorted by name."""
    found = fs.ls(path, detail=True)
    return sorted((PurePosixPath(e["name"]).name, e["type"] == "directory") for e in found)


def folder_entries(location: Location) -> list[tuple[str, bool]] | None:
    """(name, is a folder) of what the folder ``location`` holds, sorted; None when it is not
    a folder."""
    if not is_url(location):
        folder = Path(location)
        if not folder.is_dir():
            return None
        return sorted((p.name, p.is_dir()) for p in folder.iterdir() if p.is_file() or p.is_dir())
    fs, path = url_filesystem(str(location))
    return _entries(fs, path) if fs.isdir(path) else None


def is_dataset(path: Location) -> bool:
    """Whether ``path`` is a folder holding a partitioned Parquet dataset."""
    if not is_url(path):
        return Path(path).is_dir() and any(Path(path).glob("*=*"))
    entries = folder_entries(path)
    return entries is not None and any("=" in name for name, _ in entries)


def dataset_files(path: Path) -> list[Path]:
    """The Parquet files of a dataset folder, in sorted path order (the rows' order)."""
    return sorted(p for p in path.rglob("*.parquet") if p.is_file())


def _url_dataset_files(fs: Any, path: str) -> list[str]:
    """:func:`dataset_files` of a folder on an fsspec filesystem (paths on ``fs``)."""
    return sorted(p for p in fs.find(path) if p.endswith(".parquet"))


def partition_key(path: Location) -> str:
    """The partition column of a dataset folder (``county`` for ``county=C01/``)."""
    keys = {name.split("=", 1)[0] for name, _ in folder_entries(path) or [] if "=" in name}
    if len(keys) != 1:
        raise SchemaError(f"{path} is not partitioned by one column (found {sorted(keys)})")
    return keys.pop()


def partition_names(path: Location) -> list[str]:
    """The partitions of a dataset folder (``county=C01``, ...), sorted."""
    return sorted(name for name, folder in folder_entries(path) or [] if folder and "=" in name)


def partition_value(name: str) -> str:
    """The value of a partition folder's name (``county=C%2001`` -> ``C 01``)."""
    return unquote(name.split("=", 1)[1])


def read_dataset(
    path: Location,
    *,
    partitions: Sequence[str] | None = None,
    households: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A dataset folder's rows (or some ``partitions``' only; or some ``households``' only,
    by a Parquet filter) as one frame, the partition column back as text, rows in file
    order (partitions in sorted order)."""
    key = partition_key(path)
    folder: Location = path
    fs: Any = None
    filesystem, base = None, str(path)
    if is_url(path):
        fs, base = url_filesystem(str(path))
        filesystem = _arrow_filesystem(fs)
    files: list[str] = []
    for name in [None] if partitions is None else sorted(partitions):
        folder = path if name is None else child(path, name)
        if filesystem is None:
            found = [str(f) for f in dataset_files(Path(folder))] if Path(folder).is_dir() else []
        else:
            inside = base if name is None else f"{base}/{name}"
            found = _url_dataset_files(fs, inside) if fs.isdir(inside) else []
        if not found and name is not None:
            raise SchemaError(f"{folder} holds no Parquet file")
        files.extend(found)
    partitioning = ds.partitioning(pa.schema([(key, pa.string())]), flavor="hive")
    try:
        dataset = ds.dataset(
            files,
            format="parquet",
            partitioning=partitioning,
            partition_base_dir=base,
            filesystem=filesystem,
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


def dataset_fingerprints(data_dir: Location) -> dict[str, str]:
    """SHA-256 of each dataset folder of ``data_dir``: its files' relative paths and hashes
    (``{}`` when it has none); what a rerun compares before reusing finished work."""
    if is_url(data_dir):
        return _url_fingerprints(str(data_dir))
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return {}
    out: dict[str, str] = {}
    for folder in sorted(p for p in data_dir.iterdir() if is_dataset(p)):
        out[f"{folder.name}/"] = folder_digest(folder, dataset_files(folder))
    return out


def url_file_fingerprints(url: str, suffixes: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each table file (one of ``suffixes``) directly in the folder at the fsspec
    ``url``, by file name: what :func:`~earlywarn.jobs.audit.table_fingerprints` keeps for a
    local folder."""
    wanted = {suffix.lower() for suffix in suffixes}
    fs, base = url_filesystem(url)
    out: dict[str, str] = {}
    for name, is_folder in folder_entries(url) or []:
        if not is_folder and PurePosixPath(name).suffix.lower() in wanted:
            out[name] = _url_sha256(fs, f"{base}/{name}")
    return out


def _url_fingerprints(url: str) -> dict[str, str]:
    """:func:`dataset_fingerprints` of a data directory at an fsspec URL (the same digests
    as for the same files on a local disk)."""
    out: dict[str, str] = {}
    fs, base = url_filesystem(url)
    for name, is_folder in folder_entries(url) or []:
        if not (is_folder and is_dataset(child(url, name))):
            continue
        folder = f"{base}/{name}"
        out[f"{name}/"] = listing_digest(
            (PurePosixPath(file).relative_to(folder).as_posix(), _url_sha256(fs, file))
            for file in _url_dataset_files(fs, folder)
        )
    return out


def _url_sha256(fs: Any, path: str) -> str:
    """:func:`~earlywarn.data.storage.sha256_file` of a file on an fsspec filesystem."""
    with fs.open(path, "rb") as handle:
        return sha256_stream(handle)


def county_partitions(data_dir: Location, stem: str = HOUSEHOLDS) -> list[str] | None:
    """The county partitions of the households dataset (``county=...``, sorted), or None
    when households is not a dataset partitioned by county."""
    folder = child(data_dir, stem)
    if not is_dataset(folder) or partition_key(folder) != COUNTY:
        return None
    return partition_names(folder)


def partition_sizes(folder: Location, partitions: Sequence[str]) -> list[int]:
    """Rows in each partition of a dataset folder, from the Parquet footers only."""
    if not is_url(folder):
        return [
            sum(
                pq.ParquetFile(file).metadata.num_rows
                for file in dataset_files(Path(folder) / name)
            )
            for name in partitions
        ]
    fs, base = url_filesystem(str(folder))
    arrow = _arrow_filesystem(fs)
    return [
        sum(
            pq.read_metadata(file, filesystem=arrow).num_rows
            for file in _url_dataset_files(fs, f"{base}/{name}")
        )
        for name in partitions
    ]
