"""The client of a partitioned run keeps reasons in Arrow: parsed from the work directory's
JSON by Arrow and written into the scores file byte for byte as the lists would be; and the
scores dataset's parts and target folder."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, REASONS
from earlywarn.errors import OutputError
from earlywarn.scoring.dataset_parts import write_scores_dataset_parts
from earlywarn.scoring.history import compare_with_previous
from earlywarn.scoring.scores_file import (
    check_dataset_target,
    publish_dataset,
    read_scores,
    write_scores_parquet,
)
from earlywarn.scoring.work_dir import WorkDir, run_key

REASON = {
    "code": "income_low",
    "text": 'Net income fell to 2,900 "yuan" \\ 病人',
    "contribution": 0.1,
}
RULE = {"code": "rule:serious_shock", "text": "住院", "contribution": None}
TINY = {"code": "x", "text": "", "contribution": 0.1 + 0.2}
METADATA = {"earlywarn.as_of": "2024-03-01", "earlywarn.model_version": "7"}


def scores_frame(reasons: list[list[dict]]) -> pd.DataFrame:
    n = len(reasons)
    return compare_with_previous(
        pd.DataFrame(
            {
                HOUSEHOLD_ID: [f"H{i}" for i in range(n)],
                "as_of": pd.Series(pd.Timestamp("2024-03-01"), index=range(n)).astype(
                    "datetime64[ms]"
                ),
                "target_year": [2024] * n,
                COUNTY: ["530121", "530121", "C 02", "C 02"][:n],
                "village": ["v1", "v1", "v2", "v3"][:n],
                "risk": [0.7, 0.1, 0.5, 0.2][:n],
                "rank_in_village": [1, 2, 1, 1][:n],
                "flagged": [True, False, True, True][:n],
                REASONS: reasons,
                "model_version": ["7"] * n,
            }
        ),
        None,
    )


def test_reasons_parsed_by_arrow_write_the_same_bytes_as_the_lists(tmp_path):
    lists = [[REASON, RULE], [], [TINY], []]
    work = WorkDir.open(tmp_path / "s.parquet", run_key({}))
    work.write_reasons(0, pd.Series([lists[2]], index=["H2"]))
    work.write_reasons(3, pd.Series([lists[0]], index=["H0"]))
    table = work.read_reasons_table(4)
    assert table[HOUSEHOLD_ID].to_pylist() == ["H2", "H0"]
    assert table[REASONS].to_pylist() == [[TINY], [REASON, RULE]]
    scores = scores_frame(lists)
    write_scores_parquet(scores, tmp_path / "lists.parquet", metadata=METADATA)
    write_scores_parquet(
        scores.drop(columns=[REASONS]), tmp_path / "arrow.parquet", metadata=METADATA, reasons=table
    )
    assert (tmp_path / "arrow.parquet").read_bytes() == (tmp_path / "lists.parquet").read_bytes()


def test_no_reasons_kept_gives_empty_lists(tmp_path):
    work = WorkDir.open(tmp_path / "s.parquet", run_key({}))
    scores = scores_frame([[], [], [], []])
    write_scores_parquet(scores, tmp_path / "lists.parquet", metadata=METADATA)
    write_scores_parquet(
        scores.drop(columns=[REASONS]),
        tmp_path / "arrow.parquet",
        metadata=METADATA,
        reasons=work.read_reasons_table(2),
    )
    assert (tmp_path / "arrow.parquet").read_bytes() == (tmp_path / "lists.parquet").read_bytes()


def test_each_county_is_a_scores_file_of_its_own(tmp_path):
    scores = scores_frame([[REASON], [], [RULE], []])
    written = write_scores_dataset_parts(scores, tmp_path / "ds", metadata=METADATA)
    assert written == ["county=530121", "county=C%2002"]
    part = read_scores(tmp_path / "ds" / "county=C%2002" / "part-0.parquet")
    assert part[HOUSEHOLD_ID].tolist() == ["H2", "H3"]
    whole = tmp_path / "s.parquet"
    write_scores_parquet(scores, whole, metadata=METADATA)
    assert pq.read_schema(whole).equals(
        pq.read_schema(tmp_path / "ds" / "county=530121" / "part-0.parquet"), check_metadata=True
    )


def test_publishing_replaces_an_older_dataset_whole(tmp_path):
    target = tmp_path / "scores"
    (target / "county=old").mkdir(parents=True)
    staged = tmp_path / "staged"
    write_scores_dataset_parts(scores_frame([[], [], [], []]), staged, metadata=METADATA)
    check_dataset_target(target)
    publish_dataset(staged, target)
    assert sorted(p.name for p in target.iterdir()) == ["county=530121", "county=C%2002"]
    publish_dataset(tmp_path / "nothing", tmp_path / "empty")  # nobody scored: an empty folder
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_folder_of_other_files_or_a_file_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"notes\.txt"):
        check_dataset_target(tmp_path / "mine")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="a file"):
        check_dataset_target(tmp_path / "file")
    check_dataset_target(tmp_path / "new" / "scores")  # not there yet: fine


def test_reasons_of_some_households_from_some_chunks(tmp_path):
    work = WorkDir.open(tmp_path / "s.parquet", run_key({}))
    work.write_reasons(1, pd.Series([[REASON], [RULE]], index=["H1", "H2"]))
    found = work.read_reasons_of([1, 5], ["H2", "H9"])
    assert found.to_dict() == {"H2": [RULE]}
    assert json.loads(json.dumps(found["H2"])) == [RULE]
