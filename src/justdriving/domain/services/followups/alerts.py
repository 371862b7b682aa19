"""The staff alerts that follow a payment held for review, an overpayment and a refund the
provider refused (registered in `reactions.py`; mailed in the next digest).
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import PaymentHeldForReview, PaymentOverpaid, RefundFailed
from justdriving.domain.formatting import money
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment
from justdriving.domain.services.steps.alerts import raise_alert
from justdriving.domain.staff_alerts import AlertKind
from justdriving.ports.persistence import UnitOfWork


def alert_payment_held(uow: UnitOfWork, event: PaymentHeldForReview, now: datetime) -> None:
    payment = uow.payments.get(event.payment_id)
    _about_payment(uow, payment, AlertKind.PAYMENT_HELD, payment.amount, now)


def alert_overpaid(uow: UnitOfWork, event: PaymentOverpaid, now: datetime) -> None:
    payment = uow.payments.get(event.payment_id)
    _about_payment(uow, payment, AlertKind.OVERPAYMENT, event.excess, now)


def alert_refund_failed(uow: UnitOfWork, event: RefundFailed, now: datetime) -> None:
    refund = uow.refunds.get(event.refund_id)
    payment = uow.payments.get(refund.payment_id)
    _about_payment(uow, payment, AlertKind.REFUND_REFUSED, refund.amount, now)


def _about_payment(
    uow: UnitOfWork, payment: Payment, kind: AlertKind, amount: Money, now: datetime
) -> None:
    """An alert naming the payment's student and an amount, linking to the payment's row."""
    school = uow.schools.get(payment.school_id)
    student = uow.students.get(payment.student_id).name
    shown = money(amount, school.settings.language)
    path = f"/ops/payments/{payment.id}"
    raise_alert(uow, school, kind, path, now, amount=shown, student=student)
