"""An invoice paid with MobilePay (Vipps MobilePay's ePayment API) and partly refunded, end to
end: the use cases, the inbox and the relay on in-memory persistence, MobilePayGateway over
HTTP, and the MobilePay simulator as Vipps MobilePay and as the student's app.

The school chose the gateway by name ("mobilepay") while the platform's default is another one,
as a Danish school on a shared platform would. The student approves in the app; ePayment then
holds the amount (AUTHORIZED) and the relay captures it (`complete`), as PayPal's approval is
completed; the CAPTURED webhook settles the payment. A deposit hold stays authorized until the
school captures it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from integration_support import NOW, dkk

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.mobilepay.gateway import MobilePayGateway
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.errors import InvalidSignature, ProviderRejected
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.payments import RefundRequest
from justdriving.testing.mobilepay.simulator import MobilePaySimulator

RETURN_URL = "https://school.example/mobilepay/return"
WEBHOOK_URL = "https://app.example/webhook/payments/mobilepay"


@pytest.fixture
def vipps() -> Iterator[MobilePaySimulator]:
    with MobilePaySimulator(clock=lambda: NOW) as simulator:
        yield simulator


@pytest.fixture
def gateway(vipps: MobilePaySimulator) -> Iterator[MobilePayGateway]:
    secret = vipps.register_webhook(WEBHOOK_URL)
    gateway = MobilePayGateway(vipps.credentials(), secret, WEBHOOK_URL, api_base=vipps.base_url)
    yield gateway
    gateway.close()


@pytest.fixture
def app(gateway: MobilePayGateway) -> Application:
    gateways = {"fake": FakePaymentGateway(), "mobilepay": gateway}
    return Application(
        uow=MemoryUnitOfWorkFactory(MemoryStore()),
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry(gateways, default="fake"),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


def an_invoice(app: Application) -> tuple[str, str, str]:
    school = app.register_school(
        "Køreskolen MobilePay",
        currency="DKK",
        timezone="Europe/Copenhagen",
        phone_region="DK",
        vat_number="DK12345678",
        settings=SchoolSettings(payment_gateway="mobilepay"),
    )
    student = app.add_student(
        school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
    )
    draft = app.draft_invoice(
        school.id, student.id, [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))]
    )
    invoice = app.issue_invoice(school.id, draft.id)
    return school.id, student.id, invoice.id


def receive(app: Application, delivery: tuple[bytes, dict[str, str]]) -> list[EventOutcome]:
    return app.receive_payment_webhook("mobilepay", *delivery)


def test_an_invoice_is_paid_with_mobilepay_and_partly_refunded(
    app: Application, vipps: MobilePaySimulator
) -> None:
    school_id, _, invoice_id = an_invoice(app)
    started = app.start_invoice_payment(school_id, invoice_id, return_url=RETURN_URL)
    reference = started.session.provider_payment_id
    assert started.session.provider == "mobilepay"
    assert started.session.redirect_url is not None
    [create] = [r for r in vipps.deliveries]
    sent = vipps.payment(reference)
    assert (sent.value, sent.currency, sent.flow) == (50000, "DKK", "WEB_REDIRECT")

    # The payment waits for the student (CREATED moves nothing), who approves it in the app.
    assert receive(app, create) == [EventOutcome.IGNORED]
    assert receive(app, vipps.approve(reference)) == [EventOutcome.APPLIED]
    with app.uow() as uow:
        assert uow.payments.get(started.payment.id).status is PaymentStatus.PROCESSING

    # The relay captures the authorized amount; Vipps MobilePay announces the capture.
    assert app.relay_outbox().sent >= 1
    assert vipps.payment(reference).captured == 50000
    captured = vipps.deliveries[-1]
    assert json.loads(captured[0])["name"] == "CAPTURED"
    assert receive(app, captured) == [EventOutcome.APPLIED]
    assert receive(app, captured) == [EventOutcome.IGNORED]  # a redelivery: same event id
    with app.uow() as uow:
        payment = uow.payments.get(started.payment.id)
        assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, dkk("500.00"))
        assert uow.invoices.get(invoice_id).status is InvoiceStatus.PAID
    app.relay_outbox()
    assert vipps.payment(reference).captured == 50000  # captured once, however often asked

    refund = app.refund(school_id, started.payment.id, amount=dkk("100.00"))
    app.relay_outbox()
    refunded = vipps.deliveries[-1]
    assert json.loads(refunded[0])["name"] == "REFUNDED"
    assert receive(app, refunded) == [EventOutcome.IGNORED]  # the relay settled it already
    with app.uow() as uow:
        settled = uow.refunds.get(refund.id)
        assert settled.status is RefundStatus.SUCCEEDED
        assert settled.provider_refund_id == vipps.payment(reference).refunds[0]["pspReference"]
        assert uow.payments.get(started.payment.id).refunded == dkk("100.00")


def test_without_a_return_url_the_payment_is_pushed_to_the_students_phone(
    app: Application, vipps: MobilePaySimulator
) -> None:
    school_id, _, invoice_id = an_invoice(app)
    started = app.start_invoice_payment(school_id, invoice_id)
    request = vipps.payment(started.session.provider_payment_id)
    assert request.flow == "PUSH_MESSAGE"
    assert started.session.redirect_url is None


def test_a_student_who_declines_in_the_app_leaves_the_invoice_open(
    app: Application, vipps: MobilePaySimulator
) -> None:
    school_id, _, invoice_id = an_invoice(app)
    started = app.start_invoice_payment(school_id, invoice_id, return_url=RETURN_URL)
    assert receive(app, vipps.reject(started.session.provider_payment_id)) == [EventOutcome.APPLIED]
    with app.uow() as uow:
        payment = uow.payments.get(started.payment.id)
        assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "ABORTED")
        assert uow.invoices.get(invoice_id).status is InvoiceStatus.OPEN


def test_a_forged_or_replayed_delivery_changes_nothing(
    app: Application, vipps: MobilePaySimulator, gateway: MobilePayGateway
) -> None:
    school_id, _, invoice_id = an_invoice(app)
    started = app.start_invoice_payment(school_id, invoice_id, return_url=RETURN_URL)
    body, _ = vipps.approve(started.session.provider_payment_id)
    forged = vipps.sign(body, NOW, "not-the-secret", WEBHOOK_URL)
    elsewhere = vipps.sign(body, NOW, gateway._endpoint.secret, "https://evil.example/hook")
    for headers in (forged, elsewhere, {}):
        with pytest.raises(InvalidSignature):
            receive(app, (body, headers))
    with app.uow() as uow:
        assert uow.payments.get(started.payment.id).status is PaymentStatus.PENDING


def test_the_landing_page_and_unknown_references_are_refused_cleanly(
    gateway: MobilePayGateway, vipps: MobilePaySimulator
) -> None:
    with pytest.raises(ProviderRejected):
        gateway.cancel("a0000000-xno-1such", "key")
    with pytest.raises(ProviderRejected):
        gateway.capture("not a reference!", dkk("1.00"), "key")
    assert httpx.get(vipps.base_url + "/epayment/v1/payments/x").status_code == 401


def test_the_test_environments_force_approve_plays_the_payer(
    gateway: MobilePayGateway, vipps: MobilePaySimulator
) -> None:
    """What the live-sandbox suite does at apitest.vipps.no, here against the simulator."""
    from justdriving.domain.ids import new_id
    from justdriving.ports.payments import PaymentRequest

    request = PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=dkk("250.00"),
        description="Ok",
        idempotency_key=new_id("key"),
        return_url=RETURN_URL,
    )
    reference = gateway.start(request).provider_payment_id
    path = f"/epayment/v1/test/payments/{reference}/approve"
    gateway._api.call("POST", path, body={"customer": {"phoneNumber": "4520123456"}})
    gateway.complete(reference, "complete-1")
    gateway.complete(reference, "complete-1")
    assert vipps.payment(reference).captured == 25000
    assert gateway.refund(
        RefundRequest(new_id("re"), reference, dkk("250.00"), "requested", new_id("key"))
    ).provider_refund_id
    with pytest.raises(ProviderRejected):  # nothing left to refund
        gateway.refund(RefundRequest(new_id("re"), reference, dkk("0.01"), "again", new_id("k")))


def test_an_invoice_in_a_currency_mobilepay_does_not_take_is_refused_and_nothing_is_kept(
    app: Application, vipps: MobilePaySimulator
) -> None:
    school = app.register_school(
        "Driving School London",
        currency="GBP",
        timezone="Europe/London",
        phone_region="GB",
        settings=SchoolSettings(payment_gateway="mobilepay"),
    )
    student = app.add_student(school.id, "Ann Smith", email="ann@example.com")
    line = LineItem(InvoiceService.LESSON, "Lesson", Money.parse("50.00", "GBP"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)
    with pytest.raises(ProviderRejected):
        app.start_invoice_payment(school.id, invoice.id, return_url=RETURN_URL)
    with app.uow() as uow:
        assert uow.payments.for_student(school.id, student.id) == []
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.OPEN
    assert vipps.payment_count() == 0
