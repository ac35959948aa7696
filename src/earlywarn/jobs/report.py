"""The report job: a scores file and its data -> caseworker pages (HTML, PDF) and the working
lists of each county and village as CSV and XLSX beside them."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from earlywarn.config import Config, config_hash
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import atomic_path, check_writable
from earlywarn.errors import SchemaError
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.list_words import list_words
from earlywarn.explain.report import build_reports
from earlywarn.explain.village_list import export_paths, list_exports
from earlywarn.explain.working_list import ListingContext, policy_text, with_list_facts
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.scoring.rederive import changed_inputs
from earlywarn.scoring.scores_file import read_scores, read_scores_metadata, sidecar_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportsResult:
    """What ``earlywarn report`` wrote: pages, PDFs and flagged households, in ``out_dir``."""

    out_dir: Path
    lang: str
    n_households: int
    n_pages: int
    n_pdfs: int
    seconds: float
    n_exports: int = 0


def write_pdfs(pages: dict[str, str], booklets: dict[str, list[str]], out_dir: Path) -> int:
    """Render each booklet (several pages, one PDF) with WeasyPrint; returns how many."""
    from weasyprint import HTML

    for target, paths in booklets.items():
        documents = [HTML(string=pages[path], base_url=str(out_dir)).render() for path in paths]
        all_pages = [page for document in documents for page in document.pages]
        destination = out_dir / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        documents[0].copy(all_pages).write_pdf(destination)
    return len(booklets)


def run_reports(
    scores_path: Path,
    data_dir: Path,
    out_dir: Path,
    *,
    cfg: Config | None = None,
    lang: str | None = None,
    pdf: bool | None = None,
    glossary_path: Path | None = None,
    data_changed_ok: bool = False,
) -> ReportsResult:
    """Caseworker sheets, village lists and county summaries for the flagged households of a
    scores file, as self-contained HTML (and PDF booklets per village and county with
    ``pdf``). The whole ``out_dir`` is replaced in one step (atomic): keep nothing else there.

    When the scores file records the fingerprints of the tables it was made from, ``data_dir``
    must hold those same tables (else the sheets would mix one day's risk with another day's
    figures); ``data_changed_ok`` reports anyway, with a warning.
    """
    started = time.perf_counter()
    cfg = cfg or Config()
    lang = lang or cfg.report.lang
    pdf = cfg.report.pdf if pdf is None else pdf
    check_writable(Path(out_dir), folder=True)
    glossary = load_glossary(glossary_path or cfg.report.glossary)
    scores = read_scores(scores_path)  # checked against the data contract and its metadata
    tables = read_tables(Path(data_dir), mapping=cfg.data.mapping)
    _check_same_data(Path(scores_path), Path(data_dir), data_changed_ok)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    scores = with_list_facts(scores, tables, cfg.rule, glossary, lang)
    listing = listing_context(Path(scores_path), cfg, n_scored_run=len(scores))
    reports = build_reports(
        scores,
        tables,
        glossary=glossary,
        lang=lang,
        generated=generated,
        rule_cfg=cfg.rule,
        listing=listing,
    )
    exports = list_exports(scores, lang)
    out_dir = Path(out_dir)
    n_pdfs = 0
    with atomic_path(out_dir) as staged:
        staged.mkdir(parents=True)
        for relative, html in reports.pages.items():
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
        about = about_rows(listing, lang, generated)
        for folder, frame in exports.items():
            write_list_files(frame, about, staged, folder, lang)
        if pdf:
            n_pdfs = write_pdfs(reports.pages, reports.booklets, staged)
    seconds = time.perf_counter() - started
    log.info(
        "reports: %d households, %d pages, %d PDFs in %.1f s",
        reports.n_households,
        len(reports.pages),
        n_pdfs,
        seconds,
    )
    return ReportsResult(
        out_dir=out_dir,
        lang=lang,
        n_households=reports.n_households,
        n_pages=len(reports.pages),
        n_pdfs=n_pdfs,
        seconds=seconds,
        n_exports=2 * len(exports),
    )


def listing_context(scores_path: Path, cfg: Config, *, n_scored_run: int) -> ListingContext:
    """What the scoring run says beyond its rows, from ``<scores>.meta.json`` when it is there
    (when it scored, its drift warnings) and the config (the flagging policy, flagged as
    possibly not the scores' own when the config hash differs from the one recorded)."""
    recorded = (pq.read_schema(scores_path).metadata or {}).get(b"earlywarn.config_hash")
    sidecar = sidecar_path(scores_path)
    run: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            run = json.loads(sidecar.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("%s is not readable JSON: drift alerts not shown", sidecar)
    created = str(run.get("created_at") or "")
    scored_at = (
        pd.Timestamp(created).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC") if created else ""
    )
    return ListingContext(
        policy=cfg.policy,
        n_scored_run=n_scored_run,
        scored_at=scored_at,
        drift_warnings=tuple(map(str, run.get("drift_warnings") or ())),
        config_differs=recorded is not None and recorded.decode() != config_hash(cfg),
    )


def about_rows(listing: ListingContext, lang: str, generated: str) -> list[tuple[str, str]]:
    """The exports' second sheet: how the list was made (policy, dates, drift alerts)."""
    words = list_words(lang)
    rows = [(words("h_generated", generated=""), generated)]
    if listing.scored_at:
        rows.append((words("h_scored_at", scored_at=""), listing.scored_at))
    if listing.policy is not None:
        text = policy_text(listing.policy, listing.n_scored_run, lang)
        rows.append((words("h_policy", text=""), text))
    rows += [(words("drift_title"), alert) for alert in listing.drift_warnings]
    return rows


def write_list_files(
    frame: pd.DataFrame, about: list[tuple[str, str]], out_dir: Path, folder: str, lang: str
) -> None:
    """A working list as CSV (UTF-8 with BOM, so Excel and WPS read Chinese) and XLSX (typed
    cells, a frozen, filterable header, and a sheet saying how the list was made)."""
    import xlsxwriter

    paths = export_paths(folder)
    (out_dir / folder).mkdir(parents=True, exist_ok=True)
    frame.to_csv(out_dir / paths["csv"], index=False, encoding="utf-8-sig")
    words = list_words(lang)
    with xlsxwriter.Workbook(str(out_dir / paths["xlsx"])) as book:
        book.set_properties({"created": datetime(2000, 1, 1, tzinfo=UTC)})
        head = book.add_format({"bold": True, "bg_color": "#EEF2F8", "border": 1})
        sheet = book.add_worksheet(words("sheet_name"))
        sheet.write_row(0, 0, [str(name) for name in frame.columns], head)
        for r, row in enumerate(frame.itertuples(index=False), start=1):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif value is not None and value is not pd.NA and not math.isnan(float(value)):
                    sheet.write_number(r, c, float(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        for c, name in enumerate(frame.columns):
            longest = max([len(str(name)), *(len(str(v)) for v in frame.iloc[:, c])])
            sheet.set_column(c, c, min(max(8, 1.6 * longest), 60))
        info = book.add_worksheet("README" if not lang.startswith("zh") else "说明")
        for r, (key, value) in enumerate(about):
            info.write_string(r, 0, key.strip(" :：·"))
            info.write_string(r, 1, value)
        info.set_column(0, 0, 28)
        info.set_column(1, 1, 80)


def _check_same_data(scores_path: Path, data_dir: Path, data_changed_ok: bool) -> None:
    """Refuse (or with ``data_changed_ok`` warn about) tables that changed since scoring."""
    recorded = pq.read_schema(scores_path).metadata or {}
    if b"earlywarn.input_fingerprints" not in recorded:
        log.info("%s records no input fingerprints; data not checked", scores_path.name)
        return
    meta = read_scores_metadata(scores_path)
    changed = changed_inputs(meta["earlywarn.input_fingerprints"], table_fingerprints(data_dir))
    if not changed:
        return
    if data_changed_ok:
        log.warning(
            "reporting on tables that changed since %s was made: %s",
            scores_path.name,
            "; ".join(changed),
        )
        return
    raise SchemaError(
        f"the tables in {data_dir} are not the ones {scores_path.name} was made from, so the "
        "sheets would mix its risks with other figures:\n  "
        + "\n  ".join(changed)
        + "\nscore again on these tables, report on the tables the scores were made from, or "
        "pass --data-changed-ok to report anyway"
    )
