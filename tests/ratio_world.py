"""Examples of a world where income over the line is all there is: the model choice and the
refit are tested on it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlywarn.data.columns import AS_OF, HOUSEHOLD_ID, TARGET_YEAR
from earlywarn.features.examples import Examples
from earlywarn.model.choice import RULE_FEATURE


def ratio_world(n_households: int, seed: int) -> Examples:
    """Ten target years; poor when last round's income over the line (plus luck) is low;
    twenty noise features and a village code that say nothing."""
    rng = np.random.default_rng(seed)
    frames, labels, keys = [], [], []
    villages = [f"V{v}" for v in range(12)]
    for year in range(2016, 2026):
        ratio = rng.lognormal(0.6, 0.45, n_households)
        ratio[rng.uniform(size=n_households) < 0.03] = np.nan
        features = pd.DataFrame(
            {
                RULE_FEATURE: ratio,
                "village": pd.Categorical(rng.choice(villages, n_households), villages),
                **{f"noise_{k}": rng.normal(size=n_households) for k in range(20)},
            }
        )
        luck = rng.normal(0, 0.25, n_households)
        labels.append(pd.Series(np.nan_to_num(ratio, nan=2.0) + luck < 1.0))
        frames.append(features)
        keys.append(
            pd.DataFrame(
                {
                    HOUSEHOLD_ID: [f"H{i}" for i in range(n_households)],
                    AS_OF: pd.Timestamp(year=year, month=1, day=1),
                    TARGET_YEAR: year,
                }
            )
        )
    return Examples(
        features=pd.concat(frames, ignore_index=True),
        labels=pd.concat(labels, ignore_index=True).rename("label_poor"),
        keys=pd.concat(keys, ignore_index=True),
    )
