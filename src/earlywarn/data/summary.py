"""What a data directory holds, in counts: what ``earlywarn validate`` prints."""

from __future__ import annotations

from dataclasses import dataclass

from earlywarn.data.columns import COUNTY, EVENT_TYPE, MEASURE, VILLAGE, YEAR
from earlywarn.data.tables import Tables


@dataclass(frozen=True)
class Summary:
    """What a data directory holds, in counts (no data rows)."""

    n_households: int
    n_counties: int
    n_villages: int
    n_rounds: int
    first_year: int | None
    last_year: int | None
    rounds_by_year: dict[int, int]
    events_by_type: dict[str, int]
    assistance_by_measure: dict[str, int]
    n_line_overrides: int
    personal_columns: tuple[str, ...]


def summarize(tables: Tables) -> Summary:
    """Counts of households, survey rounds per year, events by type, assistance by measure."""
    years = tables.household_years[YEAR]
    return Summary(
        n_households=len(tables.households),
        n_counties=int(tables.households[COUNTY].nunique()),
        n_villages=int(tables.households[[COUNTY, VILLAGE]].drop_duplicates().shape[0]),
        n_rounds=len(tables.household_years),
        first_year=int(years.min()) if len(years) else None,
        last_year=int(years.max()) if len(years) else None,
        rounds_by_year={int(y): int(n) for y, n in years.value_counts().sort_index().items()},
        events_by_type={
            str(k): int(v) for k, v in tables.events[EVENT_TYPE].value_counts().items()
        },
        assistance_by_measure={
            str(k): int(v) for k, v in tables.assistance[MEASURE].value_counts().items()
        },
        n_line_overrides=len(tables.lines),
        personal_columns=tuple(str(c) for c in tables.personal.columns),
    )
