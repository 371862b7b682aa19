"""Disputes opened and closed by the provider, recorded against the payment they contest."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.disputes import Dispute
from justdriving.domain.ids import DisputeId, new_id
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome, Payment
from justdriving.ports.persistence import UnitOfWork


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
