"""The report job: a scores file and its data -> caseworker pages (HTML, PDF)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from earlywarn.config import Config
from earlywarn.data.schema import read_tables
from earlywarn.data.storage import atomic_path, check_writable
from earlywarn.errors import SchemaError
from earlywarn.explain.glossary import load_glossary
from earlywarn.explain.report import build_reports
from earlywarn.jobs.audit import table_fingerprints
from earlywarn.scoring.rederive import changed_inputs
from earlywarn.scoring.scores_file import read_scores, read_scores_metadata

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
    reports = build_reports(
        scores, tables, glossary=glossary, lang=lang, generated=generated, rule_cfg=cfg.rule
    )
    out_dir = Path(out_dir)
    n_pdfs = 0
    with atomic_path(out_dir) as staged:
        staged.mkdir(parents=True)
        for relative, html in reports.pages.items():
            target = staged / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
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
    )


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
