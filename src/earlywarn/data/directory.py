"""A data directory on disk: one file per table, Parquet or CSV, or a partitioned Parquet
dataset folder (:mod:`~earlywarn.data.partitioned`), read as it is or written whole.

Reading finds each table's file or folder (named by the mapping's stem), reads it in whatever
encoding, separator and number conventions the column mapping declares, and renames headers and
codes to the contract's; values stay as read (text, or numbers where pandas reads them) for
:mod:`earlywarn.data.schema` to parse and check. The directory may be an fsspec URL (e.g.
``s3://bucket/prefix``, :func:`~earlywarn.data.partitioned.is_url`). Writing replaces the
directory in one rename.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

import pandas as pd
import pyarrow as pyarrow_lib

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, HOUSEHOLDS, REQUIRED_TABLES
from earlywarn.data.contract import CONTRACT, TABLES, Kind
from earlywarn.data.mapping import DEFAULT_MAPPING, ColumnMapping
from earlywarn.data.partitioned import (
    Location,
    as_location,
    child,
    county_of_rows,
    folder_entries,
    is_dataset,
    is_url,
    partition_key,
    read_dataset,
    url_filesystem,
    write_dataset,
)
from earlywarn.data.personal import contract_frames
from earlywarn.data.problems import Problem
from earlywarn.data.storage import atomic_path
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError, SchemaError

#: The file suffixes a table may have (lower case).
SUFFIXES = (".parquet", ".csv")


def read_raw(
    data_dir: Location,
    mapping: ColumnMapping = DEFAULT_MAPPING,
    *,
    partitions: Sequence[str] | None = None,
    households: Sequence[str] | None = None,
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """Every table file of ``data_dir`` (a folder, or an fsspec URL such as
    ``s3://bucket/prefix``), renamed and recoded by ``mapping``, values as read.

    Returns the frames found and the problems met reading them (a missing required table, an
    unreadable file). Nothing is validated yet. ``partitions`` (``county=C01``, ...): of
    each dataset folder only these partitions' rows (tables in one file are read whole);
    ``households``: of a dataset only these households' rows.
    """
    data_dir = as_location(data_dir)
    entries = folder_entries(data_dir)
    if entries is None:
        raise SchemaError(f"data directory {data_dir} does not exist or is not a directory")
    file_names = [name for name, is_folder in entries if not is_folder]
    raw: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for table in TABLES:
        stem = mapping.file_stem(table)
        names = [
            name
            for name in file_names
            if PurePosixPath(name).stem == stem and PurePosixPath(name).suffix.lower() in SUFFIXES
        ]
        if is_dataset(child(data_dir, stem)):
            if names:
                problems.append(
                    Problem(table, f"a file and a folder for one table ({names[0]}, {stem}/)")
                )
                continue
            try:
                frame = read_dataset(
                    child(data_dir, stem), partitions=partitions, households=households
                )
            except SchemaError as err:
                problems.append(Problem(table, str(err)))
                continue
            raw[table] = mapping.rename(table, _contract_key(frame, child(data_dir, stem), table))
            continue
        if not names:
            others = [name for name in file_names if PurePosixPath(name).stem == stem]
            hint = f"found {', '.join(others)}: save it as CSV or Parquet" if others else ""
            if table in REQUIRED_TABLES or others:
                kind = "required table is missing" if table in REQUIRED_TABLES else "not read"
                problems.append(
                    Problem(
                        table, f"{kind}: no {stem}.parquet or {stem}.csv in {data_dir}", hint=hint
                    )
                )
            continue
        if len(names) > 1:
            problems.append(
                Problem(table, f"two files for one table ({' and '.join(names)}); keep one")
            )
            continue
        try:
            frame = _read_file(child(data_dir, names[0]), table, mapping)
        except SchemaError as err:
            problems.append(Problem(table, str(err)))
            continue
        raw[table] = mapping.rename(table, frame)
    return raw, problems


def _contract_key(frame: pd.DataFrame, folder: Location, table: str) -> pd.DataFrame:
    """A dataset's frame without its partition column when the table has no such column."""
    key = partition_key(folder)
    return frame if key in CONTRACT[table] else frame.drop(columns=[key], errors="ignore")


def _read_file(path: Location, table: str, mapping: ColumnMapping) -> pd.DataFrame:
    """One table file as read (text, or numbers where pandas reads them); raises SchemaError.
    ``path`` may be an fsspec URL: pandas reads it through fsspec."""
    if is_url(path):
        fs, inside = url_filesystem(str(path))
        size = fs.size(inside)
    else:
        size = Path(path).stat().st_size
    if size == 0:
        raise SchemaError(f"{path} is empty (not even a header row)")
    if PurePosixPath(str(path)).suffix.lower() == ".parquet":
        return _read_parquet(path)
    return _read_csv(path, table, mapping)


def _read_parquet(path: Location) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, TypeError, pyarrow_lib.ArrowException) as err:
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise SchemaError(
            f"{path} cannot be read as Parquet (truncated or not a Parquet file: {reason})"
        ) from err
    return frame.rename(columns=str).reset_index(drop=True)


