"""Labels and population: the data contract's poverty rule, lines, population and label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlywarn.data.columns import DEFAULT_LINES, HOUSEHOLD_ID, LABEL_POOR
from earlywarn.errors import EarlywarnError, SchemaError
from earlywarn.features.labels import (
    make_labels,
    per_capita_net_income,
    population,
    poverty_by_year,
    poverty_lines,
)
from feature_frames import make_tables

HOUSEHOLDS = [
    {HOUSEHOLD_ID: "A", "county": "C1", "village": "V1", "poverty_exit_year": 2020},
    {HOUSEHOLD_ID: "B", "county": "C1", "village": "V2", "poverty_exit_year": 2023},
    {HOUSEHOLD_ID: "C", "county": "C2", "village": "V1"},  # never registered poor
    {HOUSEHOLD_ID: "D", "county": "C2", "village": "V1", "poverty_exit_year": 2024},
]


def rounds(household: str, incomes: dict[int, float | None], size: int = 2) -> list[dict]:
    return [
        {HOUSEHOLD_ID: household, "year": year, "household_size": size, "wage_income": income}
        for year, income in incomes.items()
    ]


def test_per_capita_net_income_follows_the_contract_formula():
    tables = make_tables(
        HOUSEHOLDS[:1],
        [
            {
                HOUSEHOLD_ID: "A",
                "year": 2023,
                "household_size": 4,
                "wage_income": 20000.0,
                "business_income": -1000.0,
                "property_income": 500.0,
                "transfer_income": 1500.0,
                "medical_expense": 3000.0,
                "education_expense": 2000.0,
            }
        ],
    )
    income = per_capita_net_income(tables.household_years)
    assert income.iloc[0] == pytest.approx((20000 - 1000 + 500 + 1500 - 3000 - 2000) / 4)


@pytest.mark.parametrize(
    "column",
    [
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "medical_expense",
        "education_expense",
    ],
)
def test_a_null_component_makes_income_unknown(column):
    tables = make_tables(HOUSEHOLDS[:1], [{HOUSEHOLD_ID: "A", "year": 2023, column: None}])
    assert np.isnan(per_capita_net_income(tables.household_years).iloc[0])
    assert pd.isna(poverty_by_year(tables)["poor"].iloc[0])


def test_poverty_by_year_uses_default_lines_and_strict_below():
    line = DEFAULT_LINES[2023]
    tables = make_tables(HOUSEHOLDS[:1], rounds("A", {2022: 2 * line, 2023: 2 * line}))
    by_year = poverty_by_year(tables).set_index("year")
    assert by_year.loc[2023, "line"] == line
    assert not by_year.loc[2023, "poor"]  # exactly at the line is not below it
    assert by_year["poor"].dtype == "boolean"
    assert list(by_year.columns) == [HOUSEHOLD_ID, "net_income_per_capita", "line", "poor"]


def test_lines_table_overrides_defaults_and_county_rows_win():
    tables = make_tables(
        HOUSEHOLDS[:3],
        rounds("A", {2023: 15000.0}) + rounds("C", {2023: 15000.0}),
        lines=[
            {"year": 2023, "line": 7000.0, "county": None},
            {"year": 2023, "line": 8050.0, "county": "C2"},
        ],
    )
    by_year = poverty_by_year(tables).set_index(HOUSEHOLD_ID)
    assert by_year.loc["A", "line"] == 7000.0 and not by_year.loc["A", "poor"]
    assert by_year.loc["C", "line"] == 8050.0 and by_year.loc["C", "poor"]
    lines = poverty_lines(tables)
    assert lines.default[2022] == DEFAULT_LINES[2022]


def test_a_year_without_a_line_is_an_error_naming_it():
    tables = make_tables(HOUSEHOLDS[:1], rounds("A", {2013: 9000.0, 2023: 9000.0}))
    with pytest.raises(SchemaError, match="2013"):
        poverty_by_year(tables)
    with_line = make_tables(
        HOUSEHOLDS[:1],
        rounds("A", {2013: 9000.0}),
        lines=[{"year": 2013, "line": 2736.0, "county": None}],
    )
    assert poverty_by_year(with_line)["line"].iloc[0] == 2736.0


def test_population_exited_and_all():
    high, low = 20000.0, 1000.0
    tables = make_tables(
        HOUSEHOLDS,
        [
            *rounds("A", {2023: high, 2024: high}),
            *rounds("B", {2023: high}),  # exited 2023, not poor in 2023
            *rounds("C", {2023: high, 2024: low}),
            *rounds("D", {2023: high}),  # exit year 2024 = Y: not yet exited before Y
        ],
    )
    assert list(population(tables, "2024-03-01")) == ["A", "B"]
    assert list(population(tables, "2024-03-01", population="all")) == ["A", "B", "C", "D"]
    assert list(population(tables, "2025-01-01")) == ["A"]  # C poor in 2024, B/D no round
    with pytest.raises(EarlywarnError, match="population"):
        population(tables, "2024-03-01", population="everyone")  # type: ignore[arg-type]


def test_unknown_poverty_last_year_keeps_a_household_out():
    tables = make_tables(HOUSEHOLDS[:1], rounds("A", {2023: None}))
    assert len(population(tables, "2024-06-01")) == 0


def test_labels_are_poverty_in_the_target_year_and_na_when_unknown():
    high, low = 20000.0, 1000.0
    tables = make_tables(
        HOUSEHOLDS,
        [
            *rounds("A", {2023: high, 2024: low}),
            *rounds("B", {2022: high, 2023: high, 2024: None}),
            *rounds("C", {2023: high, 2024: high}),
        ],
    )
    labels = make_labels(tables, "2024-07-01", population="all")
    assert labels.name == LABEL_POOR and labels.dtype == "boolean"
    assert labels.index.name == HOUSEHOLD_ID
    assert labels["A"]
    assert pd.isna(labels["B"])
    assert not labels["C"]
    future = make_labels(tables, "2025-01-01", population="all")
    assert future.isna().all()


def test_population_and_labels_match_the_simulators_truth(simulation):
    tables, truth = simulation.tables, simulation.truth
    for as_of, expected in truth.groupby("as_of"):
        households = population(tables, as_of)
        assert sorted(households) == sorted(expected[HOUSEHOLD_ID]), as_of
        labels = make_labels(tables, as_of)
        truth_poor = expected.set_index(HOUSEHOLD_ID)["poor"].reindex(labels.index)
        known = labels.notna().to_numpy()
        assert (labels[known].astype(bool) == truth_poor[known].astype(bool)).all(), as_of
