"""Reviewing a payment held for review or overpaid: approve it (with what arrived), write it
off, or give back what it brought beyond its invoice."""

from __future__ import annotations

from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment
from justdriving.domain.services.steps.billing import in_school
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class PaymentReview:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def approve(self, school_id: str, payment_id: str, amount: Money | None = None) -> Payment:
        """A held payment succeeds with `amount` (default: what it asked for), as staff
        confirmed with the provider; it is then counted against its invoice, any excess
        becomes an overpayment, and the receipt is queued."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            payment.approve(payment.amount if amount is None else amount, now)
            uow.commit()
        return payment

    def write_off(self, school_id: str, payment_id: str, reason: str) -> Payment:
        """A held payment counts for nothing: canceled, its invoice still to pay."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a write-off needs a reason")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            payment.write_off(reason, now)
            uow.commit()
        return payment
