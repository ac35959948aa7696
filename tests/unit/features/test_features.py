"""Point-in-time features: leakage-proof, order-free, slice-free, equal to the plain version."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlywarn.data.columns import COUNTY, EVENT_TYPES, HOUSEHOLD_ID, MEASURES, VILLAGE, YEAR
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError
from earlywarn.features.build import build_features
from earlywarn.features.catalog import FEATURE_NAMES, FEATURES
from earlywarn.features.labels import population
from earlywarn.features.monitoring import monitoring_status
from earlywarn.features.place import place_rates
from feature_frames import make_tables, random_tables
from monitoring_frames import MONITORING_OPERATIONS, future_monitoring_change, with_monitoring
from plain_features import plain_build_features


@pytest.fixture(scope="module")
def random_world() -> Tables:
    return with_monitoring(random_tables(n_households=40, seed=3), seed=3)


def assert_same_features(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9, atol=1e-9)


def all_ids(tables: Tables) -> pd.Index:
    return pd.Index(tables.households[HOUSEHOLD_ID], name=HOUSEHOLD_ID)


# --- shape and types ---------------------------------------------------------------------


def test_columns_are_the_catalog_in_order_and_typed_for_lightgbm(random_world):
    features = build_features(random_world, as_of="2024-03-01", households=all_ids(random_world))
    assert tuple(features.columns) == FEATURE_NAMES
    assert features.index.name == HOUSEHOLD_ID
    assert (features.dtypes == "float64").all()
    assert COUNTY not in features and VILLAGE not in features  # place enters by its rates


def test_default_rows_are_the_population(random_world):
    as_of = pd.Timestamp("2023-07-01")
    features = build_features(random_world, as_of=as_of)
    assert list(features.index) == list(population(random_world, as_of))


def test_empty_population_gives_an_empty_typed_frame(random_world):
    features = build_features(random_world, as_of="2024-03-01", households=[])
    assert len(features) == 0 and tuple(features.columns) == FEATURE_NAMES


def test_unknown_household_is_an_error(random_world):
    with pytest.raises(EarlywarnError, match="not in the households table"):
        build_features(random_world, as_of="2024-03-01", households=["nobody"])


# --- equal to the plain per-household version ----------------------------------------------


@pytest.mark.parametrize("as_of", ["2021-01-01", "2023-07-15", "2025-02-28", "2025-12-31"])
def test_vectorised_features_equal_the_plain_per_household_version(random_world, as_of):
    ids = all_ids(random_world)
    assert_same_features(
        build_features(random_world, as_of=as_of, households=ids),
        plain_build_features(random_world, as_of=as_of, households=ids),
    )


def test_simulated_features_equal_the_plain_version(simulation):
    tables = simulation.tables
    as_of = pd.Timestamp("2024-07-01")
    features = build_features(tables, as_of=as_of)
    assert len(features) > 20
    expected = plain_build_features(tables, as_of=as_of, households=features.index)
    assert_same_features(features, expected)


# --- slices ------------------------------------------------------------------------------


def test_any_slice_gives_the_same_rows_as_all(random_world):
    as_of = pd.Timestamp("2024-05-01")
    everyone = build_features(random_world, as_of=as_of, households=all_ids(random_world))
    places = place_rates(random_world, as_of)
    for _county, part in random_world.households.groupby(COUNTY):
        ids = pd.Index(part[HOUSEHOLD_ID], name=HOUSEHOLD_ID)[::-1]
        assert_same_features(
            build_features(random_world, as_of=as_of, households=ids), everyone.loc[ids]
        )
        assert_same_features(
            build_features(random_world, as_of=as_of, households=ids, places=places),
            everyone.loc[ids],
        )


# --- edge cases: one survey year, null income, no events -----------------------------------

HOUSEHOLD = {
    HOUSEHOLD_ID: "A",
    "county": "C1",
    "village": "V1",
    "poverty_exit_year": 2020,
    "head_sex": "F",
    "head_birth_year": 1970,
}


def test_one_survey_year_null_income_and_no_events():
    tables = make_tables(
        [HOUSEHOLD, {**HOUSEHOLD, HOUSEHOLD_ID: "B"}],
        [
            {
                HOUSEHOLD_ID: "A",
                "year": 2023,
                "household_size": 4,
                "wage_income": 40000.0,
                "medical_expense": 4000.0,
                "n_labor": 2,
                "n_elderly": 1,
                "n_children": 1,
            },
            {HOUSEHOLD_ID: "B", "year": 2023, "wage_income": None},
        ],
    )
    features = build_features(tables, as_of="2024-03-01", households=["A", "B"])
    a, b = features.loc["A"], features.loc["B"]
    assert a["net_income_per_capita_last_round_yuan"] == 9000.0
    assert a["income_to_line_ratio_last_round"] == pytest.approx(9000.0 / 6900.0)
    assert a["n_rounds_known"] == 1.0 and a["years_since_last_round"] == 1.0
    for single_round_unknown in (
        "income_per_capita_slope_5_rounds",
        "income_per_capita_cv_5_rounds",
        "net_income_per_capita_change_yuan",
        "wage_income_change_yuan",
        "n_rounds_since_last_poor",
    ):
        assert np.isnan(a[single_round_unknown]), single_round_unknown
    assert a["medical_expense_share_of_income"] == pytest.approx(0.1)
    assert a["dependant_share"] == 0.5 and a["workers_per_member"] == 0.5
    assert a["head_age_years"] == 54.0 and a["is_head_female"] == 1.0
    assert a["years_since_exit"] == 4.0 and a["n_times_poor_again_since_exit"] == 0.0
    # null income: unknown, not zero
    assert np.isnan(b["net_income_per_capita_last_round_yuan"])
    assert np.isnan(b["wage_income_share"])
    assert b["village_poverty_rate_last_year"] == 0.0  # the village's rate is known from A
    # no events, no assistance: counts are truly zero, "days since" unknown
    for event_type in EVENT_TYPES:
        assert a[f"n_{event_type}_events_12m"] == 0.0
        assert np.isnan(a[f"days_since_last_{event_type}"])
    assert a["event_cost_12m_yuan"] == 0.0 and a["n_events_this_year"] == 0.0
    assert a["months_on_min_living_allowance"] == 0.0
    assert np.isnan(a["days_since_assistance_ended"])
    assert a["village_poverty_rate_last_year"] == 0.0  # A known not poor, B unknown


def test_no_rounds_at_all_gives_unknowns_but_zero_counts():
    tables = make_tables([HOUSEHOLD], [{HOUSEHOLD_ID: "A", "year": 2024}])
    row = build_features(tables, as_of="2024-03-01", households=["A"]).loc["A"]
    assert row["n_rounds_known"] == 0.0
    assert np.isnan(row["net_income_per_capita_last_round_yuan"])
    assert np.isnan(row["village_poverty_rate_last_year"])
    assert row["n_times_poor_again_since_exit"] == 0.0


def test_windows_are_strictly_before_as_of_and_costs_stay_unknown():
    events = [
        {HOUSEHOLD_ID: "A", "date": "2024-03-01", "event_type": "illness", "cost": 100.0},
        {HOUSEHOLD_ID: "A", "date": "2024-02-29", "event_type": "illness", "cost": None},
        {HOUSEHOLD_ID: "A", "date": "2023-12-01", "event_type": "job_loss", "cost": None},
        {HOUSEHOLD_ID: "A", "date": "2022-06-01", "event_type": "illness", "cost": 50.0},
    ]
    assistance = [
        {
            HOUSEHOLD_ID: "A",
            "start_date": "2022-03-01",
            "end_date": "2024-06-30",
            "measure": "minimum_living_allowance",
            "amount": 1200.0,
        },
        {
            HOUSEHOLD_ID: "A",
            "start_date": "2021-01-01",
            "end_date": "2023-09-01",
            "measure": "employment",
            "amount": None,
        },
        {
            HOUSEHOLD_ID: "A",
            "start_date": "2024-03-01",
            "end_date": None,
            "measure": "housing",
            "amount": 999.0,
        },
    ]
    tables = make_tables([HOUSEHOLD], [{HOUSEHOLD_ID: "A", "year": 2023}], events, assistance)
    row = build_features(tables, as_of="2024-03-01", households=["A"]).loc["A"]
    assert row["n_illness_events_3m"] == 1.0
    assert row["n_illness_events_36m"] == 2.0
    assert row["days_since_last_illness"] == 1.0
    assert row["n_illness_events_this_year"] == 1.0 and row["n_events_this_year"] == 1.0
    assert row["n_job_loss_events_3m"] == 1.0 and row["n_job_loss_events_this_year"] == 0.0
    assert np.isnan(row["event_cost_12m_yuan"]) and row["n_events_unknown_cost_12m"] == 2.0
    assert row["is_minimum_living_allowance_running"] == 1.0  # ends after d: running at d
    assert row["is_employment_running"] == 0.0 and row["is_housing_running"] == 0.0
    assert row["assistance_amount_running_yuan"] == 1200.0
    assert row["months_on_min_living_allowance"] == pytest.approx(731 / (365.25 / 12))
    assert row["n_assistance_ended_12m"] == 1.0
    assert row["days_since_assistance_ended"] == 182.0


# --- the property: nothing from on or after d, no order ------------------------------------


def _future_changes(
    tables: Tables, as_of: pd.Timestamp, operations: list[str], seed: int
) -> Tables:
    """Change, add or delete only what is dated on or after ``as_of`` (or rounds >= Y)."""
    rng = np.random.default_rng(seed)
    year = as_of.year
    rounds, events, assistance = tables.household_years, tables.events, tables.assistance
    ids = tables.households[HOUSEHOLD_ID].to_numpy()

    def later(n: int) -> pd.Series:
        return pd.Series(as_of + pd.to_timedelta(rng.integers(0, 800, n), unit="D")).astype(
            "datetime64[us]"
        )

    for operation in [o for o in operations if o in MONITORING_OPERATIONS]:
        tables = future_monitoring_change(tables, as_of, operation, rng)
    if "monitoring_on_the_day" in operations:
        tables = _monitoring_on_the_day(tables, as_of, rng)
    for operation in [o for o in operations if o not in (*MONITORING_OPERATIONS, *ON_THE_DAY)]:
        future_rounds = rounds[YEAR] >= year
        future_events = events["date"] >= as_of
        future_assistance = assistance["start_date"] >= as_of
        if operation == "add_rounds":
            extra = rounds.sample(5, random_state=seed).assign(**{YEAR: year + 1})
            extra = extra.drop_duplicates([HOUSEHOLD_ID])
            extra = extra[
                ~extra.set_index([HOUSEHOLD_ID, YEAR]).index.isin(
                    rounds.set_index([HOUSEHOLD_ID, YEAR]).index
                )
            ]
            rounds = pd.concat([rounds, extra], ignore_index=True)
        elif operation == "change_rounds":
            rounds = rounds.copy()
            rounds.loc[future_rounds, "wage_income"] = 0.0
            rounds.loc[future_rounds, "n_labor"] = pd.NA
        elif operation == "drop_rounds":
            rounds = rounds[~future_rounds]
        elif operation == "add_events":
            extra = pd.DataFrame(
                {
                    HOUSEHOLD_ID: pd.array(rng.choice(ids, 6), dtype="str"),
                    "date": later(6),
                    "event_type": pd.array(rng.choice(EVENT_TYPES, 6), dtype="str"),
                    "cost": rng.gamma(1.0, 5000.0, 6),
                }
            )
            events = pd.concat([events, extra], ignore_index=True)
        elif operation == "change_events":
            events = events.copy()
            events.loc[future_events, "event_type"] = "death"
            events.loc[future_events, "cost"] = np.nan
        elif operation == "drop_events":
            events = events[~future_events]
        elif operation == "add_assistance":
            extra = pd.DataFrame(
                {
                    HOUSEHOLD_ID: pd.array(rng.choice(ids, 4), dtype="str"),
                    "start_date": later(4),
                    "end_date": later(4),
                    "measure": pd.array(rng.choice(MEASURES, 4), dtype="str"),
                    "amount": rng.gamma(1.0, 2000.0, 4),
                }
            )
            assistance = pd.concat([assistance, extra], ignore_index=True)
        elif operation == "change_end_dates":
            assistance = assistance.copy()
            ends_later = assistance["end_date"] >= as_of
            n = int(ends_later.sum())
            new_end = later(n).to_numpy().copy()
            new_end[rng.random(n) < 0.5] = np.datetime64("NaT")
            assistance.loc[ends_later, "end_date"] = new_end
            assistance.loc[future_assistance, "measure"] = "other"
        elif operation == "drop_assistance":
            assistance = assistance[~future_assistance]
        elif operation == "shuffle":

            def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
                return frame.sample(frac=1.0, random_state=seed)

            return replace(
                tables,
                households=shuffled(tables.households),
                monitoring=shuffled(tables.monitoring),
                visits=shuffled(tables.visits),
                household_years=shuffled(rounds),
                events=shuffled(events),
                assistance=shuffled(assistance),
            )
    return replace(tables, household_years=rounds, events=events, assistance=assistance)


MONITORING_FEATURES = [s.name for s in FEATURES if s.reason_group == "monitoring"]


def test_the_random_world_exercises_the_monitoring_features(random_world):
    """The property below is not vacuous: monitored, exited and visited households exist."""
    features = build_features(random_world, as_of="2023-07-01", households=all_ids(random_world))
    monitoring = features[MONITORING_FEATURES]
    assert 0 < monitoring["is_monitored"].sum() < len(features)
    assert monitoring["days_since_monitoring_exit"].notna().any()
    assert (monitoring["n_monitoring_spells_entered"] >= 2).any()
    for name in MONITORING_FEATURES:
        assert monitoring[name].nunique() > 1, name


ON_THE_DAY = ["monitoring_on_the_day"]


def _monitoring_on_the_day(tables: Tables, as_of: pd.Timestamp, rng: np.random.Generator) -> Tables:
    """Spells entered, running spells exited and visits made on ``as_of`` itself (the edge)."""
    day = pd.Series([as_of] * 3, dtype="datetime64[us]")
    ids = pd.array(rng.choice(tables.households[HOUSEHOLD_ID].to_numpy(), 3), dtype="str")
    spells = tables.monitoring.copy()
    running = (spells["entered"] < as_of) & ~(spells["exited"] < as_of)
    spells.loc[running, "exited"] = as_of
    spells.loc[running, "exit_reason"] = "risk_eliminated"
    entered = tables.monitoring.iloc[:0].reindex(range(3))
    entered = entered.assign(household_id=ids, entered=day, category="sudden_hardship")
    visits = tables.visits.iloc[:0].reindex(range(3))
    visits = visits.assign(household_id=ids, visit_date=day, outcome="confirmed")
    return replace(
        tables,
        monitoring=pd.concat([spells, entered.astype(spells.dtypes)], ignore_index=True),
        visits=pd.concat([tables.visits, visits.astype(tables.visits.dtypes)], ignore_index=True),
    )


OPERATIONS = [
    "add_rounds",
    "change_rounds",
    "drop_rounds",
    "add_events",
    "change_events",
    "drop_events",
    "add_assistance",
    "change_end_dates",
    "drop_assistance",
    "shuffle",
    *MONITORING_OPERATIONS,
    *ON_THE_DAY,
]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.integers(min_value=0, max_value=365 * 6 + 200),
    operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_nothing_dated_on_or_after_as_of_changes_any_feature(random_world, days, operations, seed):
    as_of = pd.Timestamp("2019-01-01") + pd.Timedelta(days=days)
    changed = _future_changes(random_world, as_of, operations, seed)
    expected = build_features(random_world, as_of=as_of, households=all_ids(random_world))
    actual = build_features(changed, as_of=as_of, households=all_ids(random_world))
    assert_same_features(actual, expected)
    assert set(MONITORING_FEATURES) <= set(actual.columns)  # the monitoring cycle's too
    assert sorted(population(changed, as_of)) == sorted(population(random_world, as_of))
    ids = all_ids(random_world)
    pd.testing.assert_frame_equal(
        monitoring_status(changed, as_of, ids), monitoring_status(random_world, as_of, ids)
    )
    default = build_features(changed, as_of=as_of)
    assert_same_features(
        default.sort_index(), build_features(random_world, as_of=as_of).sort_index()
    )
