"""The two passes of a scoring run over chunks of households (memory bounded by a chunk).

:func:`score_population` runs them all. Pass 1 (:func:`pending_chunks`,
:func:`score_pending_chunks`): features, calibrated risk and drift counts per chunk, and
reasons too when everyone is explained. Then the policy flags and ranks across the whole
population, from every chunk's risks (:func:`collect_risks`). Pass 2
(:func:`explain_flagged`): reasons for the flagged households, chunk by chunk. Each finished
chunk is kept in the run's :class:`~earlywarn.scoring.work_dir.WorkDir`, and both passes skip
the chunks a killed run already finished. Chunks run on a
:class:`~earlywarn.scoring.runner.ChunkRunner` (here or on Dask workers): :func:`score_chunk`
and :func:`explain_chunk` are what a worker runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.progress import Progress

from earlywarn.config import PolicyConfig, RuleConfig
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, REASONS, RISK
from earlywarn.data.tables import Tables
from earlywarn.explain.glossary import Glossary
from earlywarn.explain.village_facts import village_facts
from earlywarn.features.build import build_features
from earlywarn.features.place import place_rates
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.drift import NO_REFERENCE, count_bins, sum_counts
from earlywarn.scoring.runner import ChunkJob, ChunkRunner, StageClock, advance_by_households
from earlywarn.scoring.score import (
    Explain,
    attach_reasons,
    explain_households,
    finish_scores,
    partition_tables,
    predict_risk_frame,
    rule_applies,
)
from earlywarn.scoring.work_dir import WorkDir

"""The drift reference of a model that carries none: only missing values are counted."""


@dataclass(frozen=True)
class ReasonTexts:
    """How reasons are written: the top ``n_reasons`` reason groups in ``lang``, texts from
    ``glossary``, followed by the triggers of the current rule (``rule_cfg``)."""

    glossary: Glossary
    lang: str
    n_reasons: int
    rule_cfg: RuleConfig


@dataclass(frozen=True)
class ScoringPlan:
    """What a scoring run gives each household of the population: its risk as of ``as_of``,
    its flag by ``policy_cfg``, reasons written by ``texts`` for the flagged, for all or for
    none (``explain``)."""

    as_of: pd.Timestamp
    explain: Explain
    texts: ReasonTexts
    policy_cfg: PolicyConfig


def household_chunks(ids: pd.Index, chunk_size: int) -> list[pd.Index]:
    """``ids`` cut into consecutive chunks of at most ``chunk_size`` households."""
    return [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]


# --- what a worker runs ------------------------------------------------------------------


def score_chunk(
    tables: Tables,
    model: RiskModel,
    household_ids: Sequence[str],
    *,
    as_of: pd.Timestamp,
    drift_reference: dict[str, Any] | None,
    places: pd.DataFrame | None = None,
    texts: ReasonTexts | None = None,
    villages: pd.DataFrame | None = None,
    rule_triggers: bool | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Features, risk (and reasons, with ``texts``) for a chunk of households.

    ``places``: ``place.place_rates(tables, as_of)`` and ``villages``:
    ``reasons.village_facts(tables, as_of)``, both computed once over the whole tables (a
    chunk holds only part of a village). Returns a frame indexed by household_id (``risk``,
    ``reasons`` and the model's features, prepared) and the chunk's drift counts
    (:func:`earlywarn.scoring.drift.count_bins`).
    """
    wanted = pd.Index(list(household_ids), name=HOUSEHOLD_ID)
    features = build_features(tables, as_of=pd.Timestamp(as_of), households=wanted, places=places)
    risks = predict_risk_frame(model, features)
    counts = count_bins(
        drift_reference or NO_REFERENCE, features, risks[RISK].to_numpy(), model.categories
    )
    pieces = [risks]
    if texts is not None:
        reasons = explain_chunk(
            model,
            features,
            texts=texts,
            tables=tables,
            as_of=as_of,
            villages=villages,
            rule_triggers=rule_triggers,
        )
        pieces.append(reasons.to_frame(REASONS))
    pieces.append(model.prepare(features).copy())  # copy: one block per dtype
    return pd.concat(pieces, axis=1), counts


