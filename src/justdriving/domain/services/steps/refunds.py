"""Opening a refund: reserved against the payment, then asked of the gateway by the relay
(online) or done at once (manual).
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.ids import RefundId, new_id
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import Payment, PaymentMethod
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School
from justdriving.ports.persistence import UnitOfWork


def open_refund(
    uow: UnitOfWork,
    school: School,
    payment: Payment,
    amount: Money,
    reason: str,
    now: datetime,
    *,
    wants_credit_note: bool = True,
) -> Refund:
    """Reserve and record a refund. Online: the relay asks the gateway. Manual: done at once."""
    refund = Refund.against(
        payment,
        id=RefundId(new_id("re")),
        amount=amount,
        reason=reason,
        now=now,
        wants_credit_note=wants_credit_note,
    )
    uow.refunds.add(refund)
    if payment.method is PaymentMethod.ONLINE:
        uow.outbox.add(
            OutboxMessage.queued(
                school.id, OutboxKind.REFUND_PAYMENT, {"refund_id": refund.id}, refund.id, now
            )
        )
    else:  # the money went back over the counter: done (refund_booked follows its event)
        refund.succeed(payment, now)
    return refund
