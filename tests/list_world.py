"""A scored world for the working lists: simulated tables and a scores frame with a previous
run (risks, flags, reasons, history), made without a model so the list tests run in seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import COUNTY, HOUSEHOLD_ID, VILLAGE
from earlywarn.data.tables import Tables
from earlywarn.features.labels import population

AS_OF = pd.Timestamp("2024-07-01")
GROUPS = ("income_low", "illness_medical", "lost_work", "farm_disaster")


def list_scores(tables: Tables, *, seed: int = 0, history: bool = True) -> pd.DataFrame:
    """One row per household of the population at :data:`AS_OF`: a random risk, the top
    tenth flagged, one to three reasons for the flagged, and (``history``) a previous run a
    year before with its own risks, so some are newly flagged and some risks doubled."""
    rng = np.random.default_rng(seed)
    ids = pd.Index(population(tables, AS_OF)).astype(str)
    places = tables.households.set_index(tables.households[HOUSEHOLD_ID].astype(str))
    risk = rng.beta(1.2, 8.0, size=len(ids))
    flagged = risk >= np.quantile(risk, 0.9)
    scores = pd.DataFrame(
        {
            HOUSEHOLD_ID: ids,
            "as_of": AS_OF,
            "target_year": AS_OF.year,
            COUNTY: places.loc[ids, COUNTY].astype(str).to_numpy(),
            VILLAGE: places.loc[ids, VILLAGE].astype(str).to_numpy(),
            "risk": risk,
            "flagged": flagged,
            "model_version": "earlywarn/1",
        }
    )
    scores["rank_in_village"] = (
        scores.groupby(VILLAGE)["risk"].rank(method="min", ascending=False).astype("int64")
    )
    scores["reasons"] = [
        [
            {"code": GROUPS[(i + k) % len(GROUPS)], "text": "t", "contribution": 0.1 / (k + 1)}
            for k in range(1 + i % 3)
        ]
        if is_flagged
        else []
        for i, is_flagged in enumerate(flagged)
    ]
    if history:
        previous = np.clip(risk * rng.uniform(0.3, 1.5, size=len(ids)), 0, 1)
        was_flagged = previous >= np.quantile(previous, 0.9)
        scores["previous_as_of"] = AS_OF - pd.DateOffset(years=1)
        scores["previous_risk"] = previous
        scores["newly_flagged"] = flagged & ~was_flagged
        scores["risk_doubled"] = risk >= 2 * previous
    return scores
