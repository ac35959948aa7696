"""Caseworker reports: safe with odd names, robust to missing data, in both languages."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from html import unescape as html_text

import numpy as np
import pandas as pd
import pytest

from earlywarn.config import RuleConfig
from earlywarn.data.directory import write_tables
from earlywarn.errors import SchemaError
from earlywarn.explain.contributions import explain_with_glossary
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.household_sheet import mask_id
from earlywarn.explain.pages import href, slug
from earlywarn.explain.report import build_reports
from explain_world import AS_OF, make_features, make_model, make_tables

NOT_REASONS = ("rule:", "sum:")  # the rule's triggers and the sums closing a reasons list
EDGE_CASES = ["H0000", "H0001", "H0002", "H0003", "H0004"]  # no events; null income;
# one round; a name with markup; a missing round


@pytest.fixture(scope="module")
def world_and_model():
    tables = make_tables(n_households=120, seed=3)
    features = make_features(tables)
    model = make_model(features, seed=3)
    return tables, features, model


@pytest.fixture(scope="module")
def world(world_and_model):
    tables, features, model = world_and_model
    risk = model.predict_risk(features)
    scores = pd.DataFrame(
        {
            "household_id": features.index.astype(str),
            "as_of": AS_OF,
            "risk": risk,
            "model_version": model.version,
        }
    )
    scores["flagged"] = (risk >= np.quantile(risk, 0.9)) | scores["household_id"].isin(EDGE_CASES)
    flagged = scores["flagged"].to_numpy()
    reasons = explain_with_glossary(model, features[flagged], tables=tables, as_of=AS_OF, lang="en")
    scores["reasons"] = [[] for _ in range(len(scores))]
    scores.loc[flagged, "reasons"] = pd.Series(list(reasons), index=scores.index[flagged])
    return tables, scores


def _household_pages(reports) -> dict[str, str]:
    return {
        path: html
        for path, html in reports.pages.items()
        if re.search(r"/H\d{4}-[0-9a-f]{6}\.html$", path)
    }


def test_mask_id_keeps_first_and_last_four():
    assert mask_id("530302199001011234") == "5303**********1234"
    assert mask_id("1234567") == "*******"
    assert mask_id(None) == "" and mask_id(float("nan")) == ""


def test_links_between_pages_are_relative_and_encoded():
    assert href("a/b/c.html", "a/b/index.html") == "c.html"
    assert href("index.html", "a/summary.html") == "../index.html"
    assert href(f"{slug('上沟村')}/x.html", "index.html").startswith("%E4%B8%8A")
    assert "<" not in slug("<script>") and slug("a") != slug("a ")


def test_markup_in_names_and_villages_renders_as_text(world):
    tables, scores = world
    reports = build_reports(scores, tables, glossary=load_glossary(), lang="en")
    everything = "\n".join(reports.pages.values())
    assert "<script>alert" not in everything
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in everything
    assert "Xia &amp; He" in everything and "Xia & He" not in everything
    sheet = next(html for path, html in _household_pages(reports).items() if "H0003" in path)
    assert "&lt;b&gt;Li &amp; Sons&lt;/b&gt;" in sheet and "<b>Li" not in sheet


def test_households_with_missing_rounds_null_incomes_or_no_events_still_render(world):
    tables, scores = world
    reports = build_reports(scores, tables, glossary=load_glossary(), lang="en")
    pages = _household_pages(reports)
    for household_id in EDGE_CASES:
        sheet = next(html for path, html in pages.items() if f"/{household_id}-" in path)
        assert household_id in sheet and "<svg" in sheet
        assert "Model version: test-1" in sheet and "2024-03-01" in sheet
    # a household unknown to the tables still gets a sheet (without figures)
    stranger = scores.iloc[:1].assign(household_id="H9999", flagged=True)
    tables_without = tables
    more = build_reports(
        pd.concat([scores, stranger]), tables_without, glossary=load_glossary(), lang="en"
    )
    assert any("/H9999-" in path for path in more.pages)


def test_reports_in_both_languages_for_the_same_households(world):
    tables, scores = world
    glossary = load_glossary()
    chinese = build_reports(scores, tables, glossary=glossary, lang="zh-CN")
    english = build_reports(scores, tables, glossary=glossary, lang="en")
    assert set(chinese.pages) == set(english.pages)
    assert chinese.n_households == english.n_households == int(scores["flagged"].sum())
    zh_sheet = next(iter(_household_pages(chinese).values()))
    en_sheet = next(iter(_household_pages(english).values()))
    assert "入户核实单" in zh_sheet and 'lang="zh-CN"' in zh_sheet
    assert "household visit sheet" in en_sheet and "入户核实单" not in en_sheet
    for page in list(chinese.pages.values()) + list(english.pages.values()):
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in page and "<link" not in page
        # the lists sort and filter with an inline script; nothing is fetched from elsewhere
        assert re.search(r"<script[^>]*\bsrc=|\burl\(|@import", page) is None
    for page in _household_pages(chinese).values():
        assert "<script" not in page


def test_the_scores_of_the_data_contract_are_enough(world, tmp_path):
    from earlywarn.jobs.report import run_reports

    tables, scores = world
    minimal = scores[["household_id", "as_of", "risk", "flagged", "reasons", "model_version"]]
    reports = build_reports(minimal, tables, glossary=load_glossary(), lang="zh-CN")
    assert "index.html" in reports.pages
    # the report job reads the scores file and checks it against the data contract
    minimal.drop(columns="reasons").to_parquet(tmp_path / "scores.parquet")
    write_tables(tables, tmp_path / "data")
    with pytest.raises(SchemaError, match="reasons"):
        run_reports(tmp_path / "scores.parquet", tmp_path / "data", tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


def _pdf_objects(raw: bytes) -> bytes:
    """The PDF's bytes with every Flate-compressed stream (object streams too) inflated."""
    parts = [raw]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", raw, flags=re.DOTALL):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts)


