"""Worlds for the generalisation harness: a world is a function ``seed -> WorldData``.

``WORLDS`` names each one. A simulated world returns the oracle's truth; a real panel returns
``truth=None``. New simulator settings plug in as one more entry, e.g.
``WORLDS["harsh_year"] = simulator_world(simulate=lambda n, seed: simulate_tables(n, seed,
settings=...))``: nothing else in the harness changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.config import Population, SimulateConfig
from earlywarn.data.columns import HOUSEHOLD_ID, YEAR
from earlywarn.data.schema import tables_from_frames
from earlywarn.data.tables import Tables
from earlywarn.simulator.households import Simulation, simulate_tables


@dataclass(frozen=True)
class WorldData:
    """One drawn world: validated tables, the oracle's truth (None for real data), the
    population scored, and the seed it was drawn with."""

    world: str
    seed: int
    tables: Tables
    truth: pd.DataFrame | None
    population: Population


World = Callable[[int], WorldData]
Simulate = Callable[[int, int], Simulation]  # (n_households, seed) -> Simulation


def simulator_world(
    name: str = "simulator",
    *,
    n_households: int = 3_000,
    n_oracle_draws: int = 100,
    simulate: Simulate | None = None,
) -> World:
    """earlywarn's simulator (default settings unless ``simulate`` says otherwise)."""

    def draw(seed: int) -> WorldData:
        if simulate is None:
            simulation = simulate_tables(n_households, seed, n_oracle_draws=n_oracle_draws)
        else:
            simulation = simulate(n_households, seed)
        return WorldData(name, seed, simulation.tables, simulation.truth, "exited")

    return draw


# --- a real panel: linearmodels' wage_panel (Vella and Verbeek: 545 US men, 1980-1987) ---

WAGE_PANEL_LINE = 6_000.0  # money is scaled so that the last year's line is this
WAGE_PANEL_LINE_SHARE = 0.5  # the line of a year: this share of that year's median income


def wage_panel_frames(line_share: float = WAGE_PANEL_LINE_SHARE) -> dict[str, pd.DataFrame]:
    """The wage panel as contract frames: one-person households, yearly wage income
    ``exp(lwage) * hours`` scaled so that the last year's line is 6,000, a ``lines`` table
    with a relative line (``line_share`` of each year's median income), no events, nobody
    registered poor (score it with population "all")."""
    from linearmodels.datasets import wage_panel

    panel = wage_panel.load()
    income = np.exp(panel["lwage"].to_numpy()) * panel["hours"].to_numpy()
    line = line_share * pd.Series(income).groupby(panel["year"].to_numpy()).median()
    scale = WAGE_PANEL_LINE / float(line.iloc[-1])
    ids = "W" + panel["nr"].astype(int).astype(str).str.zfill(5)
    first = panel.sort_values("year").drop_duplicates("nr")
    households = pd.DataFrame(
        {
            HOUSEHOLD_ID: "W" + first["nr"].astype(int).astype(str).str.zfill(5),
            "county": "US",
            "village": "US",
            "head_sex": "M",
            "head_birth_year": first["year"] - 6 - first["educ"] - first["exper"],
            "head_education_years": first["educ"],
            "ethnic_minority": (first["black"] == 1) | (first["hisp"] == 1),
            "poverty_exit_year": pd.array([None] * len(first), dtype="Int64"),
        }
    )
    zero = np.zeros(len(panel))
    household_years = pd.DataFrame(
        {
            HOUSEHOLD_ID: ids,
            YEAR: panel["year"].astype(int),
            "household_size": 1,
            "n_labor": 1,
            "n_elderly": 0,
            "n_children": 0,
            "n_students": 0,
            "n_disabled": 0,
            "n_chronic_ill": 0,
            "n_migrant_workers": 0,
            "wage_income": np.round(income * scale, 0),
            "business_income": zero,
            "property_income": zero,
            "transfer_income": zero,
            "medical_expense": zero,
            "education_expense": zero,
            "housing_safe": pd.array([None] * len(panel), dtype="boolean"),
            "water_safe": pd.array([None] * len(panel), dtype="boolean"),
            "has_medical_insurance": pd.array([None] * len(panel), dtype="boolean"),
        }
    )
    lines = pd.DataFrame({YEAR: line.index.astype(int), "line": np.round(line.to_numpy() * scale)})
    return {"households": households, "household_years": household_years, "lines": lines}


def wage_panel_world(line_share: float = WAGE_PANEL_LINE_SHARE) -> World:
    """The real wage panel; the seed changes nothing in the data (it seeds the models)."""

    def draw(seed: int) -> WorldData:
        tables = tables_from_frames(wage_panel_frames(line_share), source="wage_panel")
        return WorldData("wage_panel", seed, tables, None, "all")

    return draw


def settings_world(name: str, settings: SimulateConfig, *, n_oracle_draws: int = 100) -> World:
    """The simulator under deliberately different settings (see :class:`SimulateConfig`)."""

    def simulate(n_households: int, seed: int) -> Simulation:
        return simulate_tables(n_households, seed, n_oracle_draws=n_oracle_draws, settings=settings)

    return simulator_world(name, simulate=simulate)


# Worlds unlike the one earlywarn was designed on: more shocks; slower, more volatile income;
# a thin safety net with most households never registered; a test year harsher than any before.
SETTINGS_WORLDS: dict[str, SimulateConfig] = {
    "shocks": SimulateConfig(shock_rate=1.75),
    "slow_volatile": SimulateConfig(income_growth=-0.03, income_volatility=3.0),
    "thin_net": SimulateConfig(assistance_response=0.3, never_registered_share=0.75),
    "harsh_2025": SimulateConfig(harsh_year=2025),
}

WORLDS: dict[str, World] = {
    "simulator": simulator_world(),
    **{name: settings_world(name, settings) for name, settings in SETTINGS_WORLDS.items()},
    "wage_panel": wage_panel_world(),
}
