"""Who goes to the caseworkers: the flagging policy applied to one scoring round.

Three ways a county works: the top share of all households by risk (``top_share``), the top
N in each village or county (a work team's capacity, ``top_n_per_group``), or everyone at or
above a risk level (``threshold``). Ties are broken by household id so that flags do not
depend on row order; a missing risk is never flagged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from earlywarn.config import PolicyConfig
from earlywarn.data.columns import AS_OF, FLAGGED, HOUSEHOLD_ID
from earlywarn.errors import ConfigError


def flag(risk: pd.Series, households: pd.DataFrame | None, policy_cfg: PolicyConfig) -> pd.Series:
    """Boolean ``flagged`` per household of ``risk`` (indexed by household_id, one round).

    ``households`` (indexed by household_id, with ``village``/``county``) is needed only for
    ``top_n_per_group``.
    """
    cfg = policy_cfg
    if risk.index.has_duplicates:
        raise ConfigError("flag() takes one scoring round: household ids must be unique")
    risk = pd.to_numeric(risk, errors="coerce").astype("float64")
    order = _ranked(risk)
    flagged = pd.Series(False, index=risk.index, name=FLAGGED)
    known = order[risk.loc[order].notna().to_numpy()]
    if cfg.kind == "threshold":
        flagged.loc[risk >= cfg.threshold] = True
    elif cfg.kind == "top_share":
        n_flag = math.ceil(cfg.share * len(risk)) if len(risk) else 0
        flagged.loc[known[:n_flag]] = True
    else:
        if households is None or cfg.group not in households.columns:
            raise ConfigError(
                f"policy top_n_per_group needs households with a '{cfg.group}' column"
            )
        groups = households[cfg.group].reindex(known)
        if groups.isna().any():
            raise ConfigError(f"{int(groups.isna().sum())} scored households have no {cfg.group}")
        rank_in_group = groups.groupby(groups, observed=True, sort=False).cumcount()
        flagged.loc[rank_in_group.index[rank_in_group.to_numpy() < cfg.n_per_group]] = True
    return flagged


def _ranked(risk: pd.Series) -> pd.Index:
    """Household ids by risk, highest first, ties by id; missing risk last."""
    frame = pd.DataFrame({"risk": risk.to_numpy(), "id": risk.index.astype(str)}, index=risk.index)
    frame = frame.sort_values(
        ["risk", "id"], ascending=[False, True], na_position="last", kind="mergesort"
    )
    return frame.index


def flag_rounds(
    keys: pd.DataFrame, risk: np.ndarray, households: pd.DataFrame | None, policy_cfg: PolicyConfig
) -> np.ndarray:
    """:func:`flag` applied to each as-of date of stacked examples (``keys``: household_id,
    as_of); one boolean per row of ``keys``. Capacity applies per scoring round."""
    flagged = np.zeros(len(keys), dtype=bool)
    scores = np.asarray(risk, dtype=float)
    for _, rows in keys.groupby(AS_OF, sort=True).indices.items():
        round_risk = pd.Series(scores[rows], index=keys[HOUSEHOLD_ID].to_numpy()[rows])
        flagged[rows] = flag(round_risk, households, policy_cfg).to_numpy()
    return flagged
