"""charge_customer: a saved card charged without the student for a stated reason, once per
reason however often it is asked; the bank's demand for the student becomes a payment waiting
for them and a pay link; declines recorded with the bank's code, retried only where it helps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.documents import PublicPayLinks
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.errors import (
    InvalidInput,
    NotFound,
    PaymentNotAllowed,
    ProviderUnavailable,
)
from justdriving.domain.events import (
    CustomerChargeDeclined,
    CustomerChargeRequiresAction,
    DomainEvent,
)
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.messages import Channel
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem
from memory_app import memory_application

from .support import NOW, World, build_world, deliver, dkk, messages, outbox, record, snapshot

FEE = LineItem(InvoiceService.NO_SHOW_FEE, "Udeblivelse", dkk("300.00"))
NO_SHOW = ChargeReason(ChargeKind.NO_SHOW_FEE, "bk_1")


def fee_invoice(app: Application, world: World) -> Invoice:
    draft = app.draft_invoice(world.school.id, world.student.id, [FEE])
    return app.issue_invoice(world.school.id, draft.id)


def save_card(
    app: Application, world: World, gateway: FakePaymentGateway, card: str = "pm_card_visa"
) -> str:
    setup = app.start_saving_card(world.school.id, world.student.id)
    ref = setup.session.provider_setup_id
    outcome = deliver(app, gateway.complete_setup(ref, card))
    if gateway.setups[ref].status == "requires_action":
        deliver(app, gateway.authenticate_setup(ref))
    assert outcome
    method = gateway.setups[ref].provider_method_id
    assert method is not None
    return method


def charges_for(gateway: FakePaymentGateway, payment: Payment) -> int:
    return sum(1 for c in gateway.charges.values() if c.payment_id == payment.id)


def published(app: Application) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    app.subscribe(DomainEvent, seen.append)
    return seen


class TestCharging:
    def test_a_no_show_fee_is_charged_to_the_saved_card_and_pays_its_invoice(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        card = save_card(app, world, gateway)
        invoice = fee_invoice(app, world)

        payment = app.charge_customer(world.school.id, invoice.id, NO_SHOW)

        assert payment.status is PaymentStatus.SUCCEEDED
        assert (payment.charge_reason, payment.charged_method_id) == ("no_show_fee:bk_1", card)
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        assert charges_for(gateway, payment) == 1
        assert messages(store, MessageType.PAYMENT_RECEIPT)

    def test_asking_again_for_the_same_reason_gives_the_same_payment_and_no_second_call(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        first = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        calls = len(gateway.calls)

        again = app.charge_customer(world.school.id, invoice.id, NO_SHOW)

        assert again.id == first.id
        assert len(gateway.calls) == calls
        assert charges_for(gateway, first) == 1

    def test_another_card_can_be_named_and_a_part_of_the_invoice_charged(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        visa = save_card(app, world, gateway)
        save_card(app, world, gateway, "pm_card_mastercard")
        invoice = fee_invoice(app, world)

        payment = app.charge_customer(
            world.school.id,
            invoice.id,
            ChargeReason(ChargeKind.INSTALMENT, "plan_1:1"),
            amount=dkk("100.00"),
            provider_method_id=visa,
        )

        assert payment.charged_method_id == visa
        assert payment.captured == dkk("100.00")
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PARTIALLY_PAID

    def test_an_outage_stores_nothing_and_the_retry_charges_once(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        before = snapshot(store)
        gateway.fail_next(ProviderUnavailable("fake", "timeout", possibly_done=True))

        with pytest.raises(ProviderUnavailable):
            app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        assert snapshot(store) == before

        payment = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        assert payment.status is PaymentStatus.SUCCEEDED
        assert charges_for(gateway, payment) == 1


class TestRefusals:
    def test_a_student_without_a_saved_card_is_refused_and_nothing_is_stored(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = fee_invoice(app, world)
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed, match="no saved card"):
            app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        assert snapshot(store) == before

    @pytest.mark.parametrize("amount", ["300.01", "0.00"])
    def test_an_amount_the_invoice_does_not_ask_is_refused(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        gateway: FakePaymentGateway,
        amount: str,
    ) -> None:
        save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.charge_customer(world.school.id, invoice.id, NO_SHOW, amount=dkk(amount))
        assert snapshot(store) == before

    def test_a_paid_invoice_or_one_of_another_school_is_not_charged(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        other = app.register_school("Anden Skole", currency="DKK", timezone="Europe/Copenhagen")
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed):
            app.charge_customer(
                world.school.id, invoice.id, ChargeReason(ChargeKind.NO_SHOW_FEE, "bk_2")
            )
        with pytest.raises(NotFound):
            app.charge_customer(other.id, invoice.id, NO_SHOW)
        assert snapshot(store) == before

    def test_a_reason_names_what_it_is_for(self) -> None:
        with pytest.raises(InvalidInput):
            ChargeReason(ChargeKind.RECURRING_FEE, " ")


class TestDeclines:
    def test_insufficient_funds_is_recorded_as_retryable_and_the_next_ask_charges_again(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        seen = published(app)
        card = save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        gateway.decline_next_charge(card, "insufficient_funds")

        declined = app.charge_customer(world.school.id, invoice.id, NO_SHOW)

        assert (declined.status, declined.failure_reason) == (
            PaymentStatus.FAILED,
            "insufficient_funds",
        )
        [event] = [e for e in seen if isinstance(e, CustomerChargeDeclined)]
        assert (event.decline_code, event.retryable, event.reason) == (
            "insufficient_funds",
            True,
            "no_show_fee:bk_1",
        )
        retried = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        assert retried.id != declined.id
        assert retried.status is PaymentStatus.SUCCEEDED
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        assert app.charge_customer(world.school.id, invoice.id, NO_SHOW).id == retried.id

    @pytest.mark.parametrize("code", ["stolen_card", "lost_card"])
    def test_a_stolen_or_lost_card_is_not_retried_until_another_card_is_saved(
        self, app: Application, world: World, gateway: FakePaymentGateway, code: str
    ) -> None:
        seen = published(app)
        card = save_card(app, world, gateway)
        invoice = fee_invoice(app, world)
        gateway.decline_next_charge(card, code)
        declined = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        [event] = [e for e in seen if isinstance(e, CustomerChargeDeclined)]
        assert (event.decline_code, event.retryable) == (code, False)
        calls = len(gateway.calls)

        assert app.charge_customer(world.school.id, invoice.id, NO_SHOW).id == declined.id
        assert len(gateway.calls) == calls  # the bank's no stands: nothing asked

        new_card = save_card(app, world, gateway, "pm_card_mastercard")
        charged = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
        assert (charged.status, charged.charged_method_id) == (PaymentStatus.SUCCEEDED, new_card)


def pay_link_app(
    clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> tuple[Application, FakeSmsSender, FakeEmailSender]:
    sms, email = FakeSmsSender(), FakeEmailSender()
    app = Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": gateway}),
        sms=sms,
        email=email,
        renderer=JinjaTemplateRenderer(),  # the real templates print the pay link
        pay_links=PublicPayLinks(
            "https://school.example",
            secret="test-pay-links",
            lifetime=timedelta(days=30),
            clock=clock,
        ),
    )
    return app, sms, email


class TestTheBankWantsTheStudent:
    def test_the_charge_waits_for_the_student_and_a_pay_link_goes_out_by_sms_and_email(
        self, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        app, sms, email = pay_link_app(clock, store, gateway)
        world = build_world(app)
        seen = published(app)
        save_card(app, world, gateway, "pm_card_authenticationRequired")
        invoice = fee_invoice(app, world)

        waiting = app.charge_customer(world.school.id, invoice.id, NO_SHOW)

        assert waiting.status is PaymentStatus.REQUIRES_ACTION
        assert [type(e) for e in seen if isinstance(e, CustomerChargeRequiresAction)]
        queued = messages(store, MessageType.PAYMENT_ACTION_REQUIRED)
        assert {m.channel for m in queued} == {Channel.SMS, Channel.EMAIL}
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.OPEN
        app.relay_outbox()
        link = PublicPayLinks(
            "https://school.example",
            secret="test-pay-links",
            lifetime=timedelta(days=30),
            clock=clock,
        ).for_invoice(invoice.id)
        assert link is not None
        assert any(link in message.body for _, message, _ in sms.sent)
        assert any(link in message.text for _, message, _ in email.sent)

    def test_the_pay_link_opens_a_fresh_checkout_the_student_pays_and_the_charge_is_let_go(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        save_card(app, world, gateway, "pm_card_authenticationRequired")
        invoice = fee_invoice(app, world)
        waiting = app.charge_customer(world.school.id, invoice.id, NO_SHOW)

        started = app.start_invoice_payment(world.school.id, invoice.id)

        assert started.payment.id != waiting.id
        cancels = outbox(store, OutboxKind.CANCEL_PAYMENT)
        assert [row.payload["payment_id"] for row in cancels] == [waiting.id]
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        assert app.charge_customer(world.school.id, invoice.id, NO_SHOW).id == waiting.id


# Retries, as a property -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(outages=st.lists(st.booleans(), min_size=1, max_size=6), asks_after=st.integers(0, 3))
def test_however_a_charge_is_retried_through_outages_it_charges_once(
    outages: list[bool], asks_after: int
) -> None:
    """Each ask may meet an outage after the provider acted (the fake charges, then the answer
    is lost: the harder case); the caller asks again until it gets an answer, then a few more
    times. Exactly one charge is taken and the invoice is paid once."""
    clock = FrozenClock(NOW)
    store = MemoryStore()
    gateway = FakePaymentGateway(clock=clock)
    app = memory_application(clock, store=store, gateway=gateway)
    world = build_world(app)
    save_card(app, world, gateway)
    invoice = fee_invoice(app, world)
    payment: Payment | None = None
    for outage in [*outages, False]:
        if outage:
            gateway.fail_next(ProviderUnavailable("fake", "answer lost", possibly_done=True))
        try:
            payment = app.charge_customer(world.school.id, invoice.id, NO_SHOW)
            break
        except ProviderUnavailable:
            continue
    for _ in range(asks_after):
        assert payment is not None
        assert app.charge_customer(world.school.id, invoice.id, NO_SHOW).id == payment.id
    assert payment is not None
    assert payment.status is PaymentStatus.SUCCEEDED
    assert sum(1 for c in gateway.charges.values() if c.captured.is_positive) == 1
    assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
    assert record(store, "invoices", invoice.id).paid == dkk("300.00")
