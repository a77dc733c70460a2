"""Errors the domain raises when asked to break one of its rules."""

from __future__ import annotations


class DomainError(Exception):
    """A request that the rules of the domain refuse."""


class IllegalTransition(DomainError):
    """A job was asked to move to a status it cannot reach from where it is."""


class LeaseHeld(DomainError):
    """Another worker holds the job's claim and its lease has not run out."""


class InsufficientMinutes(DomainError):
    """A reservation asked for more minutes than the balance holds."""

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(f"{needed} minute(s) needed, {balance} available")
        self.needed = needed
        self.balance = balance


class UnknownReservation(DomainError):
    """Commit or release named a reservation that does not exist or is already settled."""


class DuplicateReservation(DomainError):
    """A reservation id was used twice."""


class UnknownPayment(DomainError):
    """A refund named a charge the account never received, or one already refunded."""
