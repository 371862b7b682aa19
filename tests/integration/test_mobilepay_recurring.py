"""Charges on file at a MobilePay school, end to end: the use cases on SQLite and PostgreSQL,
MobilePayGateway over HTTP against the Vipps MobilePay simulator (Recurring API), webhooks
through the inbox.

The student approves an agreement in the app (the saved method: brand "mobilepay", nothing
else shown); a no-show fee is charged on it. Unlike a card, the charge's answer is not its
outcome: the payment is processing until Vipps MobilePay's webhook says the charge was captured
(the invoice is paid) or failed (the payment fails with Vipps MobilePay's reason, charged again
only where that can succeed). A stopped agreement, another student's agreement and a forged
webhook are refused with nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import define
from integration_support import build_world

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.mobilepay.gateway import MobilePayGateway
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.errors import InvalidSignature, NotFound, ProviderRejected
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.mobilepay.simulator import Delivery, MobilePaySimulator

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WEBHOOK_URL = "https://app.example/webhook/payments/mobilepay"
RETURN_URL = "https://school.example/account/payment-methods"
FEE = LineItem(InvoiceService.NO_SHOW_FEE, "Udeblivelse", Money(30000, "DKK"))
NO_SHOW = ChargeReason(ChargeKind.NO_SHOW_FEE, "bk_1")


@define
class Platform:
    app: Application
    uow: SqlUnitOfWorkFactory
    vipps: MobilePaySimulator
    school_id: str
    student_id: str

    def receive(self, delivery: Delivery) -> list[EventOutcome]:
        return self.app.receive_payment_webhook("mobilepay", *delivery)

    def save_agreement(self, student_id: str | None = None) -> str:
        student = student_id or self.student_id
        setup = self.app.start_saving_card(self.school_id, student, return_url=RETURN_URL)
        assert setup.session.redirect_url  # the vippsConfirmationUrl: the app takes over
        assert self.app.saved_payment_methods(self.school_id, student) == []
        agreement = setup.session.provider_setup_id
        self.receive(self.vipps.approve_agreement(agreement))
        return agreement

    def process(self, payment: Any) -> list[EventOutcome]:
        """Vipps MobilePay processes the charge a minute after it was created, and says so."""
        clock = self.app.clock
        assert isinstance(clock, FrozenClock)
        clock.set(clock.now() + timedelta(minutes=1))
        return self.receive(self.vipps.process_charge(payment.provider_payment_id or ""))

    def fee_invoice(self) -> str:
        draft = self.app.draft_invoice(self.school_id, self.student_id, [FEE])
        return self.app.issue_invoice(self.school_id, draft.id).id

    def read(self, kind: str, ident: str) -> Any:
        with self.uow() as uow:
            return getattr(uow, kind).get(ident)

    def payments_of(self, invoice_id: str) -> list[Any]:
        with self.uow() as uow:
            payments = uow.payments.for_student(self.school_id, self.student_id)
            return [p for p in payments if p.invoice_id == invoice_id]


@pytest.fixture
def platform(uow: SqlUnitOfWorkFactory) -> Iterator[Platform]:
    clock = FrozenClock(NOW)
    with MobilePaySimulator(clock=clock.now) as vipps:
        secret = vipps.register_webhook(WEBHOOK_URL)
        gateway = MobilePayGateway(
            vipps.credentials(), secret, WEBHOOK_URL, api_base=vipps.base_url
        )
        app = Application(
            uow=uow,
            clock=clock,
            gateways=MemoryGatewayRegistry({"mobilepay": gateway}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        world = build_world(app)
        try:
            yield Platform(app, uow, vipps, world.school.id, world.student.id)
        finally:
            gateway.close()


def test_an_approved_agreement_is_listed_and_a_no_show_fee_is_charged_on_it(
    platform: Platform,
) -> None:
    agreement = platform.save_agreement()
    [shown] = platform.app.saved_payment_methods(platform.school_id, platform.student_id)
    assert (shown.provider_method_id, shown.brand, shown.last4, shown.exp_year) == (
        agreement,
        "mobilepay",
        None,
        None,
    )
    invoice_id = platform.fee_invoice()

    payment = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert payment.status is PaymentStatus.PROCESSING  # not a card: the webhook tells
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.OPEN
    charge = platform.vipps.charge(payment.provider_payment_id or "")
    assert (charge.agreement.id, charge.amount, charge.type) == (agreement, 30000, "UNSCHEDULED")
    again = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    assert again.id == payment.id
    assert platform.vipps.charge_count() == 1

    assert platform.process(payment) == [EventOutcome.APPLIED]

    assert platform.read("payments", payment.id).status is PaymentStatus.SUCCEEDED
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.PAID


def test_a_failed_charge_is_recorded_with_its_reason_and_charged_again_only_if_it_can_pay(
    platform: Platform,
) -> None:
    agreement = platform.save_agreement()
    invoice_id = platform.fee_invoice()
    platform.vipps.fail_next_charge(agreement, "user_action_required")  # e.g. no funds

    first = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    platform.process(first)

    failed = platform.read("payments", first.id)
    assert (failed.status, failed.failure_reason) == (
        PaymentStatus.FAILED,
        "user_action_required",
    )
    assert failed.retryable_decline
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.OPEN

    second = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    assert second.id != first.id
    platform.process(second)
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.PAID
    assert platform.vipps.charge_count() == 2


def test_a_charge_that_cannot_succeed_again_is_not_retried(platform: Platform) -> None:
    agreement = platform.save_agreement()
    invoice_id = platform.fee_invoice()
    platform.vipps.fail_next_charge(agreement, "non_technical_error")  # profile deleted
    first = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    platform.process(first)
    assert platform.read("payments", first.id).failure_reason == "non_technical_error"

    again = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert again.id == first.id
    assert platform.vipps.charge_count() == 1


def test_a_stopped_agreement_is_not_charged_and_nothing_is_stored(platform: Platform) -> None:
    agreement = platform.save_agreement()
    invoice_id = platform.fee_invoice()
    platform.receive(platform.vipps.stop_agreement_in_app(agreement))  # the student, in the app

    with pytest.raises(ProviderRejected) as refused:
        platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert refused.value.provider_code == "agreement_not_active"
    assert platform.payments_of(invoice_id) == []
    assert platform.vipps.charge_count() == 0
    assert platform.app.saved_payment_methods(platform.school_id, platform.student_id) == []


def test_removing_the_agreement_stops_it_and_another_students_cannot_be_removed(
    platform: Platform,
) -> None:
    agreement = platform.save_agreement()
    other = platform.app.add_student(platform.school_id, "Bo Berg", phone="20 98 76 54")
    theirs = platform.save_agreement(other.id)

    with pytest.raises(NotFound):
        platform.app.remove_payment_method(platform.school_id, platform.student_id, theirs)
    assert platform.vipps.agreement(theirs).status == "ACTIVE"

    platform.app.remove_payment_method(platform.school_id, platform.student_id, agreement)
    assert platform.vipps.agreement(agreement).status == "STOPPED"
    assert platform.app.saved_payment_methods(platform.school_id, platform.student_id) == []


def test_a_forged_charge_webhook_is_refused_and_changes_nothing(platform: Platform) -> None:
    platform.save_agreement()
    invoice_id = platform.fee_invoice()
    payment = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    body, headers = platform.vipps.process_charge(payment.provider_payment_id or "")
    forged = platform.vipps.sign(body, NOW, "not-the-secret", WEBHOOK_URL)

    with pytest.raises(InvalidSignature):
        platform.receive((body, forged))
    with pytest.raises(InvalidSignature):
        platform.receive((body.replace(b"30000", b"30001"), headers))

    assert platform.read("payments", payment.id).status is PaymentStatus.PROCESSING
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.OPEN


def test_a_school_that_charges_fees_gets_a_no_show_charged_on_the_agreement_by_the_relay(
    platform: Platform,
) -> None:
    app = platform.app
    school = app.register_school(
        "Køreskolen MobilePay",
        currency="DKK",
        timezone="Europe/Copenhagen",
        settings=SchoolSettings(charge_fees_to_saved_card=True),
    )
    teacher = app.add_teacher(school.id, "Lars Lærer", phone="+45 30 11 22 33")
    student = app.add_student(school.id, "Bo Berg", phone="20 98 76 54", email="bo@example.dk")
    lesson = app.add_booking_type(
        school.id, "Køretime", duration=timedelta(minutes=45), price=Money(50000, "DKK")
    )
    platform = Platform(app, platform.uow, platform.vipps, school.id, student.id)
    platform.save_agreement()
    booking = app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=NOW + timedelta(days=1),
    )
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.set(booking.slot.start + timedelta(minutes=15))
    [invoice] = app.mark_no_show(school.id, booking.id).invoices

    app.relay_outbox()  # charges the agreement: no human step

    [payment] = platform.payments_of(invoice.id)
    assert payment.status is PaymentStatus.PROCESSING
    assert platform.read("invoices", invoice.id).status is InvoiceStatus.OPEN
    platform.process(payment)
    assert platform.read("invoices", invoice.id).status is InvoiceStatus.PAID
    assert platform.vipps.charge(payment.provider_payment_id).amount == 50000
