"""Poverty by year, the population at an as-of date and its label: the data contract as code.

A household is poor in year Y when its per-capita net income after rigid expenses is below
the line for Y (and its county). ``per_capita_net_income`` is the one home of that income
rule: labels and features both call it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from earlywarn.data.columns import (
    COUNTY,
    DEFAULT_LINES,
    HOUSEHOLD_ID,
    HOUSEHOLD_SIZE,
    INCOME_SOURCES,
    LABEL_POOR,
    LINE,
    POOR,
    POVERTY_EXIT_YEAR,
    RIGID_EXPENSES,
    YEAR,
)
from earlywarn.data.tables import Tables
from earlywarn.errors import EarlywarnError, SchemaError
from earlywarn.features.rounds import as_float, household_codes

log = logging.getLogger(__name__)

Population = Literal["exited", "all"]
POPULATIONS: tuple[Population, ...] = ("exited", "all")
NET_INCOME_PER_CAPITA = "net_income_per_capita"


def per_capita_net_income(household_years: pd.DataFrame) -> pd.Series:
    """Yuan per person per year: (all four incomes - medical - education) / household_size.

    One value per household-year row (same index); NaN when any component is null, since
    then poverty that year is unknown.
    """
    net = np.zeros(len(household_years))
    for name in INCOME_SOURCES:
        net += as_float(household_years[name])
    for name in RIGID_EXPENSES:
        net -= as_float(household_years[name])
    size = as_float(household_years[HOUSEHOLD_SIZE])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_capita = np.where(size >= 1, net / size, np.nan)
    return pd.Series(per_capita, index=household_years.index, name=NET_INCOME_PER_CAPITA)


@dataclass(frozen=True)
class PovertyLines:
    """Yuan per person per year: ``default[year]`` for every county without its own line,
    ``by_county[county][year]`` where the ``lines`` table sets one."""

    default: Mapping[int, float]
    by_county: Mapping[str, Mapping[int, float]] = field(default_factory=dict)

    def lookup(
        self, county_codes: np.ndarray, counties: pd.Index | list[str], years: np.ndarray
    ) -> np.ndarray:
        """The line for each (county, year); ``county_codes`` index into ``counties``.

        Raises SchemaError naming every year that has no line.
        """
        years = np.asarray(years, dtype=np.int64)
        if len(years) == 0:
            return np.empty(0)
        first, last = int(years.min()), int(years.max())
        span = np.arange(first, last + 1)
        counties = list(counties)
        grid = np.tile([self.default.get(int(y), np.nan) for y in span], (len(counties), 1))
        for row, county in enumerate(counties):
            own = self.by_county.get(county, {})
            if not own:
                continue
            for column, year in enumerate(span):
                if int(year) in own:
                    grid[row, column] = own[int(year)]
        lines = grid[county_codes, years - first]
        missing = np.unique(years[np.isnan(lines)])
        if len(missing):
            raise SchemaError(
                f"no poverty line for year(s) {', '.join(map(str, missing.tolist()))}: add them "
                f"to the lines table (columns year, line, optional county); the defaults cover "
                f"{min(self.default)}-{max(self.default)}"
            )
        return lines

    def latest(
        self, county_codes: np.ndarray, counties: pd.Index | list[str], year: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The line in force for ``year`` and the year it was set for, per row: ``year``'s own
        line where one is set, else the latest earlier one (a new year's line is announced
        late; until then the last one stands). For the current rule, never for labels.

        Raises SchemaError when some row has no line in or before ``year``.
        """
        county_codes = np.asarray(county_codes)
        counties = list(counties)
        line_years = np.full(len(county_codes), -1, dtype=np.int64)
        for row, county in enumerate(counties):
            known = set(self.default) | set(self.by_county.get(county, {}))
            earlier = [y for y in known if y <= year]
            if earlier:
                line_years[county_codes == row] = max(earlier)
        if (line_years < 0).any():
            raise SchemaError(
                f"no poverty line in or before {year}: add it to the lines table (columns "
                f"year, line, optional county); the defaults cover "
                f"{min(self.default)}-{max(self.default)}"
            )
        return self.lookup(county_codes, counties, line_years), line_years


def poverty_lines(tables: Tables) -> PovertyLines:
    """The default lines overridden by the ``lines`` table (a county row beats a row without)."""
    default = dict(DEFAULT_LINES)
    by_county: dict[str, dict[int, float]] = {}
    lines = tables.lines
    if lines is None or len(lines) == 0:
        return PovertyLines(default=default)
    county = lines[COUNTY] if COUNTY in lines.columns else pd.Series(pd.NA, index=lines.index)
    for year, line, place in zip(lines[YEAR], lines[LINE], county, strict=True):
        if pd.isna(line):
            raise SchemaError(f"lines: year {year} has an empty line")
        if pd.isna(place):
            default[int(year)] = float(line)
        else:
            by_county.setdefault(str(place), {})[int(year)] = float(line)
    return PovertyLines(default=default, by_county=by_county)


