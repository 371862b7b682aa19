"""An invoice paid and partly refunded through PayPal, end to end: the use cases, the inbox and
the relay on in-memory persistence, PayPalGateway over HTTP, and the PayPal simulator as PayPal.

It also shows the one step PayPal needs that the use cases do not take yet: after
CHECKOUT.ORDER.APPROVED the merchant must capture the order (`complete`).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from integration_support import NOW, build_world, dkk

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.paypal.gateway import PayPalGateway
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.paypal.simulator import PayPalSimulator

RETURN_URL = "https://school.example/paypal/return"


@pytest.fixture
def paypal() -> Iterator[PayPalSimulator]:
    with PayPalSimulator(clock=lambda: NOW) as simulator:
        yield simulator


@pytest.fixture
def gateway(paypal: PayPalSimulator) -> Iterator[PayPalGateway]:
    gateway = PayPalGateway(
        paypal.client_id, paypal.client_secret, paypal.webhook_id, api_base=paypal.base_url
    )
    yield gateway
    gateway.close()


@pytest.fixture
def app(gateway: PayPalGateway) -> Application:
    return Application(
        uow=MemoryUnitOfWorkFactory(MemoryStore()),
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry({"paypal": gateway}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


def test_an_invoice_is_paid_with_paypal_and_partly_refunded(
    app: Application, gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    world = build_world(app)
    draft = app.draft_invoice(
        world.school.id,
        world.student.id,
        [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))],
    )
    invoice = app.issue_invoice(world.school.id, draft.id)
    started = app.start_invoice_payment(world.school.id, invoice.id, return_url=RETURN_URL)
    order_id = started.session.provider_payment_id
    assert started.session.redirect_url is not None

    # The payer approves on PayPal's page and comes back to the school's return URL.
    page = httpx.get(started.session.redirect_url)
    assert page.status_code == 302
    assert page.headers["Location"].startswith(f"{RETURN_URL}?token={order_id}")
    [approved] = paypal.deliveries
    assert app.receive_payment_webhook("paypal", *approved) == [EventOutcome.APPLIED]

    # The merchant's step after approval, queued by the approval and made by the relay;
    # PayPal then announces the completed capture.
    report = app.relay_outbox()
    assert report.sent >= 1
    assert any(r.path.endswith(f"/orders/{order_id}/capture") for r in paypal.requests)
    captured = paypal.deliveries[-1]
    assert app.receive_payment_webhook("paypal", *captured) == [EventOutcome.APPLIED]
    assert app.receive_payment_webhook("paypal", *captured) == [EventOutcome.IGNORED]
    with app.uow() as uow:
        payment = uow.payments.get(started.payment.id)
        assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, dkk("500.00"))
        assert uow.invoices.get(invoice.id).status is InvoiceStatus.PAID

    refund = app.refund(world.school.id, started.payment.id, amount=dkk("100.00"))
    app.relay_outbox()
    # PayPal answered COMPLETED, so the relay settled the refund; its webhook is old news.
    refunded = paypal.deliveries[-1]
    assert app.receive_payment_webhook("paypal", *refunded) == [EventOutcome.IGNORED]
    with app.uow() as uow:
        settled = uow.refunds.get(refund.id)
        assert settled.status is RefundStatus.SUCCEEDED
        assert settled.provider_refund_id == paypal.refunds_for(order_id)[0]["id"]
        assert uow.payments.get(started.payment.id).refunded == dkk("100.00")