def explain_chunk(
    model: RiskModel,
    features: pd.DataFrame,
    *,
    texts: ReasonTexts,
    tables: Tables,
    as_of: pd.Timestamp,
    villages: pd.DataFrame | None,
    rule_triggers: bool | None,
) -> pd.Series:
    """Reasons for the households of ``features`` (index household_id), their texts quoting
    their rows of ``tables`` (:func:`earlywarn.scoring.score.explain_households`)."""
    return explain_households(
        model,
        features,
        glossary=texts.glossary,
        n_reasons=texts.n_reasons,
        lang=texts.lang,
        tables=tables,
        as_of=as_of,
        rule_cfg=texts.rule_cfg,
        villages=villages,
        rule_triggers=rule_triggers,
    )


# --- pass 1: features, risk, drift counts -----------------------------------------------


@dataclass
class PendingChunks:
    """The chunks pass 1 still has to score, each with its own rows of the tables and of the
    place rates (``parts``, handed out once: freed as each chunk is scored), and with
    everyone explained the village figures and whether the rule applies."""

    numbers: list[int]
    parts: list[tuple[Tables, pd.DataFrame | None]]
    villages: pd.DataFrame | None = None
    rule_triggers: bool | None = None

    def jobs(self) -> Iterator[tuple[int, Tables, pd.DataFrame | None]]:
        """(chunk number, its tables, its place rates), each part dropped once handed out."""
        self.numbers.reverse()
        self.parts.reverse()
        while self.numbers:
            sub_tables, sub_places = self.parts.pop()
            yield self.numbers.pop(), sub_tables, sub_places


def pending_chunks(
    tables: Tables,
    chunks: Sequence[pd.Index],
    work: WorkDir,
    *,
    as_of: pd.Timestamp,
    explain_all: bool,
) -> PendingChunks:
    """The chunks not yet in ``work``, the tables cut to their households. Place rates (and,
    with ``explain_all``, village figures and the rule check) come from the whole tables: the
    caller may free them once this returns, unless pass 2 needs them."""
    todo = [i for i in range(len(chunks)) if not work.has_chunk(i)]
    if not todo:
        return PendingChunks([], [])
    places = place_rates(tables, as_of)
    parts = partition_tables(tables, [chunks[i] for i in todo], places)
    return PendingChunks(
        todo,
        parts,
        villages=village_facts(tables, as_of) if explain_all else None,
        rule_triggers=rule_applies(tables, as_of) if explain_all else None,
    )


def score_pending_chunks(
    runner: ChunkRunner,
    work: WorkDir,
    pending: PendingChunks,
    chunks: Sequence[pd.Index],
    model: RiskModel,
    *,
    as_of: pd.Timestamp,
    texts: ReasonTexts | None,
    bar: Progress,
    chunk_delay: float = 0.0,
) -> None:
    """Pass 1: score each pending chunk (:func:`score_chunk`; reasons for everyone with
    ``texts``) and keep it in ``work``, waiting ``chunk_delay`` seconds after each."""
    done = sum(len(chunk) for i, chunk in enumerate(chunks) if work.has_chunk(i))
    task = bar.add_task("features + risk", total=sum(map(len, chunks)), completed=done)
    advance = advance_by_households(bar, task, delay=chunk_delay)
    model_ref = runner.broadcast(model)
    jobs = (
        ChunkJob(
            i,
            (sub_tables, model_ref, list(chunks[i])),
            {
                "as_of": as_of,
                "drift_reference": model.metadata.get("drift_reference"),
                "places": sub_places,
                "texts": texts,
                "villages": pending.villages,
                "rule_triggers": pending.rule_triggers,
            },
        )
        for i, sub_tables, sub_places in pending.jobs()
    )
    for i, (frame, counts) in runner.run(score_chunk, jobs):
        work.write_chunk(i, frame, counts)
        advance(len(chunks[i]))


