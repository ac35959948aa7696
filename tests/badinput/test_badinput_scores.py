"""Bad scores files against `earlywarn report` and `earlywarn explain`: exit 2, a message
naming what is wrong and where (column, rows, rule), no traceback, nothing written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import VALID_DIR
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.model.model_file import save_model

REQUIRED = ("household_id", "as_of", "risk", "flagged", "reasons", "model_version")


@dataclass(frozen=True)
class BadScores:
    name: str
    expected: str  # text the error message must contain
    breaks: Callable[[Path], None]  # changes a copy of the scores file (and sidecar) in place


def rewrite(
    frame_change: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    **metadata: str | None,
) -> Callable[[Path], None]:
    """Rewrite the scores file with its rows and/or its recorded metadata changed
    (``as_of="..."`` sets ``earlywarn.as_of``; ``None`` removes the key)."""

    def breaks(path: Path) -> None:
        table = pq.read_table(path)
        kv = dict(table.schema.metadata or {})
        for key, value in metadata.items():
            kv.pop(f"earlywarn.{key}".encode(), None)
            if value is not None:
                kv[f"earlywarn.{key}".encode()] = value.encode()
        frame = table.to_pandas()
        if frame_change is not None:
            frame = frame_change(frame)
        changed = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(changed.replace_schema_metadata(kv), path)

    return breaks


def assign(**values: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.assign(**values)


def not_parquet(path: Path) -> None:
    path.write_text("household_id,risk\nH003,0.5\n", encoding="utf-8")


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def missing(path: Path) -> None:
    path.unlink()


BAD_SCORES: tuple[BadScores, ...] = (
    BadScores("missing file", "scores.parquet does not exist", missing),
    BadScores("a folder", "scores.parquet is a folder, not a Parquet file", a_folder),
    BadScores("CSV named .parquet", "scores.parquet is not readable Parquet", not_parquet),
    BadScores("truncated parquet", "scores.parquet is not readable Parquet", truncated),
    *(
        BadScores(
            f"no {column}",
            f"scores: missing column(s) {column}; a scores file needs household_id",
            rewrite(lambda frame, column=column: frame.drop(columns=[column])),
        )
        for column in REQUIRED
    ),
    BadScores(
        "risk above 1",
        "scores.risk, row 1: must be a probability from 0 to 1, found 7.5",
        rewrite(assign(risk=7.5)),
    ),
    BadScores(
        "risk not a number",
        "scores.risk, row 1: must be a probability from 0 to 1, found 'high'",
        rewrite(assign(risk="high")),
    ),
    BadScores(
        "flag not a flag",
        "scores.flagged, row 1: must be true or false, found 'yes'",
        rewrite(assign(flagged="yes")),
    ),
    BadScores(
        "as_of not a date",
        "scores.as_of, row 1: must be a date, found 'soon'",
        rewrite(assign(as_of="soon")),
    ),
    BadScores(
        "reasons not a list",
        "scores.reasons, row 1: must be a list of reasons",
        rewrite(assign(reasons="illness")),
    ),
    BadScores(
        "empty household_id",
        "scores.household_id, row 1: must not be empty",
        rewrite(assign(household_id="")),
    ),
    BadScores(
        "household twice",
        "scores: (household_id, as_of) duplicated at rows 1-2",
        rewrite(lambda frame: pd.concat([frame, frame], ignore_index=True)),
    ),
    BadScores(
        "rows of another as_of than recorded",
        "scores.as_of, row 1: must be 2023-03-01, the date the file records, found 2024-03-01",
        rewrite(as_of="2023-03-01"),
    ),
    BadScores(
        "rows of another model than recorded",
        "scores.model_version, row 1: must be 'badinput-1', the model the file records, "
        "found 'badinput-0'",
        rewrite(assign(model_version="badinput-0")),
    ),
    BadScores(
        "recorded as_of not a date",
        "scores: the file records as_of 'soon', which is not a date",
        rewrite(as_of="soon"),
    ),
)


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def copy_scores(scores_file: Path, folder: Path) -> Path:
    """The scores file and its sidecar (data directory, model) copied into ``folder``."""
    folder.mkdir()
    for name in (scores_file.name, scores_file.name + ".meta.json"):
        shutil.copy(scores_file.parent / name, folder / name)
    return folder / scores_file.name


def explain(scores: Path, data_dir: Path, *options: str):
    return CliRunner().invoke(
        app, ["explain", "H003", "--scores", str(scores), "--data", str(data_dir), *options]
    )


def refused_cleanly(result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert expected in result.output, result.output


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return Path(shutil.copytree(VALID_DIR, tmp_path / "data"))


@pytest.mark.parametrize("case", BAD_SCORES, ids=[case.name for case in BAD_SCORES])
def test_report_refuses_a_bad_scores_file_clearly(case, scores_file, data_dir, tmp_path):
    scores = copy_scores(scores_file, tmp_path / "scored")
    case.breaks(scores)
    before = listing(tmp_path)
    result = CliRunner().invoke(
        app,
        ["report", "--scores", str(scores), "--data", str(data_dir), "--out", str(tmp_path / "r")],
    )
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", BAD_SCORES, ids=[case.name for case in BAD_SCORES])
def test_explain_refuses_a_bad_scores_file_clearly(case, scores_file, data_dir, tmp_path):
    scores = copy_scores(scores_file, tmp_path / "scored")
    case.breaks(scores)
    before = listing(tmp_path)
    result = explain(scores, data_dir)
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before


def test_the_unbroken_copy_is_accepted(scores_file, data_dir, tmp_path):
    """The refusals above are for what each case breaks, not for copying the file."""
    scores = copy_scores(scores_file, tmp_path / "scored")
    rewrite()(scores)  # read and written again, nothing changed
    explained = explain(scores, data_dir)
    assert explained.exit_code == 0, explained.output
    reported = CliRunner().invoke(
        app,
        ["report", "--scores", str(scores), "--data", str(data_dir), "--out", str(tmp_path / "r")],
    )
    assert reported.exit_code == 0, reported.output


# --- explain: what the scores file records must match what it is given ---------------------


def test_explain_refuses_a_household_not_in_the_scores(scores_file, data_dir, tmp_path):
    before = listing(tmp_path)
    result = CliRunner().invoke(
        app, ["explain", "H001", "--scores", str(scores_file), "--data", str(data_dir)]
    )
    refused_cleanly(result, "household H001 is not in the scores file")
    assert listing(tmp_path) == before


def test_explain_refuses_a_model_of_another_version(tiny_model, scores_file, data_dir, tmp_path):
    other = save_model(replace(tiny_model, version="badinput-2"), tmp_path / "other-model")
    before = listing(tmp_path)
    result = explain(scores_file, data_dir, "--model", str(other))
    refused_cleanly(
        result,
        "is version badinput-2, scores.parquet was made with version badinput-1; "
        "refusing to re-derive",
    )
    assert listing(tmp_path) == before


def test_explain_refuses_another_config(scores_file, data_dir, tmp_path):
    config = tmp_path / "score.yaml"
    config.write_text("score:\n  n_reasons: 2\n", encoding="utf-8")
    before = listing(tmp_path)
    result = explain(scores_file, data_dir, "--config", str(config))
    refused_cleanly(result, "pass the --config used for scoring")
    assert listing(tmp_path) == before


def garbled_sidecar(path: Path) -> None:
    path.with_name(path.name + ".meta.json").write_text("{oops", encoding="utf-8")


def sidecar_of_a_gone_model(path: Path) -> None:
    sidecar = {"model_uri": str(path.parent / "gone"), "data_dir": "x"}
    path.with_name(path.name + ".meta.json").write_text(json.dumps(sidecar), encoding="utf-8")


RECORDS_UNREADABLE = (
    BadScores(
        "fingerprints garbled",
        "its recorded input fingerprints are not readable",
        rewrite(input_fingerprints="{not json"),
    ),
    BadScores("no fingerprints", "records no input fingerprints", rewrite(input_fingerprints=None)),
    BadScores("no as_of recorded", "records no as_of date", rewrite(as_of=None)),
    BadScores(
        "sidecar not JSON",
        "scores.parquet.meta.json is not readable (not a JSON object)",
        garbled_sidecar,
    ),
    BadScores(
        "sidecar's model gone",
        "is neither a folder nor a models:/ or runs:/ URI",
        sidecar_of_a_gone_model,
    ),
)


@pytest.mark.parametrize("case", RECORDS_UNREADABLE, ids=[case.name for case in RECORDS_UNREADABLE])
def test_explain_refuses_what_the_file_records_when_unreadable(
    case, scores_file, data_dir, tmp_path
):
    scores = copy_scores(scores_file, tmp_path / "scored")
    case.breaks(scores)
    before = listing(tmp_path)
    result = explain(scores, data_dir)
    refused_cleanly(result, case.expected)
    assert listing(tmp_path) == before