def _has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    return bool(listing.strip())


@pytest.mark.slow
@pytest.mark.skipif(not _has_cjk_font(), reason="no CJK font (scripts/setup.sh installs one)")
def test_run_reports_writes_html_and_pdf_with_chinese_glyphs(world, tmp_path):
    from earlywarn.jobs.report import run_reports

    tables, scores = world
    few = scores.assign(flagged=scores["household_id"].isin(["H0001", "H0003"]))
    few.to_parquet(tmp_path / "scores.parquet")
    write_tables(tables, tmp_path / "data")
    result = run_reports(
        tmp_path / "scores.parquet", tmp_path / "data", tmp_path / "reports", lang="zh-CN", pdf=True
    )
    assert result.n_households == 2 and result.n_pdfs >= 2
    assert (tmp_path / "reports" / "index.html").is_file()
    pdfs = sorted((tmp_path / "reports").rglob("village.pdf"))
    assert pdfs
    fonts = b"".join(_pdf_objects(path.read_bytes()) for path in pdfs)
    assert re.search(
        rb"/BaseFont\s*/[A-Z]{6}\+(WenQuanYi|NotoSansCJK|NotoSans-CJK|SourceHan)", fonts
    ), "no CJK font embedded in the PDF"
    if shutil.which("pdftotext"):
        text = "".join(
            subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True).stdout
            for p in pdfs
        )
        assert "防返贫监测预警" in text and "主要风险因素" in text


