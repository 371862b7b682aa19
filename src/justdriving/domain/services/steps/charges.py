"""A charge to a saved card keyed by its reason: the payment id of each attempt, and the
attempts made so far.
"""

from __future__ import annotations

from justdriving.domain.charges import ChargeReason
from justdriving.domain.ids import derived_id
from justdriving.domain.payments import Payment
from justdriving.ports.persistence import UnitOfWork


def charge_payment_id(school_id: str, student_id: str, reason: ChargeReason, attempt: int) -> str:
    """The payment of one attempt at charging for `reason`: the same on every retry."""
    return derived_id("pay", school_id, student_id, "charge", reason.key, str(attempt))


def charge_attempts(
    uow: UnitOfWork, school_id: str, student_id: str, reason: ChargeReason
) -> list[Payment]:
    """Every payment made for `reason` so far, first attempt first."""
    attempts: list[Payment] = []
    while True:
        found = uow.payments.find(charge_payment_id(school_id, student_id, reason, len(attempts)))
        if found is None:
            return attempts
        attempts.append(found)
