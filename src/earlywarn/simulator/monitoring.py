"""The monitoring cycle of the simulated world: triggers, home visits, spells, exits.

From April 2020 (when the monitoring mechanism began) to December 2025, month by month and
vectorised over households, a county's team works as the current rule tells it to:

- **triggers**: each March, once the last survey round is in, households whose observed
  per-capita income is below 1.5 times the line (the rule's income trigger); every month,
  households with a serious shock (illness, injury, disability, death, disaster, job loss)
  reported the month before (its shock trigger); and households in real hardship that apply
  themselves (a small share a month of those truly below the line this year);
- **visits**: the team visits a share of the triggered households not already monitored
  and not visited in the last six months; 8% cannot be reached; the others are confirmed
  with probability 0.85 when truly near or below the line this year (below 1.15 times it), and
  0.12 otherwise (realistic noise both ways); a confirmed visit lists the risk types of the
  past year's events and the measures that answer them;
- **spells**: a confirmed household enters monitoring one to six weeks later, as ``unstable``
  if it was registered as lifted out of poverty, ``sudden_hardship`` after a costly shock,
  ``edge`` otherwise;
- **exits**: each spring, a monitored household whose observed per-capita income of the last
  closed year was above the line, and which had been monitored since before July of that year,
  has its risk declared eliminated (with probability 0.8: some are kept on for longer).

The cycle only observes the world (it draws from its own generator and changes no income), so
the other tables and the oracle's truth are the same with or without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from earlywarn.data import columns as c
from earlywarn.data import monitoring as m
from earlywarn.features.labels import per_capita_net_income

FIRST_MONTH = (2020, 4)
INCOME_MARGIN = 1.5  # the rule: last income below 1.5 x the line
SERIOUS = ("illness", "injury", "disability", "death", "disaster", "job_loss")
P_VISIT_INCOME = 0.30  # share of income-triggered households visited after the round
P_VISIT_SHOCK = 0.30  # share of shock-triggered households visited the next month
P_APPLY = 0.01  # households truly below the line that apply themselves, per month
P_UNREACHABLE = 0.08
P_CONFIRM_AT_RISK, P_CONFIRM_NOT = 0.85, 0.12
AT_RISK_MARGIN = 1.15
P_EXIT = 0.8
REVISIT_MONTHS = 6
COSTLY_SHOCK = 10_000.0  # yuan: a shock this costly makes a sudden-hardship case

#: event type -> the risk type it shows; risk type -> the measures that answer it
RISK_OF_EVENT = {
    "illness": "illness",
    "chronic_diagnosis": "illness",
    "injury": "accident",
    "disability": "disability",
    "death": "lack_of_labor",
    "job_loss": "employment",
    "epidemic_lockdown": "employment",
    "crop_failure": "business_failure",
    "livestock_loss": "business_failure",
    "disaster": "disaster",
    "other": "other",
}
MEASURES_OF_RISK = {
    "illness": ("medical", "insurance"),
    "accident": ("medical",),
    "disability": ("minimum_living_allowance",),
    "lack_of_labor": ("minimum_living_allowance",),
    "employment": ("employment",),
    "business_failure": ("industrial",),
    "disaster": ("housing",),
    "education": ("education",),
    "other": ("industrial",),
}


@dataclass(frozen=True)
class Cycle:
    """The cycle's tables: ``monitoring`` (one row per spell) and ``visits`` (one per visit),
    as the data contract has them."""

    monitoring: pd.DataFrame
    visits: pd.DataFrame


def monitoring_cycle(
    households: pd.DataFrame,
    household_years: pd.DataFrame,
    events: pd.DataFrame,
    true_per_capita: Mapping[int, np.ndarray],
    lines: Mapping[int, float],
    seed: np.random.SeedSequence | int,
) -> Cycle:
    """Run the cycle over ``households`` (rows in the order of ``true_per_capita``'s arrays:
    each year's true per-capita net income, yuan per person) from April 2020 to 2025."""
    rng = np.random.default_rng(seed)
    ids = households[c.HOUSEHOLD_ID].astype(str).to_numpy()
    n = len(ids)
    registered = households[c.POVERTY_EXIT_YEAR].notna().to_numpy()
    observed = _observed_per_capita(household_years, ids)
    months = _months(max(true_per_capita))
    shocks = _shock_months(events, ids, months)
    book = _Book(n)
    last_visit = np.full(n, -(10**6))
    for index, (year, month) in enumerate(months):
        first_day = pd.Timestamp(year, month, 1)
        line = lines[year]
        if month == 3 or (year, month) == FIRST_MONTH:
            _exits(book, observed.get(year - 1), lines[year - 1], year, rng)
        triggered = np.zeros(n, bool)
        if month == 3 or (year, month) == FIRST_MONTH:
            income = observed.get(year - 1, np.full(n, np.nan))
            near = np.nan_to_num(income, nan=np.inf) < INCOME_MARGIN * line
            triggered |= near & (rng.random(n) < P_VISIT_INCOME)
        shocked = shocks.recent[index]
        triggered |= shocked & (rng.random(n) < P_VISIT_SHOCK)
        truly = true_per_capita[year]
        triggered |= (truly < line) & (rng.random(n) < P_APPLY)
        due = triggered & ~book.monitored & (index - last_visit >= REVISIT_MONTHS)
        visited = np.flatnonzero(due)
        if not len(visited):
            continue
        last_visit[visited] = index
        days = first_day + pd.to_timedelta(rng.integers(0, 28, len(visited)), unit="D")
        at_risk = truly[visited] < AT_RISK_MARGIN * line
        draw = rng.random(len(visited))
        unreachable = draw < P_UNREACHABLE
        p_confirm = np.where(at_risk, P_CONFIRM_AT_RISK, P_CONFIRM_NOT)
        confirmed = ~unreachable & (rng.random(len(visited)) < p_confirm)
        risks = [shocks.risk_types(int(h), index) for h in visited]
        book.visit(visited, days, unreachable, confirmed, risks)
        costly = shocks.costly[index][visited]
        category = np.where(
            registered[visited], "unstable", np.where(costly, "sudden_hardship", "edge")
        )
        entered = days + pd.to_timedelta(rng.integers(7, 43, len(visited)), unit="D")
        for k in np.flatnonzero(confirmed):
            book.enter(visited[k], entered[k], str(category[k]), risks[k])
    return Cycle(book.monitoring_table(ids, months), book.visits_table(ids))


def _months(last_year: int) -> list[tuple[int, int]]:
    first_year, first_month = FIRST_MONTH
    return [
        (year, month)
        for year in range(first_year, last_year + 1)
        for month in range(1, 13)
        if (year, month) >= FIRST_MONTH
    ] or [(first_year, first_month)]


def _observed_per_capita(household_years: pd.DataFrame, ids: np.ndarray) -> dict[int, np.ndarray]:
    """Each year's surveyed per-capita net income per household (NaN: not surveyed, unknown)."""
    rounds = household_years.assign(_pc=per_capita_net_income(household_years))
    table = rounds.pivot_table(index=c.HOUSEHOLD_ID, columns=c.YEAR, values="_pc", dropna=False)
    table = table.reindex(pd.Index(ids, dtype="str"))
    return {int(year): table[year].to_numpy(dtype=float) for year in table.columns}


@dataclass(frozen=True)
class _Shocks:
    """Per cycle month: households with a serious shock the month before (``recent``), with
    one costing at least COSTLY_SHOCK (``costly``); each household's events for risk types."""

    recent: np.ndarray  # months x households, bool
    costly: np.ndarray  # months x households, bool
    by_household: dict[int, list[tuple[int, str]]]  # household row -> (month index, type)

    def risk_types(self, household: int, index: int) -> list[str]:
        """The risk types shown by the household's events of the twelve months before."""
        found = [
            RISK_OF_EVENT[kind]
            for month, kind in self.by_household.get(household, [])
            if index - 12 <= month < index
        ]
        return list(dict.fromkeys(found))


def _shock_months(events: pd.DataFrame, ids: np.ndarray, months: list[tuple[int, int]]) -> _Shocks:
    first_year, first_month = months[0]
    row = pd.Index(ids).get_indexer(events[c.HOUSEHOLD_ID].astype(str))
    dates = pd.to_datetime(events[c.DATE])
    index = ((dates.dt.year - first_year) * 12 + dates.dt.month - first_month).to_numpy()
    kinds = events[c.EVENT_TYPE].astype(str).to_numpy()
    costs = events[c.COST].astype(float).fillna(0.0).to_numpy()
    recent = np.zeros((len(months), len(ids)), bool)
    costly = np.zeros_like(recent)
    serious = np.isin(kinds, SERIOUS) & (row >= 0)
    after = index + 1  # reported last month: triggers this month
    inside = serious & (after >= 0) & (after < len(months))
    recent[after[inside], row[inside]] = True
    big = inside & (costs >= COSTLY_SHOCK)
    costly[after[big], row[big]] = True
    by_household: dict[int, list[tuple[int, str]]] = {}
    for h, month, kind in zip(row[row >= 0], index[row >= 0], kinds[row >= 0], strict=True):
        by_household.setdefault(int(h), []).append((int(month), str(kind)))
    return _Shocks(recent, costly, by_household)


class _Book:
    """What the county writes down: spells and visits, and who is monitored now."""

    def __init__(self, n: int) -> None:
        self.monitored = np.zeros(n, bool)
        self.spell_of = np.full(n, -1)  # index into spells of the running spell
        self.last_exit: dict[int, pd.Timestamp] = {}
        self.spells: list[dict[str, object]] = []
        self.visits: list[dict[str, object]] = []

    def visit(
        self,
        households: np.ndarray,
        days: pd.DatetimeIndex,
        unreachable: np.ndarray,
        confirmed: np.ndarray,
        risks: list[list[str]],
    ) -> None:
        for k, h in enumerate(households):
            outcome = (
                m.UNREACHABLE if unreachable[k] else m.CONFIRMED if confirmed[k] else m.NOT_AT_RISK
            )
            found = (risks[k] or ["other"]) if outcome == m.CONFIRMED else []
            measures = dict.fromkeys(x for r in found for x in MEASURES_OF_RISK.get(r, ()))
            self.visits.append(
                {
                    c.HOUSEHOLD_ID: int(h),
                    m.VISIT_DATE: days[k],
                    m.OUTCOME: outcome,
                    m.RISK_TYPES_FOUND: ";".join(found) or None,
                    m.MEASURES_AGREED: ";".join(measures) or None,
                }
            )

    def enter(self, household: int, entered: pd.Timestamp, category: str, risks: list[str]) -> None:
        if household in self.last_exit:  # one spell at a time: after the last exit
            entered = max(entered, self.last_exit[household] + pd.Timedelta(days=1))
        self.monitored[household] = True
        self.spell_of[household] = len(self.spells)
        self.spells.append(
            {
                c.HOUSEHOLD_ID: household,
                m.ENTERED: entered,
                m.CATEGORY: category,
                m.RISK_TYPES: ";".join(risks or ["other"]),
                m.EXITED: pd.NaT,
                m.EXIT_REASON: None,
            }
        )

    def exit(self, household: int, exited: pd.Timestamp) -> None:
        spell = self.spells[self.spell_of[household]]
        exited = max(exited, pd.Timestamp(spell[m.ENTERED]) + pd.Timedelta(days=1))
        spell[m.EXITED] = exited
        spell[m.EXIT_REASON] = "risk_eliminated"
        self.last_exit[household] = exited
        self.monitored[household] = False
        self.spell_of[household] = -1

    def monitoring_table(self, ids: np.ndarray, months: list[tuple[int, int]]) -> pd.DataFrame:
        """The spells; an exit or entry after the last simulated day is not yet written."""
        end = pd.Timestamp(months[-1][0], 12, 31)
        spells = pd.DataFrame(self.spells, columns=list(_MONITORING_COLUMNS))
        spells = spells[spells[m.ENTERED] <= end]
        late = spells[m.EXITED] > end
        spells.loc[late, m.EXITED] = pd.NaT
        spells.loc[late, m.EXIT_REASON] = None
        return _typed(spells, ids, m.ENTERED)

    def visits_table(self, ids: np.ndarray) -> pd.DataFrame:
        return _typed(pd.DataFrame(self.visits, columns=list(_VISITS_COLUMNS)), ids, m.VISIT_DATE)


def _exits(
    book: _Book, observed: np.ndarray | None, line: float, year: int, rng: np.random.Generator
) -> None:
    """Spring of ``year``: risk eliminated for monitored households above the line in
    ``year - 1`` that were monitored since before July of it."""
    if observed is None:
        return
    cutoff = pd.Timestamp(year - 1, 7, 1)
    for h in np.flatnonzero(book.monitored):
        spell = book.spells[book.spell_of[h]]
        eligible = pd.Timestamp(spell[m.ENTERED]) < cutoff and observed[h] >= line
        if eligible and rng.random() < P_EXIT:
            day = pd.Timestamp(year, 3, 1) + pd.Timedelta(days=int(rng.integers(0, 90)))
            book.exit(int(h), day)


_MONITORING_COLUMNS = (c.HOUSEHOLD_ID, m.ENTERED, m.CATEGORY, m.RISK_TYPES, m.EXITED, m.EXIT_REASON)
_VISITS_COLUMNS = (c.HOUSEHOLD_ID, m.VISIT_DATE, m.OUTCOME, m.RISK_TYPES_FOUND, m.MEASURES_AGREED)


def _typed(frame: pd.DataFrame, ids: np.ndarray, date: str) -> pd.DataFrame:
    """Household rows as ids, dates ``datetime64[us]``, codes ``str``, sorted by date."""
    frame = frame.assign(**{c.HOUSEHOLD_ID: ids[frame[c.HOUSEHOLD_ID].to_numpy(dtype=int)]})
    dates = [col for col in frame.columns if col in (m.ENTERED, m.EXITED, m.VISIT_DATE)]
    texts = [col for col in frame.columns if col not in dates]
    frame = frame.astype({**dict.fromkeys(dates, "datetime64[us]"), **dict.fromkeys(texts, "str")})
    return frame.sort_values([date, c.HOUSEHOLD_ID], kind="stable").reset_index(drop=True)