def test_report_command_writes_the_pages(world, tmp_path):
    from typer.testing import CliRunner

    from earlywarn.cli import app

    tables, scores = world
    scores.assign(flagged=scores["household_id"].isin(["H0002", "H0004"])).to_parquet(
        tmp_path / "scores.parquet"
    )
    write_tables(tables, tmp_path / "data")
    args = [
        "report",
        "--scores",
        str(tmp_path / "scores.parquet"),
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "reports"),
        "--lang",
        "en",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 flagged households" in result.output
    assert len(list((tmp_path / "reports").rglob("H000*.html"))) == 2
    bad = CliRunner().invoke(app, [*args[:-1], "fr"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_each_household_sheet_prints_on_one_page(world, lang):
    import weasyprint

    tables, scores = world
    reports = build_reports(scores, tables, glossary=load_glossary(), lang=lang)
    sheets = sorted(_household_pages(reports).values(), key=len, reverse=True)[:4]  # fullest
    assert sheets
    for html in sheets:
        assert len(weasyprint.HTML(string=html).render().pages) == 1


def test_county_summary_counts_each_main_reason_of_the_flagged(world):
    tables, scores = world
    glossary = load_glossary()
    reports = build_reports(scores, tables, glossary=glossary, lang="en")
    county_of = tables.households.set_index("household_id")["county"].astype(str)
    flagged = scores[scores["flagged"]]
    for county in sorted(county_of[flagged["household_id"]].unique()):
        expected: dict[str, int] = {}
        for household_id, reasons in zip(flagged["household_id"], flagged["reasons"], strict=True):
            if county_of[household_id] == county:
                for code in {r["code"] for r in reasons if not r["code"].startswith(NOT_REASONS)}:
                    name = glossary.group_name(code, "en")[:28]
                    expected[name] = expected.get(name, 0) + 1
        html = next(
            h
            for p, h in reports.pages.items()
            if p.endswith("/summary.html") and f"· {county}</h1>" in h
        )
        chart = html.split("By any main reason", 1)[1]
        bars = re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>.*?>(\d+)</text>', chart, re.S)
        assert expected and {html_text(label): int(n) for label, n in bars} == expected


def _marked(glossary):
    """The glossary with every reason and rule text marked, as a custom glossary would be."""
    groups = {
        code: {
            **entry,
            "templates": {
                lang: [f"[custom] {text}" for text in texts]
                for lang, texts in entry["templates"].items()
            },
        }
        for code, entry in glossary.groups.items()
    }
    rules = {
        code: {lang: f"[custom] {text}" for lang, text in entry.items()}
        for code, entry in glossary.rules.items()
    }
    return replace(glossary, groups=groups, rules=rules)


def _sheet_texts(html: str) -> tuple[list[str], list[str]]:
    """The model's reason texts and the rule's trigger texts a household sheet shows."""
    model = re.search(r'<ol class="reasons">(.*?)</ol>', html, re.S)
    rules = re.search(r'<ul class="rules">(.*?)</ul>', html, re.S)
    return (
        [
            html_text(text)
            for text in re.findall(r"<br>(.*?)</li>", model.group(1) if model else "", re.S)
        ],
        [
            html_text(text)
            for text in re.findall(r"<li>(.*?)</li>", rules.group(1) if rules else "")
        ],
    )


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_reports_write_the_reason_texts_of_the_scores_file(world_and_model, world, lang):
    """Scoring and reports write reason texts the same way: with the same (custom) glossary,
    rule and language, each household sheet shows exactly the texts its scores row holds."""
    tables, features, model = world_and_model
    _, scores = world
    glossary = _marked(load_glossary())
    rule = RuleConfig(income_margin=2.0)
    flagged = scores["flagged"].to_numpy()
    reasons = explain_with_glossary(
        model,
        features[flagged],
        glossary=glossary,
        lang=lang,
        tables=tables,
        as_of=AS_OF,
        rule_cfg=rule,
    )
    scores = scores.assign(reasons=[[] for _ in range(len(scores))])
    scores.loc[flagged, "reasons"] = pd.Series(list(reasons), index=scores.index[flagged])
    reports = build_reports(scores, tables, glossary=glossary, lang=lang, rule_cfg=rule)
    sheets = _household_pages(reports)
    n_rules = 0
    for household_id, stored in zip(scores["household_id"][flagged], reasons, strict=True):
        html = next(html for path, html in sheets.items() if f"/{household_id}-" in path)
        shown_model, shown_rules = _sheet_texts(html)
        assert shown_model == [r["text"] for r in stored if not r["code"].startswith(NOT_REASONS)]
        assert shown_rules == [r["text"] for r in stored if r["code"].startswith("rule:")]
        assert all(text.startswith("[custom] ") for text in shown_model + shown_rules)
        n_rules += len(shown_rules)
    assert n_rules > 0
