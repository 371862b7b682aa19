"""Provider payment events applied to our records by the inbox: a status change, a refund's
outcome, a dispute opened or closed. Unknown or stale events change nothing.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.disputes import Dispute
from justdriving.domain.ids import DisputeId, new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import (
    EventOutcome,
    Payment,
)
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.persistence import UnitOfWork


def apply_payment_event(
    uow: UnitOfWork, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    """Apply one provider-neutral event to our records; unknown or stale events change nothing."""
    payment = _payment_for(uow, event)
    if payment is None:
        return EventOutcome.IGNORED
    school = uow.schools.get(payment.school_id)
    if event.kind.is_dispute:
        return apply_dispute_event(uow, payment, event, now)
    if event.kind.is_refund:
        return _apply_refund_event(uow, school, payment, event, now)
    outcome = payment.apply(event)  # what a new status implies follows its event (reactions.py)
    if outcome is EventOutcome.APPLIED and event.kind is PaymentEventKind.APPROVED:
        # the provider waits for us to complete
        uow.outbox.add(
            OutboxMessage.queued(
                school.id,
                OutboxKind.COMPLETE_PAYMENT,
                {"payment_id": payment.id},
                f"complete-{payment.id}",
                now,
            )
        )
    return outcome


def _payment_for(uow: UnitOfWork, event: ProviderPaymentEvent) -> Payment | None:
    """The payment the event is about, if the provider that sent it holds that payment: an
    event naming another provider's payment (or a manual one) is about nothing of ours."""
    if event.kind is PaymentEventKind.UNKNOWN:
        return None
    payment = uow.payments.find(event.payment_id) if event.payment_id is not None else None
    if payment is None and event.provider_payment_id is not None:
        payment = uow.payments.by_provider_ref(event.provider, event.provider_payment_id)
    if payment is None or not payment.is_with(event.provider):
        return None
    if payment.connected_account != event.account:  # made on another account than this one
        return None
    payment.learn_alias(event.provider_payment_id)
    return payment


def _apply_refund_event(
    uow: UnitOfWork, school: object, payment: Payment, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    refund = uow.refunds.find(event.refund_id) if event.refund_id else None
    if refund is None and event.provider_refund_id:
        refund = uow.refunds.by_provider_ref(event.provider_refund_id)
    if refund is None or refund.payment_id != payment.id:
        return EventOutcome.IGNORED
    if refund.provider_refund_id is None:
        refund.provider_refund_id = event.provider_refund_id
    if event.kind is PaymentEventKind.REFUND_SUCCEEDED:
        doubt = refund.doubt(event.amount) if refund.status is RefundStatus.PENDING else None
        if doubt is not None:
            return EventOutcome.HELD if refund.hold(doubt) else EventOutcome.IGNORED
        changed = refund.succeed(payment, now)  # its RefundSucceeded books it (refund_booked)
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    if event.kind in (PaymentEventKind.REFUND_FAILED, PaymentEventKind.REFUND_CANCELED):
        canceled = event.kind is PaymentEventKind.REFUND_CANCELED
        changed = refund.fail(payment, now, event.failure_code, canceled=canceled)
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    return EventOutcome.IGNORED


def apply_dispute_event(
    uow: UnitOfWork, payment: Payment, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    if event.provider_dispute_id is None:
        return EventOutcome.IGNORED
    status = event.dispute_status or "needs_response"
    dispute = uow.disputes.by_provider_ref(event.provider_dispute_id)
    if dispute is None:
        uow.disputes.add(
            Dispute(
                id=DisputeId(new_id("dp")),
                school_id=payment.school_id,
                payment_id=payment.id,
                provider_dispute_id=event.provider_dispute_id,
                status=status,
                opened_at=event.occurred_at,
                amount=event.amount,
                updated_at=event.occurred_at,
            )
        )
        return EventOutcome.APPLIED
    if dispute.payment_id != payment.id:  # the dispute contests another payment
        return EventOutcome.IGNORED
    changed = dispute.update(status, event.occurred_at)
    return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
