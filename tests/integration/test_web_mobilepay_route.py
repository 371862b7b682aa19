"""Vipps MobilePay through the whole stack: MOBILEPAY_* settings give the container a
"mobilepay" gateway beside PAYMENT_PROVIDER's, a school that chose it pays through it, and the
one webhook road (`/webhook/payments/mobilepay`) verifies the HMAC over PUBLIC_BASE_URL's path
and host, stores, applies inline, and the relay captures the approved payment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from attrs import frozen
from flask.testing import FlaskClient
from integration_support import NOW

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.config import QueueBackend, Settings
from justdriving.container import build_container
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import create_app
from justdriving.testing.mobilepay.simulator import MobilePaySimulator

BASE = "https://app.example"
HOOK = BASE + "/webhook/payments/mobilepay"


@frozen
class Site:
    app: Application
    client: FlaskClient
    vipps: MobilePaySimulator


def mobilepay_settings(vipps: MobilePaySimulator, secret: str) -> Settings:
    credentials = vipps.credentials()
    return Settings(
        database_url="memory://",
        queue_backend=QueueBackend.INLINE,
        public_base_url=BASE,
        return_url_hosts=("school.example",),
        mobilepay_client_id=credentials.client_id,
        mobilepay_client_secret=credentials.client_secret,
        mobilepay_subscription_key=credentials.subscription_key,
        mobilepay_merchant_serial_number=credentials.merchant_serial_number,
        mobilepay_webhook_secret=secret,
        mobilepay_api_base=vipps.base_url,
    )


@pytest.fixture
def site() -> Iterator[Site]:
    with MobilePaySimulator(clock=lambda: NOW) as vipps:
        container = build_container(mobilepay_settings(vipps, vipps.register_webhook(HOOK)))
        container.clock.override(FrozenClock(NOW))
        yield Site(container.application(), create_app(container).test_client(), vipps)


def post(site: Site, delivery: tuple[bytes, dict[str, str]]) -> tuple[int, dict[str, int]]:
    body, headers = delivery
    answer = site.client.post("/webhook/payments/mobilepay", data=body, headers=headers)
    return answer.status_code, answer.get_json()


def test_a_school_on_mobilepay_is_paid_through_the_webhook_route(site: Site) -> None:
    app = site.app
    school = app.register_school(
        "Køreskolen Vest",
        vat_number="DK12345678",
        settings=SchoolSettings(payment_gateway="mobilepay"),
    )
    student = app.add_student(school.id, "Ida Holm", phone="+4520123456", email="ida@example.dk")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)
    started = app.start_invoice_payment(
        school.id, invoice.id, return_url="https://school.example/back"
    )
    reference = started.session.provider_payment_id

    status, answer = post(site, site.vipps.approve(reference))
    assert (status, answer["received"]) == (200, 1)
    app.relay_outbox()  # captures the approved payment
    status, answer = post(site, site.vipps.deliveries[-1])
    assert (status, answer["received"]) == (200, 1)
    assert post(site, site.vipps.deliveries[-1])[1]["duplicates"] == 1
    with app.uow() as uow:
        assert uow.payments.get(started.payment.id).status is PaymentStatus.SUCCEEDED
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.PAID


@pytest.mark.parametrize("where", ["secret", "url", "stale", "none"])
def test_an_unverified_delivery_gets_a_400_and_leaves_nothing(site: Site, where: str) -> None:
    body = b'{"msn":"123456","reference":"a0000000-xpay-1x","pspReference":"p","name":"CAPTURED"}'
    headers = {
        "secret": lambda: site.vipps.sign(body, NOW, "someone-else", HOOK),
        "url": lambda: site.vipps.sign(body, NOW, _secret(site), "https://evil.example/hook"),
        "stale": lambda: site.vipps.sign(body, NOW.replace(hour=8), _secret(site), HOOK),
        "none": lambda: {},
    }[where]()
    answer = site.client.post("/webhook/payments/mobilepay", data=body, headers=headers)
    assert answer.status_code == 400
    with site.app.uow() as uow:
        assert uow.inbox.list() == []


def _secret(site: Site) -> str:
    [hook] = site.vipps.merchants[site.vipps.default_msn].webhooks.values()
    return hook.secret


def test_half_configured_mobilepay_names_what_is_missing() -> None:
    settings = Settings(database_url="memory://", mobilepay_client_id="id-only")
    with pytest.raises(ConfigurationError) as refused:
        build_container(settings).gateways()
    assert "MOBILEPAY_CLIENT_SECRET" in str(refused.value.problems)
    assert "PUBLIC_BASE_URL" in str(refused.value.problems)


def test_a_no_show_fee_on_an_agreement_is_paid_through_the_webhook_route(site: Site) -> None:
    app = site.app
    school = app.register_school(
        "Køreskolen Nord",
        vat_number="DK12345678",
        settings=SchoolSettings(payment_gateway="mobilepay"),
    )
    student = app.add_student(school.id, "Ida Holm", phone="+4520123456", email="ida@example.dk")
    setup = app.start_saving_card(
        school.id, student.id, return_url="https://school.example/payment-methods"
    )
    status, answer = post(site, site.vipps.approve_agreement(setup.session.provider_setup_id))
    assert (status, answer["received"]) == (200, 1)
    line = LineItem(InvoiceService.NO_SHOW_FEE, "Udeblivelse", Money(30000, "DKK"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)
    payment = app.charge_customer(school.id, invoice.id, ChargeReason(ChargeKind.NO_SHOW_FEE, "b"))
    body, headers = site.vipps.process_charge(payment.provider_payment_id or "")
    with site.app.uow() as uow:
        stored = len(uow.inbox.list())

    forged = site.vipps.sign(body, NOW, "someone-else", HOOK)
    assert site.client.post(HOOK.removeprefix(BASE), data=body, headers=forged).status_code == 400
    with site.app.uow() as uow:
        assert len(uow.inbox.list()) == stored
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.OPEN

    status, answer = post(site, (body, headers))
    assert (status, answer["received"]) == (200, 1)
    with app.uow() as uow:
        assert uow.payments.get(payment.id).status is PaymentStatus.SUCCEEDED
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.PAID
