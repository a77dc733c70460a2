"""A user's minutes: the balance, what is reserved for jobs in flight, and what was spent.

Minutes are reserved when a job is accepted, committed when its text is delivered and
released when it fails, so a failed write can never mean a free transcription and a
failure can never keep minutes. A payment is credited once per Telegram charge id, kept
in the account itself so the check and the credit are one atomic write. The invariant
every operation keeps: ``balance + reserved + spent == trial + purchased + granted -
refunded`` (``credited``) and ``balance >= 0``.
"""

from __future__ import annotations

import attrs

from domain.errors import (
    DuplicateReservation,
    InsufficientMinutes,
    UnknownPayment,
    UnknownReservation,
)
from domain.events import (
    Event,
    MinutesCommitted,
    MinutesCredited,
    MinutesPurchased,
    MinutesRefunded,
    MinutesReleased,
    MinutesReserved,
)


@attrs.define
class MinutesAccount:
    user_id: int
    balance: int = 0
    reservations: dict[str, int] = attrs.field(factory=dict)
    spent: int = 0
    trial: int = 0
    purchased: int = 0
    granted: int = 0
    refunded: int = 0
    trial_granted: bool = False
    payments: dict[str, int] = attrs.field(factory=dict)  # charge id -> minutes credited
    refunds: dict[str, int] = attrs.field(factory=dict)  # charge id -> minutes taken back
    purchases: dict[str, int] = attrs.field(factory=dict)  # package id -> times bought
    version: int = 0
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def credited(self) -> int:
        """Every minute the account ever received, less what refunds took back."""
        return self.trial + self.purchased + self.granted - self.refunded

    def credit(self, minutes: int, reason: str) -> None:
        """Minutes given by the owner (``/credit``)."""
        _require_positive(minutes)
        self.balance += minutes
        self.granted += minutes
        self.events.append(MinutesCredited(self.user_id, minutes, reason))

    def grant_trial(self, minutes: int) -> bool:
        """Credit the free trial once in the account's life; later calls change nothing."""
        if self.trial_granted:
            return False
        self.trial_granted = True
        if minutes > 0:
            self.balance += minutes
            self.trial += minutes
            self.events.append(MinutesCredited(self.user_id, minutes, "trial"))
        return True

    def purchase(self, charge_id: str, package_id: str, minutes: int) -> bool:
        """Credit a paid package once per charge id; ``False`` for a charge seen before."""
        _require_positive(minutes)
        if charge_id in self.payments:
            return False
        self.payments[charge_id] = minutes
        self.purchases[package_id] = self.purchases.get(package_id, 0) + 1
        self.balance += minutes
        self.purchased += minutes
        self.events.append(MinutesPurchased(self.user_id, charge_id, package_id, minutes))
        return True

    def refund(self, charge_id: str) -> int:
        """Take back a refunded payment's minutes, as many as are left unspent."""
        if charge_id not in self.payments or charge_id in self.refunds:
            raise UnknownPayment(charge_id)
        taken = min(self.payments[charge_id], self.balance)
        self.refunds[charge_id] = taken
        self.balance -= taken
        self.refunded += taken
        self.events.append(MinutesRefunded(self.user_id, charge_id, taken))
        return taken

    def reserve(self, reservation_id: str, minutes: int) -> None:
        _require_positive(minutes)
        if reservation_id in self.reservations:
            raise DuplicateReservation(reservation_id)
        if minutes > self.balance:
            raise InsufficientMinutes(minutes, self.balance)
        self.balance -= minutes
        self.reservations[reservation_id] = minutes
        self.events.append(MinutesReserved(self.user_id, reservation_id, minutes))

    def resize(self, reservation_id: str, minutes: int) -> None:
        """Change a reservation to ``minutes`` (the audio turned out longer or shorter than
        its sender said); more than the balance allows raises InsufficientMinutes."""
        _require_positive(minutes)
        if reservation_id not in self.reservations:
            raise UnknownReservation(reservation_id)
        extra = minutes - self.reservations[reservation_id]
        if extra > self.balance:
            raise InsufficientMinutes(minutes, self.balance + self.reservations[reservation_id])
        self.balance -= extra
        self.reservations[reservation_id] = minutes

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

    def commit_part(self, reservation_id: str, minutes: int) -> int:
        """Settle a stopped job's reservation: charge ``minutes`` of it (at most what it
        holds; ``domain.cancellation`` decides how many) and give the rest back. Returns
        the minutes charged."""
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        held = self._settle(reservation_id)
        charged = min(minutes, held)
        self.spent += charged
        self.balance += held - charged
        if charged:
            self.events.append(MinutesCommitted(self.user_id, reservation_id, charged))
        if held - charged:
            self.events.append(MinutesReleased(self.user_id, reservation_id, held - charged))
        return charged

    def _settle(self, reservation_id: str) -> int:
        try:
            return self.reservations.pop(reservation_id)
        except KeyError:
            raise UnknownReservation(reservation_id) from None


def _require_positive(minutes: int) -> None:
    if minutes <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
