"""Payment use cases: record a manual payment. (Starting an online payment is `payment_starts`;
the inbox applies provider events with `steps/payment_events.py`.)"""

from __future__ import annotations

from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import PaymentId, new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import (
    Payment,
    PaymentMethod,
    PaymentPurpose,
)
from justdriving.domain.services.steps.billing import in_school
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class Payments:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def record_manual_payment(
        self,
        school_id: str,
        student_id: str,
        *,
        amount: Money,
        method: PaymentMethod,
        invoice_id: str | None = None,
        reference: str | None = None,
    ) -> Payment:
        """Staff took cash, a bank transfer or MobilePay. Above what is owed becomes credit."""
        if not isinstance(method, PaymentMethod) or method is PaymentMethod.ONLINE:
            raise InvalidInput("a manual payment is cash, bank_transfer or mobilepay")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            if amount.currency != school.currency:
                raise InvalidInput(f"{school.name} takes {school.currency}")
            package_id, invoice = None, None
            if invoice_id is not None:
                invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
                if invoice.student_id != student.id:
                    raise InvalidInput("the invoice is another student's")
                package_id = invoice.package_id
            payment = Payment(
                id=PaymentId(new_id("pay")),
                school_id=school.id,
                student_id=student.id,
                amount=amount,
                method=method,
                purpose=PaymentPurpose.PACKAGE if package_id else PaymentPurpose.INVOICE,
                created_at=now,
                invoice_id=invoice.id if invoice else None,
                package_id=package_id,
                provider="manual",
            )
            payment.record_manual(now, reference)
            uow.payments.add(payment)
            uow.commit()  # its PaymentSucceeded applies it to the invoice (reactions.py)
        return payment
