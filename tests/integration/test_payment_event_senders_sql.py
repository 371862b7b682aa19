"""On SQLite and PostgreSQL too: an event from one provider changes nothing of a payment
another provider holds, and a success that states no amount holds the payment for review."""

from __future__ import annotations

from typing import Any

from integration_support import NOW, changes, dkk, snapshot

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.memory.fake_webhooks import amount_data
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.payment_events import PaymentEventKind
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem

LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
# Events about payments; account.updated names a connected account, not a payment
# (tests/integration/test_stripe_connect_schools.py).
KNOWN_KINDS = [
    kind
    for kind in PaymentEventKind
    if kind is not PaymentEventKind.UNKNOWN and not kind.is_account
]


class Platform:
    """A fake gateway named `fake` and one named `paypal`; the school pays through PayPal's."""

    def __init__(self, database: Any) -> None:
        clock = FrozenClock(NOW)
        self.gateways = {
            name: FakePaymentGateway(
                name, f"whsec_{name}", clock=clock, refund_status=RefundStatus.PENDING
            )
            for name in ("fake", "paypal")
        }
        self.app = Application(
            uow=database.uow,
            clock=clock,
            gateways=MemoryGatewayRegistry(self.gateways, default=None),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        self.school = self.app.register_school(
            "Køreskolen PayPal", settings=SchoolSettings(payment_gateway="paypal")
        )
        self.student = self.app.add_student(self.school.id, "Ida Holm", email="ida@example.dk")

    def started(self) -> tuple[str, str, str]:
        """(payment id, PayPal's reference, invoice id) of a payment just started."""
        draft = self.app.draft_invoice(self.school.id, self.student.id, [LESSON])
        invoice = self.app.issue_invoice(self.school.id, draft.id)
        started = self.app.start_invoice_payment(self.school.id, invoice.id)
        return started.payment.id, started.session.provider_payment_id, invoice.id

    def deliver(self, provider: str, kind: str, data: dict[str, Any]) -> list[EventOutcome]:
        body, headers = self.gateways[provider].webhook(kind, data)
        return self.app.receive_payment_webhook(provider, body, headers)


def test_no_event_from_another_provider_changes_a_paypal_payment(database: Any) -> None:
    platform = Platform(database)
    pending, pending_ref, _ = platform.started()
    paid, paid_ref, _ = platform.started()
    platform.deliver("paypal", *_success(paid, paid_ref))
    refund = platform.app.refund(platform.school.id, paid, amount=dkk("100.00"))
    platform.app.relay_outbox()
    dispute = {"payment_id": paid, "provider_payment_id": paid_ref, "provider_dispute_id": "dp_1"}
    platform.deliver("paypal", "dispute.opened", dispute)
    before = snapshot(database.engine)

    for kind in KNOWN_KINDS:
        for payment_id, ref in ((pending, pending_ref), (paid, paid_ref)):
            data = {
                "payment_id": payment_id,
                "provider_payment_id": f"{ref}_other",
                "amount": amount_data(dkk("100.00" if kind.is_refund else "500.00")),
                "refund_id": refund.id,
                "provider_dispute_id": "dp_1",
                "dispute_status": "lost",
            }
            outcomes = platform.deliver("fake", kind.value, data)
            assert outcomes == [EventOutcome.IGNORED], (kind, payment_id == paid)

    # Each event is kept in the inbox (as ignored); nothing else has changed.
    assert changes(before, snapshot(database.engine)) == {"inbox": (2 * len(KNOWN_KINDS), 0, 0)}


def test_a_success_that_states_no_amount_holds_the_payment_for_review(database: Any) -> None:
    platform = Platform(database)
    payment_id, ref, invoice_id = platform.started()

    outcomes = platform.deliver(
        "paypal", "payment.succeeded", {"payment_id": payment_id, "provider_payment_id": ref}
    )

    assert outcomes == [EventOutcome.HELD]
    with platform.app.uow() as uow:
        payment = uow.payments.get(payment_id)
        invoice = uow.invoices.get(invoice_id)
    assert (payment.status, payment.captured) == (PaymentStatus.HELD_FOR_REVIEW, dkk("0.00"))
    assert (invoice.status, invoice.paid) == (InvoiceStatus.OPEN, dkk("0.00"))


def _success(payment_id: str, ref: str) -> tuple[str, dict[str, Any]]:
    data = {"payment_id": payment_id, "provider_payment_id": ref}
    return "payment.succeeded", data | {"amount": amount_data(dkk("500.00"))}
