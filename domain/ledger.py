"""A user's minutes: the balance, what is reserved for jobs in flight, and what was spent.

Minutes are reserved when a job is accepted, committed when its text is delivered and
released when it fails, so a failed write can never mean a free transcription and a
failure can never keep minutes. The invariant every operation keeps:
``balance + reserved + spent == credited`` and ``balance >= 0``.
"""

from __future__ import annotations

import attrs

from domain.errors import DuplicateReservation, InsufficientMinutes, UnknownReservation
from domain.events import (
    Event,
    MinutesCommitted,
    MinutesCredited,
    MinutesReleased,
    MinutesReserved,
)


@attrs.define
class MinutesAccount:
    user_id: int
    balance: int = 0
    reservations: dict[str, int] = attrs.field(factory=dict)
    spent: int = 0
    credited: int = 0
    trial_granted: bool = False
    version: int = 0
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    def credit(self, minutes: int, reason: str) -> None:
        if minutes <= 0:
            raise ValueError(f"a credit must be positive, got {minutes}")
        self.balance += minutes
        self.credited += minutes
        self.events.append(MinutesCredited(self.user_id, minutes, reason))

    def grant_trial(self, minutes: int) -> bool:
        """Credit the free trial once in the account's life; later calls change nothing."""
        if self.trial_granted:
            return False
        self.trial_granted = True
        if minutes > 0:
            self.credit(minutes, "trial")
        return True

    def reserve(self, reservation_id: str, minutes: int) -> None:
        if minutes <= 0:
            raise ValueError(f"a reservation must be positive, got {minutes}")
        if reservation_id in self.reservations:
            raise DuplicateReservation(reservation_id)
        if minutes > self.balance:
            raise InsufficientMinutes(minutes, self.balance)
        self.balance -= minutes
        self.reservations[reservation_id] = minutes
        self.events.append(MinutesReserved(self.user_id, reservation_id, minutes))

    def holds(self, reservation_id: str) -> bool:
        return reservation_id in self.reservations

    def commit(self, reservation_id: str) -> int:
        minutes = self._settle(reservation_id)
        self.spent += minutes
        self.events.append(MinutesCommitted(self.user_id, reservation_id, minutes))
        return minutes

    def release(self, reservation_id: str) -> int:
        minutes = self._settle(reservation_id)
        self.balance += minutes
        self.events.append(MinutesReleased(self.user_id, reservation_id, minutes))
        return minutes

    def _settle(self, reservation_id: str) -> int:
        try:
            return self.reservations.pop(reservation_id)
        except KeyError:
            raise UnknownReservation(reservation_id) from None