def household_lines(tables: Tables, codes: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The line (yuan per person) for each (household position in tables.households, year)."""
    county_codes, counties = pd.factorize(tables.households[COUNTY])
    return poverty_lines(tables).lookup(county_codes[codes], list(counties), years)


def is_poor(income: np.ndarray, line: np.ndarray) -> np.ndarray:
    """1.0 below the line, 0.0 not, NaN when the income is unknown."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(income), np.nan, (income < line) * 1.0)


@dataclass(frozen=True)
class YearlyPoverty:
    """Poverty of household-year rows as arrays: ``rows`` are positions in the frame given,
    ``code`` positions in tables.households; ``poor`` is 1.0, 0.0 or NaN (unknown)."""

    rows: np.ndarray
    code: np.ndarray
    year: np.ndarray
    income: np.ndarray
    line: np.ndarray
    poor: np.ndarray


def yearly_poverty(tables: Tables, household_years: pd.DataFrame | None = None) -> YearlyPoverty:
    """Income per capita, line and poverty for each row of ``household_years`` (default: all
    of ``tables.household_years``); rows of households not in the table are left out."""
    if household_years is None:
        household_years = tables.household_years
    codes = household_codes(household_years[HOUSEHOLD_ID], tables.households[HOUSEHOLD_ID])
    rows = np.flatnonzero(codes >= 0)
    income = per_capita_net_income(household_years).to_numpy()[rows]
    years = household_years[YEAR].to_numpy(dtype=np.int64)[rows]
    line = household_lines(tables, codes[rows], years)
    return YearlyPoverty(
        rows=rows,
        code=codes[rows],
        year=years,
        income=income,
        line=line,
        poor=is_poor(income, line),
    )


def poverty_by_year(tables: Tables) -> pd.DataFrame:
    """One row per household-year: household_id, year, net_income_per_capita (yuan per
    person), line (yuan per person) and ``poor`` (boolean, NA when income is unknown)."""
    yearly = yearly_poverty(tables)
    ids = tables.households[HOUSEHOLD_ID].to_numpy()[yearly.code]
    poor = pd.array(yearly.poor, dtype="Float64").astype("boolean")
    return pd.DataFrame(
        {
            HOUSEHOLD_ID: pd.array(ids, dtype=tables.households[HOUSEHOLD_ID].dtype),
            YEAR: yearly.year,
            NET_INCOME_PER_CAPITA: yearly.income,
            LINE: yearly.line,
            POOR: poor,
        }
    )


def _poverty_in(tables: Tables, year: int) -> np.ndarray:
    """Per household (tables.households order): 1.0 poor in ``year``, 0.0 not, NaN unknown."""
    household_years = tables.household_years
    needed = [HOUSEHOLD_ID, YEAR, HOUSEHOLD_SIZE, *INCOME_SOURCES, *RIGID_EXPENSES]
    rows = household_years[needed][household_years[YEAR].to_numpy() == year]
    yearly = yearly_poverty(tables, rows)
    poor = np.full(len(tables.households), np.nan)
    poor[yearly.code] = yearly.poor
    return poor


def _target_year(as_of: pd.Timestamp | str) -> int:
    return pd.Timestamp(as_of).year


def population(
    tables: Tables, as_of: pd.Timestamp | str, *, population: Population = "exited"
) -> pd.Index:
    """Household ids to warn about at ``as_of`` (Y = its year), in tables.households order.

    ``exited``: not poor in Y-1 (known) and lifted out of poverty in Y-1 or before.
    ``all``: every household not poor in Y-1 (new poverty as well as return to poverty).
    """
    return _select_population(tables, as_of, population)


def _select_population(
    tables: Tables, as_of: pd.Timestamp | str, population: Population
) -> pd.Index:
    if population not in POPULATIONS:
        raise EarlywarnError(f"population must be one of {POPULATIONS}, not {population!r}")
    year = _target_year(as_of)
    households = tables.households
    keep = _poverty_in(tables, year - 1) == 0.0
    if population == "exited":
        exit_year = as_float(households[POVERTY_EXIT_YEAR])
        with np.errstate(invalid="ignore"):
            keep &= exit_year <= year - 1
    ids = pd.Index(households[HOUSEHOLD_ID][keep], name=HOUSEHOLD_ID)
    log.info(
        "population %s at %s: %d of %d households",
        population,
        pd.Timestamp(as_of).date(),
        len(ids),
        len(households),
    )
    return ids


def make_labels(
    tables: Tables, as_of: pd.Timestamp | str, *, population: Population = "exited"
) -> pd.Series:
    """``label_poor`` for each household of the population: poor in Y = year(as_of)?

    Boolean, NA when Y is not known (no round in Y yet, or a null component in it).
    """
    ids = _select_population(tables, as_of, population)
    poor = pd.Series(
        _poverty_in(tables, _target_year(as_of)),
        index=pd.Index(tables.households[HOUSEHOLD_ID], name=HOUSEHOLD_ID),
    )
    label = pd.array(poor.reindex(ids).to_numpy(), dtype="Float64").astype("boolean")
    return pd.Series(label, index=ids, name=LABEL_POOR)
