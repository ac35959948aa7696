"""Re-deriving one household's score, flag and reasons from the inputs a scores file records.

Pure stages: tables, a model and the recorded row in, a comparison out.
``jobs.explain.run_explain`` reads the scores file, checks that the data, model and config are
the ones recorded, and calls these.
The flag depends on every household of the population (top share, top N per village), so
the whole population is scored again; reasons are computed for the one household.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from earlywarn.config import PolicyConfig, Population, RuleConfig
from earlywarn.data.columns import FLAGGED, HOUSEHOLD_ID, REASONS, RISK
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError
from earlywarn.explain.glossary import Glossary
from earlywarn.features.build import build_features
from earlywarn.model.model_file import RiskModel
from earlywarn.scoring.score import explain_households, population_ids, score_households

RISK_TOLERANCE = 1e-9
CONTRIBUTION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class HouseholdScore:
    """One household's risk (probability), flag and top reasons (code, text, contribution)."""

    household_id: str
    risk: float
    flagged: bool
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Rederivation:
    """The scores file's row next to the one computed again, and what differs."""

    recorded: HouseholdScore
    rederived: HouseholdScore
    differences: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.differences


def recorded_score(scores: pd.DataFrame, household_id: str) -> HouseholdScore:
    """The row of ``household_id`` in a scores frame, else an error naming the household."""
    rows = scores[scores[HOUSEHOLD_ID].astype("str") == str(household_id)]
    if rows.empty:
        raise EarlywarnError(f"household {household_id} is not in the scores file")
    row = rows.iloc[0]
    reasons = row[REASONS] if isinstance(row[REASONS], list | tuple) else list(row[REASONS])
    return HouseholdScore(
        household_id=str(household_id),
        risk=float(row[RISK]),
        flagged=bool(row[FLAGGED]),
        reasons=tuple(_plain_reason(r) for r in reasons),
    )


def _plain_reason(reason: Any) -> dict[str, Any]:
    return {
        "code": str(reason["code"]),
        "text": str(reason["text"]),
        "contribution": None
        if reason["contribution"] is None  # a rule trigger
        else float(reason["contribution"]),
    }


def rederive_household(
    tables: Tables,
    model: RiskModel,
    household_id: str,
    *,
    as_of: pd.Timestamp,
    population: Population,
    policy_cfg: PolicyConfig,
    explained: bool,
    glossary: Glossary,
    n_reasons: int,
    lang: str,
    rule_cfg: RuleConfig | None = None,
) -> HouseholdScore:
    """Score the population at ``as_of`` again and return ``household_id``'s row.

    ``explained``: whether the scoring run gave this household reasons (flagged households,
    or all with ``--explain-all``); reasons are computed only then, as the run did, their
    texts from ``glossary``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    ids = population_ids(tables, as_of, population)
    if str(household_id) not in set(ids.astype("str")):
        raise EarlywarnError(
            f"household {household_id} is not in the {population} population "
            f"as of {as_of.date()} of the recorded data"
        )
    features = build_features(tables, as_of=as_of, households=ids)
    scores = score_households(
        model,
        features,
        as_of=as_of,
        policy_cfg=policy_cfg,
        households_frame=tables.households,
        glossary=glossary,
        explain="none",
    )
    row = scores[scores[HOUSEHOLD_ID] == str(household_id)].iloc[0]
    reasons: list[dict[str, Any]] = []
    if explained:
        found = explain_households(
            model,
            features.loc[[str(household_id)]],
            glossary=glossary,
            n_reasons=n_reasons,
            lang=lang,
            tables=tables,
            as_of=as_of,
            rule_cfg=rule_cfg,
        )
        reasons = list(found.iloc[0])
    return HouseholdScore(
        household_id=str(household_id),
        risk=float(row[RISK]),
        flagged=bool(row[FLAGGED]),
        reasons=tuple(_plain_reason(r) for r in reasons),
    )


def compare_scores(recorded: HouseholdScore, rederived: HouseholdScore) -> Rederivation:
    """Risk within 1e-9, the same flag, the same reason codes in order, contributions within
    1e-6; each difference said in words."""
    differences = []
    if not math.isclose(recorded.risk, rederived.risk, rel_tol=0, abs_tol=RISK_TOLERANCE):
        differences.append(f"risk {recorded.risk:.6f} recorded, {rederived.risk:.6f} now")
    if recorded.flagged != rederived.flagged:
        differences.append(f"flagged {recorded.flagged} recorded, {rederived.flagged} now")
    codes = [r["code"] for r in recorded.reasons], [r["code"] for r in rederived.reasons]
    if codes[0] != codes[1]:
        differences.append(f"reasons {codes[0]} recorded, {codes[1]} now")
    else:
        for before, now in zip(recorded.reasons, rederived.reasons, strict=True):
            if before["contribution"] is None or now["contribution"] is None:
                continue  # rule triggers: same code, no contribution
            if not math.isclose(
                before["contribution"],
                now["contribution"],
                rel_tol=0,
                abs_tol=CONTRIBUTION_TOLERANCE,
            ):
                differences.append(
                    f"reason {before['code']}: contribution "
                    f"{before['contribution']:.6f} recorded, "
                    f"{now['contribution']:.6f} now"
                )
    return Rederivation(recorded=recorded, rederived=rederived, differences=tuple(differences))


def changed_inputs(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """The table files whose fingerprint differs from the recorded one (or that are missing
    or new), in words."""
    problems = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            problems.append(f"{name} is missing")
        elif name not in recorded:
            problems.append(f"{name} was not there when the scores were made")
        elif recorded[name] != current[name]:
            problems.append(
                f"{name} has changed (sha256 {recorded[name][:12]}... recorded, "
                f"{current[name][:12]}... now)"
            )
    return problems