def collect_risks(
    work: WorkDir, n_chunks: int, *, with_reasons: bool, drift_reference: dict[str, Any] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every chunk's risks (index household_id; and reasons ``with_reasons``) and the drift
    counts of the whole population."""
    columns = [HOUSEHOLD_ID, RISK] + ([REASONS] if with_reasons else [])
    read = [work.read_chunk(i, columns) for i in range(n_chunks)]
    frames = [frame for frame, _ in read]
    total = sum_counts(drift_reference, (counts for _, counts in read))
    if not frames:  # nobody in the population: an empty scores file
        empty = pd.DataFrame(
            {RISK: pd.Series(dtype="float64"), REASONS: pd.Series(dtype=object)},
            index=pd.Index([], name=HOUSEHOLD_ID),
        )
        return empty, total
    return pd.concat(frames), total


# --- pass 2: reasons for the flagged -----------------------------------------------------


def explain_flagged(
    runner: ChunkRunner,
    work: WorkDir,
    chunks: Sequence[pd.Index],
    flagged: set[str],
    tables: Tables,
    model: RiskModel,
    *,
    as_of: pd.Timestamp,
    texts: ReasonTexts,
    bar: Progress,
) -> pd.Series:
    """Pass 2: reasons for the ``flagged`` households (index household_id), chunk by chunk,
    from the features pass 1 kept.

    The texts quote each household's own figures: the tables are cut down to the flagged
    households' rows; the village figures come from the whole tables.
    """
    advance = advance_by_households(bar, bar.add_task("reasons (flagged)", total=len(flagged)))
    to_explain: list[tuple[int, pd.DataFrame]] = []
    for i, chunk in enumerate(chunks):
        wanted = [household_id for household_id in chunk if household_id in flagged]
        if work.has_reasons(i):
            advance(len(wanted))
        elif wanted:
            to_explain.append((i, work.read_features(i, wanted)))
    if to_explain:
        villages = village_facts(tables, as_of)
        rule_ok = rule_applies(tables, as_of)
        own_rows = partition_tables(tables, [features.index for _, features in to_explain])
        model_ref = runner.broadcast(model)
        jobs = [
            ChunkJob(
                i,
                (model_ref, features),
                {
                    "texts": texts,
                    "tables": sub_tables,
                    "as_of": as_of,
                    "villages": villages,
                    "rule_triggers": rule_ok,
                },
            )
            for (i, features), (sub_tables, _) in zip(to_explain, own_rows, strict=True)
        ]
        for i, reasons in runner.run(explain_chunk, jobs):
            work.write_reasons(i, reasons)
            advance(len(reasons))
    return work.read_reasons(len(chunks))


# --- the whole population ----------------------------------------------------------------


def score_population(
    runner: ChunkRunner,
    work: WorkDir,
    chunks: Sequence[pd.Index],
    pending: PendingChunks,
    model: RiskModel,
    plan: ScoringPlan,
    *,
    households: pd.DataFrame,
    tables: Tables | None,
    bar: Progress,
    clock: StageClock,
    chunk_delay: float = 0.0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Pass 1, the policy's flags and ranks over the whole population, then pass 2 when the
    plan explains the flagged (it needs ``tables``): the scores frame with its reasons, and
    the population's drift counts. ``households``: the households table (places)."""
    as_of, texts = plan.as_of, plan.texts
    explain_all = plan.explain == "all"
    score_pending_chunks(
        runner,
        work,
        pending,
        chunks,
        model,
        as_of=as_of,
        texts=texts if explain_all else None,
        bar=bar,
        chunk_delay=chunk_delay,
    )
    clock.lap("features_and_risk")
    reference = model.metadata.get("drift_reference")
    risks, counts = collect_risks(
        work, len(chunks), with_reasons=explain_all, drift_reference=reference
    )
    scores = finish_scores(
        risks[[RISK]],
        as_of=as_of,
        policy_cfg=plan.policy_cfg,
        households_frame=households,
        model_version=model.version,
    )
    clock.lap("flag_and_rank")
    reasons = risks[REASONS] if explain_all else pd.Series([], dtype=object)
    if plan.explain == "flagged":
        if tables is None:
            raise ValueError("explaining the flagged households needs the tables")
        flagged = set(scores.loc[scores[FLAGGED], HOUSEHOLD_ID])
        reasons = explain_flagged(
            runner, work, chunks, flagged, tables, model, as_of=as_of, texts=texts, bar=bar
        )
    scores = attach_reasons(scores, reasons)
    clock.lap("reasons")
    return scores, counts
