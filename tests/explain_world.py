"""A small hand-made world for the explain/reasons/report tests: tables with awkward names,
missing rounds, null incomes and households without events, plus a tiny LightGBM model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    AMOUNT,
    BUSINESS_INCOME,
    COST,
    COUNTY,
    DATE,
    EDUCATION_EXPENSE,
    END_DATE,
    ETHNIC_MINORITY,
    EVENT_TYPE,
    HAS_MEDICAL_INSURANCE,
    HEAD_BIRTH_YEAR,
    HEAD_EDUCATION_YEARS,
    HEAD_NAME,
    HEAD_SEX,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    HOUSING_SAFE,
    ID_NUMBER,
    LINE,
    MEASURE,
    MEDICAL_EXPENSE,
    MEMBER_COUNTS,
    POVERTY_EXIT_YEAR,
    PROPERTY_INCOME,
    START_DATE,
    TRANSFER_INCOME,
    VILLAGE,
    WAGE_INCOME,
    WATER_SAFE,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.model.fit import fit_model
from earlywarn.model.model_file import Calibrator, RiskModel

AS_OF = pd.Timestamp("2024-03-01")
VILLAGES = ("上沟村", "Xia & He", "<script>alert('x')</script>")
COUNTIES = ("Lu County", "泸西县")


def make_tables(n_households: int = 240, seed: int = 0) -> Tables:
    """Contract-shaped tables, rounds 2019-2023; household H0001 has no events, no
    assistance and a null income in its last round; H0002 has only one round."""
    rng = np.random.default_rng(seed)
    ids = [f"H{i:04d}" for i in range(n_households)]
    village = rng.choice(len(VILLAGES), n_households)
    households = pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(ids, dtype="str"),
            COUNTY: pd.array([COUNTIES[0] if v < 2 else COUNTIES[1] for v in village], dtype="str"),
            VILLAGE: pd.array([VILLAGES[v] for v in village], dtype="str"),
            HEAD_SEX: pd.array(rng.choice(["M", "F"], n_households), dtype="str"),
            HEAD_BIRTH_YEAR: pd.array(rng.integers(1950, 1995, n_households), dtype="Int64"),
            HEAD_EDUCATION_YEARS: pd.array(rng.integers(0, 13, n_households), dtype="Int64"),
            ETHNIC_MINORITY: pd.array(rng.random(n_households) < 0.2, dtype="boolean"),
            POVERTY_EXIT_YEAR: pd.array(
                rng.choice([2016, 2017, 2018, 2019, 2020], n_households), dtype="Int64"
            ),
        }
    )
    personal = pd.DataFrame(
        {
            HEAD_NAME: [f"张{'伟芳娜秀英敏静丽强磊'[i % 10]}" for i in range(n_households)],
            ID_NUMBER: [f"5303{i:010d}1234" for i in range(n_households)],
            "phone": [f"138{i:08d}" for i in range(n_households)],
            "address": ["某地"] * n_households,
        },
        index=pd.Index(ids, name=HOUSEHOLD_ID),
    ).astype("str")
    personal.loc["H0003", HEAD_NAME] = "<b>Li & Sons</b>"
    rows = []
    for household_id in ids:
        size = int(rng.integers(1, 7))
        base = float(rng.lognormal(9.4, 0.5))
        years = range(2023, 2024) if household_id == "H0002" else range(2019, 2024)
        for year in years:
            if household_id == "H0004" and year == 2021:
                continue  # a missing round
            wage = base * size * rng.uniform(0.4, 1.2)
            rows.append(
                {
                    HOUSEHOLD_ID: household_id,
                    YEAR: year,
                    HOUSEHOLD_SIZE: size,
                    **{name: int(rng.integers(0, size + 1)) for name in MEMBER_COUNTS},
                    WAGE_INCOME: wage,
                    BUSINESS_INCOME: float(rng.normal(3000, 4000)),
                    PROPERTY_INCOME: float(rng.uniform(0, 500)),
                    TRANSFER_INCOME: float(rng.uniform(0, 3000)),
                    MEDICAL_EXPENSE: float(rng.exponential(3000)),
                    EDUCATION_EXPENSE: float(rng.exponential(1500)),
                    HOUSING_SAFE: bool(rng.random() > 0.1),
                    WATER_SAFE: bool(rng.random() > 0.1),
                    HAS_MEDICAL_INSURANCE: bool(rng.random() > 0.05),
                }
            )
    household_years = pd.DataFrame(rows)
    household_years.loc[
        (household_years[HOUSEHOLD_ID] == "H0001") & (household_years[YEAR] == 2023), WAGE_INCOME
    ] = np.nan
    household_years = household_years.astype(
        {
            HOUSEHOLD_ID: "str",
            YEAR: "int64",
            HOUSEHOLD_SIZE: "int64",
            **{name: "Int64" for name in MEMBER_COUNTS},
            HOUSING_SAFE: "boolean",
            WATER_SAFE: "boolean",
            HAS_MEDICAL_INSURANCE: "boolean",
        }
    )
    n_events = n_households * 2
    event_types = [
        "illness",
        "injury",
        "job_loss",
        "crop_failure",
        "disaster",
        "death",
        "epidemic_lockdown",
        "other",
        "livestock_loss",
        "chronic_diagnosis",
    ]
    events = pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(rng.choice(ids[5:], n_events), dtype="str"),
            DATE: pd.to_datetime("2021-01-01")
            + pd.to_timedelta(rng.integers(0, 1150, n_events), unit="D"),
            EVENT_TYPE: pd.array(rng.choice(event_types, n_events), dtype="str"),
            COST: np.where(rng.random(n_events) < 0.2, np.nan, rng.exponential(8000, n_events)),
        }
    )
    n_measures = n_households
    start = pd.to_datetime("2020-01-01") + pd.to_timedelta(
        rng.integers(0, 1400, n_measures), unit="D"
    )
    length = pd.to_timedelta(rng.integers(100, 900, n_measures), unit="D")
    end = pd.Series(start + length).where(rng.random(n_measures) < 0.6)
    assistance = pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(rng.choice(ids[5:], n_measures), dtype="str"),
            START_DATE: start,
            END_DATE: end.to_numpy(),
            MEASURE: pd.array(
                rng.choice(
                    [
                        "industrial",
                        "employment",
                        "medical",
                        "minimum_living_allowance",
                        "education",
                    ],
                    n_measures,
                ),
                dtype="str",
            ),
            AMOUNT: rng.uniform(500, 6000, n_measures),
        }
    )
    lines = pd.DataFrame(
        {
            YEAR: pd.Series(dtype="int64"),
            LINE: pd.Series(dtype="float64"),
            COUNTY: pd.Series(dtype="str"),
        }
    )
    return Tables(
        households=households,
        household_years=household_years,
        events=events,
        assistance=assistance,
        lines=lines,
        personal=personal,
    )


def make_model(features: pd.DataFrame, seed: int = 0) -> RiskModel:
    """A tiny booster on ``features`` with a made-up label, Platt-calibrated off the identity."""
    rng = np.random.default_rng(seed)
    numeric = features.select_dtypes("number")
    signal = -numeric.rank(pct=True).iloc[:, : min(6, numeric.shape[1])].fillna(0.5).mean(axis=1)
    label = (signal + rng.normal(0, 0.15, len(features)) > signal.quantile(0.7)).astype(int)
    params = {"num_leaves": 7, "min_data_in_leaf": 5, "min_data_per_group": 5, "cat_smooth": 1.0}
    model = fit_model(features, label, params, seed=seed, num_threads=1, num_boost_round=25)
    return replace(model, calibrator=Calibrator(slope=0.8, intercept=-0.4), version="test-1")


def make_features(tables: Tables, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Hand-made features named like the catalog's (so reason groups come from it), one row
    per household, from the facts the reasons quote; ``village`` categorical."""
    from earlywarn.explain.household_facts import household_facts

    facts = household_facts(tables, as_of)
    features = pd.DataFrame(
        {
            "net_income_per_capita_last_round_yuan": facts["income_per_capita"],
            "income_to_line_ratio_last_round": facts["income_to_line_pct"] / 100,
            "net_income_per_capita_change_yuan": facts["income_per_capita"]
            - facts["previous_income_per_capita"],
            "medical_expense_share_of_income": facts["medical_share_pct"] / 100,
            "n_illness_events_12m": facts["n_health_events_12m"],
            "n_job_loss_events_12m": facts["n_work_events_12m"],
            "n_disaster_events_12m": facts["n_farm_events_12m"],
            "workers_per_member": facts["n_labor"] / facts["household_size"],
            "years_since_exit": facts["years_since_exit"],
            "head_age_years": facts["head_age"].astype("float64"),
            "is_housing_safe": facts["housing_safe"],
            "not_in_the_catalog": np.arange(len(facts), dtype="float64") % 7,
        },
        index=facts.index,
    ).astype("float64")
    features["village"] = pd.Categorical(
        facts["village"].astype(str), categories=sorted(set(VILLAGES))
    )
    return features
