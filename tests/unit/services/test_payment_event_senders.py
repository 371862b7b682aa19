"""Provider events are trusted only for what they can vouch for: a payment of the provider
that sent them, and the amount and currency they state."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from attrs import frozen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.memory.fake_webhooks import amount_data
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem

from .support import NOW, build_world, dkk, messages, record, snapshot, with_settings

PROVIDERS = ("fake", "stripe", "paypal")
# Events about payments; account.updated is about a school's connected account and names no
# payment (tests/unit/services/test_connected_accounts.py holds it to its account).
KNOWN_KINDS = [
    kind
    for kind in PaymentEventKind
    if kind is not PaymentEventKind.UNKNOWN and not kind.is_account
]
STAGES = ("started", "card_held", "paid_refunding_disputed")
LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


@frozen
class Platform:
    """One application with a gateway per provider (all fakes, each under its provider's
    name and signing with its own secret), and a school on `provider`'s gateway."""

    app: Application
    store: MemoryStore
    gateways: dict[str, FakePaymentGateway]
    school_id: str
    world: Any

    def deliver(self, provider: str, kind: str, data: dict[str, Any]) -> list[EventOutcome]:
        body, headers = self.gateways[provider].webhook(kind, data)
        return self.app.receive_payment_webhook(provider, body, headers)


def _platform(provider: str) -> Platform:
    clock, store = FrozenClock(NOW), MemoryStore()
    gateways = {
        name: FakePaymentGateway(
            name, f"whsec_{name}", clock=clock, refund_status=RefundStatus.PENDING
        )
        for name in PROVIDERS
    }
    app = Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry(gateways, default=None),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    world = build_world(app, settings=with_settings(payment_gateway=provider))
    return Platform(app, store, gateways, world.school.id, world)


@frozen
class Target:
    """A payment of one provider at some stage, and every reference an event could name."""

    payment_id: str
    ref: str
    amount: Money
    refund_id: str | None = None
    provider_refund_id: str | None = None
    provider_dispute_id: str | None = None


def _payment_at(platform: Platform, provider: str, stage: str) -> Target:
    app, world, gateway = platform.app, platform.world, platform.gateways[provider]
    if stage == "card_held":  # a deposit for a lesson two days ahead: a hold, to capture later
        booking = world.book(app, NOW + timedelta(days=2))
        started = app.start_deposit(world.school.id, booking.id)
        ref = started.session.provider_payment_id
        platform.deliver(provider, *_split(gateway.authorize(ref)))
        return Target(started.payment.id, ref, started.payment.amount)
    draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
    invoice = app.issue_invoice(world.school.id, draft.id)
    started = app.start_invoice_payment(world.school.id, invoice.id)
    ref, amount = started.session.provider_payment_id, started.payment.amount
    if stage == "started":
        return Target(started.payment.id, ref, amount)
    body, headers = gateway.succeed(ref)
    app.receive_payment_webhook(provider, body, headers)
    refund = app.refund(world.school.id, started.payment.id, amount=dkk("100.00"))
    app.relay_outbox()
    provider_refund_id = record(platform.store, "refunds", refund.id).provider_refund_id
    assert provider_refund_id is not None
    dispute = {"payment_id": started.payment.id, "provider_payment_id": ref}
    dispute |= {"provider_dispute_id": f"dp_{provider}", "dispute_status": "needs_response"}
    platform.deliver(provider, PaymentEventKind.DISPUTE_OPENED.value, dispute)
    return Target(started.payment.id, ref, amount, refund.id, provider_refund_id, f"dp_{provider}")


def _split(delivery: tuple[bytes, dict[str, str]]) -> tuple[str, dict[str, Any]]:
    """A fake delivery's event type and data."""
    event = json.loads(delivery[0])
    return event["type"], event["data"]


def _naming(target: Target, kind: PaymentEventKind, dispute_status: str) -> dict[str, Any]:
    """An event about `target` naming everything of it, for exactly its amount."""
    data: dict[str, Any] = {
        "payment_id": target.payment_id,
        "provider_payment_id": target.ref,
        "amount": amount_data(target.amount),
        "refund_id": target.refund_id,
        "provider_refund_id": target.provider_refund_id,
        "provider_dispute_id": target.provider_dispute_id or "dp_new",
        "dispute_status": dispute_status,
    }
    if kind.is_refund:
        data["amount"] = amount_data(dkk("100.00"))
    return {name: value for name, value in data.items() if value is not None}


def _all_but_the_inbox(platform: Platform) -> dict[str, Any]:
    return {t: rows for t, rows in snapshot(platform.store).items() if t != "inbox"}


@st.composite
def a_sender_and_a_holder(draw: st.DrawFn) -> tuple[str, str]:
    holder = draw(st.sampled_from(PROVIDERS))
    sender = draw(st.sampled_from([p for p in PROVIDERS if p != holder]))
    return sender, holder


_PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestTheSender:
    @_PROPERTY
    @given(
        providers=a_sender_and_a_holder(),
        stage=st.sampled_from(STAGES),
        kind=st.sampled_from(KNOWN_KINDS),
        dispute_status=st.sampled_from(["needs_response", "under_review", "won", "lost"]),
    )
    def test_an_event_from_one_provider_never_changes_a_payment_of_another(
        self, providers: tuple[str, str], stage: str, kind: PaymentEventKind, dispute_status: str
    ) -> None:
        sender, holder = providers
        platform = _platform(holder)
        target = _payment_at(platform, holder, stage)
        before = _all_but_the_inbox(platform)

        outcomes = platform.deliver(sender, kind.value, _naming(target, kind, dispute_status))

        assert outcomes == [EventOutcome.IGNORED]
        assert _all_but_the_inbox(platform) == before

    def test_the_same_event_from_the_payments_own_provider_does_apply(self) -> None:
        # The control for the property above: naming the payment the same way works for the
        # provider that holds it.
        platform = _platform("paypal")
        target = _payment_at(platform, "paypal", "started")

        kind = PaymentEventKind.SUCCEEDED
        outcomes = platform.deliver("paypal", kind.value, _naming(target, kind, "needs_response"))

        assert outcomes == [EventOutcome.APPLIED]
        assert record(platform.store, "payments", target.payment_id).status is (
            PaymentStatus.SUCCEEDED
        )

    def test_a_fake_success_naming_a_paypal_payment_leaves_its_invoice_unpaid(self) -> None:
        platform = _platform("paypal")
        target = _payment_at(platform, "paypal", "started")
        invoice_id = record(platform.store, "payments", target.payment_id).invoice_id

        outcomes = platform.deliver(
            "fake", "payment.succeeded", _naming(target, PaymentEventKind.SUCCEEDED, "")
        )

        assert outcomes == [EventOutcome.IGNORED]
        assert record(platform.store, "invoices", invoice_id).status is InvoiceStatus.OPEN
        assert record(platform.store, "payments", target.payment_id).provider_alias is None
        assert messages(platform.store, MessageType.PAYMENT_RECEIPT) == []
        [stored] = platform.store.records("inbox")
        assert (stored.provider, str(stored.status)) == ("fake", "ignored")

    def test_a_dispute_event_naming_another_payments_dispute_changes_nothing(self) -> None:
        platform = _platform("stripe")
        disputed = _payment_at(platform, "stripe", "paid_refunding_disputed")
        other = _payment_at(platform, "stripe", "started")
        before = _all_but_the_inbox(platform)

        outcomes = platform.deliver(
            "stripe",
            PaymentEventKind.DISPUTE_CLOSED.value,
            {
                "payment_id": other.payment_id,
                "provider_payment_id": other.ref,
                "provider_dispute_id": disputed.provider_dispute_id,
                "dispute_status": "lost",
            },
        )

        assert outcomes == [EventOutcome.IGNORED]
        assert _all_but_the_inbox(platform) == before


def _wrong_amounts(expected: Money) -> st.SearchStrategy[Money | None]:
    other_currency = st.sampled_from(["EUR", "SEK", "NOK", "USD"]).map(
        lambda code: Money(expected.amount, code)
    )
    other_amount = st.integers(1, 10_000_000).filter(lambda n: n != expected.amount)
    return st.one_of(
        st.none(), other_currency, other_amount.map(lambda n: Money(n, expected.currency))
    )


class TestTheAmount:
    @_PROPERTY
    @given(
        provider=st.sampled_from(PROVIDERS),
        card_held=st.booleans(),
        kind=st.sampled_from([PaymentEventKind.SUCCEEDED, PaymentEventKind.AUTHORIZED]),
        data=st.data(),
    )
    def test_a_success_or_hold_without_the_expected_amount_and_currency_is_held_for_review(
        self,
        provider: str,
        card_held: bool,
        kind: PaymentEventKind,
        data: st.DataObject,
    ) -> None:
        platform = _platform(provider)
        target = _payment_at(platform, provider, "card_held" if card_held else "started")
        if card_held and kind is PaymentEventKind.AUTHORIZED:
            kind = PaymentEventKind.SUCCEEDED  # already held: its capture is what is reported
        reported = data.draw(_wrong_amounts(target.amount), label="reported")
        event = {"payment_id": target.payment_id, "provider_payment_id": target.ref}
        if reported is not None:
            event["amount"] = amount_data(reported)

        outcomes = platform.deliver(provider, kind.value, event)

        assert outcomes == [EventOutcome.HELD]
        payment = record(platform.store, "payments", target.payment_id)
        assert payment.status is PaymentStatus.HELD_FOR_REVIEW
        assert payment.captured == Money.zero(target.amount.currency)
        assert messages(platform.store, MessageType.PAYMENT_RECEIPT) == []

    def test_a_success_that_states_no_amount_leaves_the_invoice_unpaid(self) -> None:
        platform = _platform("stripe")
        target = _payment_at(platform, "stripe", "started")

        outcomes = platform.deliver(
            "stripe",
            "payment.succeeded",
            {"payment_id": target.payment_id, "provider_payment_id": target.ref},
        )

        assert outcomes == [EventOutcome.HELD]
        payment = record(platform.store, "payments", target.payment_id)
        assert payment.failure_reason == "provider reported no amount, expected 500.00 DKK"
        invoice = record(platform.store, "invoices", payment.invoice_id)
        assert (invoice.status, invoice.paid) == (InvoiceStatus.OPEN, dkk("0.00"))
        world = platform.world
        assert platform.app.balance(world.school.id, world.student.id).amount == dkk("500.00")
