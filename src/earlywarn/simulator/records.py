"""What the main run writes down as it goes: events and assistance spells."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from earlywarn.simulator.world import WorldState


@dataclass
class Records:
    """What the main run writes down: events and assistance spells, as parallel lists."""

    event_household: list[np.ndarray]
    event_day: list[np.ndarray]
    event_type: list[np.ndarray]
    event_cost: list[np.ndarray]
    aid_household: list[np.ndarray]
    aid_start: list[np.ndarray]
    aid_end: list[np.ndarray]
    aid_measure: list[np.ndarray]
    aid_amount: list[np.ndarray]

    @classmethod
    def empty(cls) -> Records:
        return cls(*([] for _ in fields(cls)))

    def event(
        self,
        state: WorldState,
        rows: np.ndarray,
        day: np.ndarray | int,
        code: int,
        cost: np.ndarray | float,
    ) -> None:
        """Events of type ``code`` for ``rows``; ``day``, ``cost``: one per household or one."""
        if len(rows):
            self.event_household.append(state.household[rows])
            days = np.broadcast_to(day, state.household.shape)[rows]
            self.event_day.append(days.astype(np.int64))
            self.event_type.append(np.full(len(rows), code, np.int8))
            self.event_cost.append(
                np.broadcast_to(np.asarray(cost, float), state.household.shape)[rows].copy()
            )

    def aid(
        self,
        state: WorldState,
        rows: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        code: int,
        amount: np.ndarray | float,
    ) -> None:
        """Spells of ``code`` for ``rows``; ``start``, ``end``, ``amount``: one per row."""
        if len(rows):
            self.aid_household.append(state.household[rows])
            self.aid_start.append(np.broadcast_to(start, rows.shape).astype(np.int64))
            self.aid_end.append(np.broadcast_to(end, rows.shape).astype(np.int64))
            self.aid_measure.append(np.full(len(rows), code, np.int8))
            self.aid_amount.append(np.broadcast_to(np.asarray(amount, float), rows.shape).copy())

    def spells(
        self,
        state: WorldState,
        who: np.ndarray,
        start: np.ndarray,
        end: int,
        code: int,
        amount: np.ndarray,
    ) -> None:
        """Spells of ``code`` for the households where ``who`` holds, from their ``start`` with
        their ``amount`` (one per household) to the day ``end`` (``NO_END``: still running)."""
        rows = np.flatnonzero(who)
        self.aid(state, rows, start[rows], np.full(len(rows), end), code, amount[rows])
