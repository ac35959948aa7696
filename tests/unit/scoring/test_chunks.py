"""Scoring chunk by chunk gives what scoring the whole population at once gives; a rerun
scores only the chunks not yet kept."""

from __future__ import annotations

import pandas as pd
import pytest

from earlywarn.config import PolicyConfig, RuleConfig
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, REASONS
from earlywarn.explain.glossary import load_glossary
from earlywarn.features.build import build_features
from earlywarn.scoring.chunks import (
    ReasonTexts,
    ScoringPlan,
    household_chunks,
    pending_chunks,
    score_population,
)
from earlywarn.scoring.runner import ChunkRunner, StageClock, progress_bar
from earlywarn.scoring.score import Explain, population_ids, score_households
from earlywarn.scoring.work_dir import WorkDir, run_key

AS_OF = pd.Timestamp("2024-03-01")
CHUNK = 37
GLOSSARY = load_glossary()


def chunked(tables, model, work: WorkDir, explain: Explain):
    ids = population_ids(tables, AS_OF, "exited")
    chunks = household_chunks(ids, CHUNK)
    texts = ReasonTexts(GLOSSARY, "en", 3, RuleConfig())
    plan = ScoringPlan(AS_OF, explain, texts, PolicyConfig())
    pending = pending_chunks(tables, chunks, work, as_of=AS_OF, explain_all=explain == "all")
    n_pending = len(pending.numbers)
    clock = StageClock()
    with ChunkRunner("local") as runner, progress_bar(False) as bar:
        scores, counts = score_population(
            runner,
            work,
            chunks,
            pending,
            model,
            plan,
            households=tables.households,
            tables=tables,
            bar=bar,
            clock=clock,
        )
    assert not pending.parts  # every chunk's tables handed out, so freed once scored
    assert list(clock.seconds) == ["features_and_risk", "flag_and_rank", "reasons"]
    return scores, counts, n_pending


def whole(tables, model, explain: Explain) -> pd.DataFrame:
    ids = population_ids(tables, AS_OF, "exited")
    return score_households(
        model,
        build_features(tables, as_of=AS_OF, households=ids),
        as_of=AS_OF,
        policy_cfg=PolicyConfig(),
        households_frame=tables.households,
        glossary=GLOSSARY,
        explain=explain,
        tables=tables,
        rule_cfg=RuleConfig(),
    )


def assert_same_scores(got: pd.DataFrame, want: pd.DataFrame) -> None:
    columns = [c for c in want.columns if c != REASONS]
    pd.testing.assert_frame_equal(got[columns], want[columns])
    for mine, theirs in zip(got[REASONS], want[REASONS], strict=True):
        assert [(r["code"], r["text"]) for r in mine] == [(r["code"], r["text"]) for r in theirs]
        for a, b in zip(mine, theirs, strict=True):
            if b["contribution"] is None:
                assert a["contribution"] is None
            else:
                assert a["contribution"] == pytest.approx(b["contribution"], abs=1e-12)


@pytest.mark.parametrize("explain", ["flagged", "all", "none"])
def test_chunks_give_the_scores_of_the_whole(tables, tiny_model, tmp_path, explain):
    work = WorkDir.open(tmp_path / "scores.parquet", run_key({"explain": explain}))
    scores, counts, n_pending = chunked(tables, tiny_model, work, explain)
    expected = whole(tables, tiny_model, explain)
    assert n_pending == len(household_chunks(expected[HOUSEHOLD_ID], CHUNK)) >= 3
    assert_same_scores(scores, expected)
    assert counts["n_rows"] == len(expected)
    explained = scores[REASONS].map(len) > 0
    if explain == "flagged":
        assert explained.equals(scores[FLAGGED])
    else:
        assert explained.all() == (explain == "all")


def test_a_rerun_scores_only_the_chunks_not_kept(tables, tiny_model, tmp_path):
    work = WorkDir.open(tmp_path / "scores.parquet", run_key({}))
    first, counts, _ = chunked(tables, tiny_model, work, "flagged")
    work.chunk_path(1).unlink()
    kept_reasons = sorted(work.path.glob("reasons-*.parquet"))
    assert kept_reasons
    kept_reasons[0].unlink()
    again, counts_again, n_pending = chunked(tables, tiny_model, work, "flagged")
    assert n_pending == 1
    pd.testing.assert_frame_equal(again.drop(columns=[REASONS]), first.drop(columns=[REASONS]))
    assert again[REASONS].tolist() == first[REASONS].tolist()
    assert counts_again == counts
