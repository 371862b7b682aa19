"""Refund use cases: partial and repeated, never above what was captured, with credit notes
(opened by `steps/refunds.py`; a succeeded refund is booked by `followups/refunds.py`)."""

from __future__ import annotations

from justdriving.domain.errors import InvalidInput, RefundExceedsCaptured
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import Refund
from justdriving.domain.services.steps.billing import in_school, overpayments_in
from justdriving.domain.services.steps.refunds import open_refund
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class Refunds:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def refund(
        self,
        school_id: str,
        payment_id: str,
        *,
        amount: Money | None = None,
        reason: str = "requested by the school",
    ) -> Refund:
        """Refund `amount` (all that is left when None) of a succeeded payment."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a refund needs a reason")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            refund = open_refund(
                uow,
                school,
                payment,
                payment.refundable if amount is None else amount,
                reason,
                now,
            )
            uow.commit()
        return refund

    def refund_overpayment(self, school_id: str, payment_id: str) -> Refund:
        """Give back what a payment brought beyond what its invoice asks (held for review).
        No credit note: the invoice is not corrected, the surplus goes back."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            found = overpayments_in(uow, school.id, payment.student_id)
            excess = next((o.amount for o in found if o.payment_id == payment.id), None)
            if excess is None:
                raise RefundExceedsCaptured("nothing was overpaid on this payment")
            refund = open_refund(
                uow, school, payment, excess, "overpayment returned", now, wants_credit_note=False
            )
            uow.commit()
        return refund

    def refund_package(self, school_id: str, package_id: str) -> list[Refund]:
        """Return the unused part of a package (paid minus lessons taken) and close it.

        The amount is taken back from the package's payments in turn (instalments)."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            package = in_school(uow.packages.get(package_id), school.id, "package")
            package.close()  # refused if refunded (or expired) already
            payments = [
                p
                for p in uow.payments.for_student(school.id, package.student_id)
                if p.package_id == package.id and p.status is PaymentStatus.SUCCEEDED
            ]
            if not payments:
                raise InvalidInput("the package has no payment to refund")
            zero = Money.zero(package.price.currency)
            paid = sum((p.captured for p in payments), zero)
            returned = sum((p.refunded + p.refund_reserved for p in payments), zero)
            left = package.refund_due(paid, returned)  # zero: it closes, nothing goes back
            refunds = []
            for payment in payments:
                amount = min(left, payment.refundable)
                if amount.is_positive:
                    refunds.append(
                        open_refund(uow, school, payment, amount, "unused package lessons", now)
                    )
                    left = left - amount
            uow.commit()
        return refunds
