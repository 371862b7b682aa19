"""Provider events about a student's saved card (setup finished or failed) and a school's
connected account (`account.updated`), applied by the inbox.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome
from justdriving.ports.persistence import UnitOfWork


def apply_setup_event(uow: UnitOfWork, event: ProviderPaymentEvent, now: datetime) -> EventOutcome:
    """A provider's news about saving a card, for the customer its metadata names (ours, at
    that provider): saved, or failed. 3-D Secure pending is the student's step in the browser
    and changes nothing here."""
    customer = uow.payment_customers.find(event.customer_id or "")
    if customer is None or customer.provider != event.provider:
        return EventOutcome.IGNORED
    if event.kind is PaymentEventKind.SETUP_SUCCEEDED and event.provider_method_id:
        saved = customer.method_saved(event.provider_method_id, event.occurred_at)
        return EventOutcome.APPLIED if saved else EventOutcome.IGNORED
    if event.kind is PaymentEventKind.SETUP_FAILED:
        customer.setup_failed(event.failure_code, event.occurred_at)
        return EventOutcome.APPLIED
    return EventOutcome.IGNORED


def apply_account_event(
    uow: UnitOfWork, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    """What Stripe now says of a school's connected account; an account no school has is
    ignored (kept in the inbox, with a note for operators)."""
    if event.account is None or event.charges_enabled is None or event.details_submitted is None:
        return EventOutcome.IGNORED
    school = uow.schools.by_connected_account(event.account)
    if school is None:
        return EventOutcome.IGNORED
    status = ConnectedAccount(
        event.account,
        charges_enabled=event.charges_enabled,
        details_submitted=event.details_submitted,
    )
    changed = school.update_account(status, now)
    return EventOutcome.APPLIED if changed else EventOutcome.IGNORED


def unknown_account_note(uow: UnitOfWork, event: ProviderPaymentEvent) -> str | None:
    """Why an event about a connected account was ignored, when no school has that account."""
    if event.account is None or uow.schools.by_connected_account(event.account) is not None:
        return None
    return f"no school has connected account {event.account[:64]}"
