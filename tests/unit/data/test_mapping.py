"""Column mappings: Chinese headers and codes, encodings, separators, file names."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from earlywarn.data.mapping import ColumnMapping, load_mapping
from earlywarn.data.schema import read_tables
from earlywarn.errors import ConfigError, SchemaError

TODAY = date(2026, 6, 1)
VALID_DIR = Path(__file__).parents[2] / "data" / "contract_min"
ZH_MAPPING = Path(__file__).parents[3] / "configs" / "column_mapping.zh.yaml"
EXAMPLE_MAPPING = Path(__file__).parents[3] / "configs" / "column_mapping.example.yaml"
ZH_CODES = {
    "event_type": {"illness": "疾病", "disaster": "自然灾害", "job_loss": "失业"},
    "measure": {"medical": "医疗救助", "minimum_living_allowance": "低保"},
    "head_sex": {"M": "男", "F": "女"},
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(VALID_DIR, tmp_path / "data"))


def to_chinese_export(data_dir: Path, *, encoding: str = "utf-8") -> Path:
    """Rewrite the valid directory with the Chinese headers and codes of the zh mapping."""
    mapping = load_mapping(ZH_MAPPING)
    out = data_dir.parent / "zh"
    out.mkdir()
    for path in data_dir.glob("*.csv"):
        table = path.stem
        frame = pd.read_csv(path, dtype="str")
        for column, codes in ZH_CODES.items():
            if column in frame.columns:
                frame[column] = frame[column].replace(codes)
        headers = {v: k for k, v in mapping.tables[table].columns.items()}  # type: ignore[index]
        frame.rename(columns=headers).to_csv(out / path.name, index=False, encoding=encoding)
    return out


def test_the_shipped_mappings_load():
    assert load_mapping(ZH_MAPPING).tables["household_years"].columns["户编号"] == "household_id"
    assert load_mapping(EXAMPLE_MAPPING).file_stem("households") == "registry"


def test_chinese_headers_and_codes_read_with_the_zh_mapping(data_dir):
    expected = read_tables(data_dir, today=TODAY)
    export = to_chinese_export(data_dir)
    assert "户编号" in (export / "households.csv").read_text(encoding="utf-8")
    tables = read_tables(export, mapping=ZH_MAPPING, today=TODAY)
    for name in ("households", "household_years", "events", "assistance", "lines"):
        pd.testing.assert_frame_equal(getattr(tables, name), getattr(expected, name))
    pd.testing.assert_frame_equal(tables.personal, expected.personal)


def test_chinese_headers_without_a_mapping_point_to_the_mapping(data_dir):
    export = to_chinese_export(data_dir)
    with pytest.raises(SchemaError, match=r"column_mapping\.zh\.yaml") as caught:
        read_tables(export, today=TODAY)
    assert "households: missing column(s) household_id, county" in str(caught.value)


def test_gbk_reads_when_the_mapping_declares_it(data_dir, tmp_path):
    export = to_chinese_export(data_dir, encoding="gbk")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_text(
        ZH_MAPPING.read_text(encoding="utf-8").replace("encoding: utf-8", "encoding: gbk"),
        encoding="utf-8",
    )
    tables = read_tables(export, mapping=gbk, today=TODAY)
    assert tables.events["event_type"].tolist() == ["illness", "disaster", "job_loss"]
    assert tables.households["head_sex"].tolist() == ["M", "F", "M"]


def test_an_unmapped_chinese_code_is_named_with_a_hint(data_dir):
    export = to_chinese_export(data_dir)
    path = export / "events.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("失业", "务农受阻"), encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        read_tables(export, mapping=ZH_MAPPING, today=TODAY)
    assert "events.event_type, row 3: '务农受阻' is not an allowed type" in str(caught.value)
    assert "codes.event_type" in str(caught.value)


def test_semicolons_and_thousands_separators_with_a_mapping(data_dir):
    path = data_dir / "household_years.csv"
    frame = pd.read_csv(path, dtype="str")
    frame["wage_income"] = ["30.000", "32.000", "18.000", "5.000", "5.200"]
    frame["transfer_income"] = "1.234,5"
    frame.to_csv(path, sep=";", index=False)
    for name in ("households", "events", "assistance", "lines"):
        other = data_dir / f"{name}.csv"
        pd.read_csv(other, dtype="str").to_csv(other, sep=";", index=False)
    mapping = ColumnMapping(separator=";", thousands=".", decimal=",")
    tables = read_tables(data_dir, mapping=mapping, today=TODAY)
    assert tables.household_years["wage_income"].tolist()[:2] == [30000.0, 32000.0]
    assert tables.household_years["transfer_income"].iloc[0] == 1234.5


def test_semicolons_without_a_mapping_say_so(data_dir):
    path = data_dir / "events.csv"
    pd.read_csv(path, dtype="str").to_csv(path, sep=";", index=False)
    with pytest.raises(SchemaError, match="separator: ';'"):
        read_tables(data_dir, today=TODAY)


def test_a_mapping_can_name_the_file_of_a_table(data_dir):
    (data_dir / "households.csv").rename(data_dir / "registry.csv")
    mapping = ColumnMapping.model_validate({"tables": {"households": {"file": "registry"}}})
    assert len(read_tables(data_dir, mapping=mapping, today=TODAY).households) == 3


def test_dates_in_chinese_and_slashed_forms_are_read(data_dir):
    path = data_dir / "events.csv"
    frame = pd.read_csv(path, dtype="str")
    frame["date"] = ["2023年3月14日", "2023/07/02", "2024-01-20"]
    frame.to_csv(path, index=False)
    dates = read_tables(data_dir, today=TODAY).events["date"]
    assert dates.dt.strftime("%Y-%m-%d").tolist() == ["2023-03-14", "2023-07-02", "2024-01-20"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"tables": {"events": {"columns": {"类型": "evnt_type"}}}}, "not columns of events"),
        ({"codes": {"event_type": {"洪水": "flood"}}}, "codes.event_type maps to 'flood'"),
        ({"tables": {"people": {}}}, "tables.people"),
        ({"seperator": ";"}, "seperator"),
    ],
)
def test_a_bad_mapping_is_a_config_error(tmp_path, settings, expected):
    import yaml

    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_mapping(path)


def test_a_missing_mapping_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_mapping(tmp_path / "nope.yaml")