def _read_csv(path: Location, table: str, mapping: ColumnMapping) -> pd.DataFrame:
    """A CSV file in the mapping's encoding and conventions; headers stripped of spaces and BOM."""
    options: dict[str, str | None] = {
        "sep": mapping.separator,
        "encoding": mapping.python_encoding,
        "engine": "python" if len(mapping.separator) > 1 else "c",
        "thousands": mapping.thousands,
        "decimal": mapping.decimal,
    }
    try:
        frame = pd.read_csv(path, dtype=_csv_dtypes(path, table, mapping, options), **options)
    except UnicodeDecodeError as err:
        hint = (
            "; if it is GBK (e.g. exported from Excel in China), declare `encoding: gbk` "
            "in the column mapping (--mapping)"
            if mapping.python_encoding == "utf-8-sig"
            else ""
        )
        raise SchemaError(
            f"{path} is not {mapping.encoding} text (byte {err.object[err.start : err.start + 1]!r}"
            f" at position {err.start}){hint}"
        ) from err
    except pd.errors.EmptyDataError as err:
        raise SchemaError(f"{path} is empty (not even a header row)") from err
    except (pd.errors.ParserError, ValueError, OSError) as err:
        reason = str(err).strip().splitlines()[-1][:200] if str(err) else type(err).__name__
        raise SchemaError(f"{path} cannot be read as CSV: {reason}") from err
    headers = [str(column).replace("\ufeff", "").strip() for column in frame.columns]
    return frame.set_axis(headers, axis="columns")


def _csv_dtypes(
    path: Location, table: str, mapping: ColumnMapping, options: dict[str, str | None]
) -> dict[str, str]:
    """Read as text every CSV column that is not a number, flag or date (keeps ids' zeros)."""
    headers = pd.read_csv(path, nrows=0, **options).columns
    table_mapping = mapping.table_mapping(table)
    renames = table_mapping.columns if table_mapping else {}
    specs = CONTRACT[table]
    return {
        str(header): "str"
        for header in headers
        if (name := renames.get(str(header).strip(), str(header).strip())) not in specs
        or specs[name].kind is Kind.TEXT
    }


def write_tables(
    tables: Tables,
    out_dir: Path | str,
    *,
    fmt: Literal["parquet", "csv"] = "parquet",
    extra: Mapping[str, pd.DataFrame] | None = None,
    partition_by: Literal["county"] | None = None,
) -> Path:
    """Write ``tables`` as a contract-shaped data directory, atomically; return its path.

    ``partition_by="county"`` (Parquet only): every table keyed by household becomes a
    dataset folder partitioned by its household's county (``households/county=C01/...``);
    lines and places stay single files. ``extra`` frames (e.g. ``{"truth": truth}``) are
    written beside the tables as ``<name>.parquet`` in the same atomic step. The directory is
    replaced in one rename; an existing directory holding anything but files earlywarn writes
    there is refused, so no unrelated file is lost.
    """
    out_dir = Path(out_dir)
    ours = {*TABLES, *(extra or {})}
    if out_dir.exists():
        strangers = [
            p.name
            for p in out_dir.iterdir()
            if not (((p.is_file() and p.suffix in SUFFIXES) or p.is_dir()) and p.stem in ours)
        ]
        if strangers or not out_dir.is_dir():
            raise EarlywarnError(
                f"{out_dir} exists and holds other files ({', '.join(strangers[:3])}); "
                "choose an empty or new directory"
            )
    with atomic_path(out_dir) as staged:
        staged.mkdir()
        for table, frame in contract_frames(tables).items():
            path = staged / f"{table}.{fmt}"
            if partition_by and len(frame) and HOUSEHOLD_ID in frame.columns:
                values = None if table == HOUSEHOLDS else county_of_rows(frame, tables.households)
                write_dataset(frame, staged / table, key=COUNTY, values=values)
            elif fmt == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        for name, frame in (extra or {}).items():
            frame.to_parquet(staged / f"{name}.parquet", index=False)
    return out_dir
