"""Only the configured payment gateway has a webhook route: on a PayPal platform, an event
signed the fake gateway's way — with PAYMENT_WEBHOOK_SECRET, which for PayPal is a webhook id
and no secret, or with the public development secret — never reaches a PayPal payment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from attrs import frozen
from flask.testing import FlaskClient
from integration_support import NOW

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock
from justdriving.adapters.memory.fake_webhooks import amount_data
from justdriving.application import Application
from justdriving.config import PaymentProvider, QueueBackend, Settings
from justdriving.container import DEV_WEBHOOK_SECRET, build_container
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import create_app
from justdriving.testing.paypal.simulator import PayPalSimulator

PRICE = Money(50000, "DKK")


@frozen
class PayPalSite:
    app: Application
    client: FlaskClient
    paypal: PayPalSimulator
    invoice_id: str
    payment_id: str
    order_id: str

    def invoice_and_payment(self) -> tuple[str, str, int]:
        with self.app.uow() as uow:
            invoice = uow.invoices.get(self.invoice_id)
            payment = uow.payments.get(self.payment_id)
            stored = len(uow.inbox.list())
        return str(invoice.status), str(payment.status), stored


@pytest.fixture
def on_paypal() -> Iterator[PayPalSite]:
    with PayPalSimulator(clock=lambda: NOW) as paypal:
        settings = Settings(
            database_url="memory://",
            queue_backend=QueueBackend.INLINE,
            payment_provider=PaymentProvider.PAYPAL,
            payment_provider_key=paypal.client_id,
            payment_provider_secret=paypal.client_secret,
            payment_webhook_secret=paypal.webhook_id,
            payment_api_base_url=paypal.base_url,
            return_url_hosts=("school.example",),
        )
        container = build_container(settings)
        app: Application = container.application()
        client = create_app(container).test_client()
        school = app.register_school("Køreskolen PayPal")
        student = app.add_student(school.id, "Ida Holm", email="ida@example.dk")
        line = LineItem(InvoiceService.LESSON, "Køretime", PRICE)
        draft = app.draft_invoice(school.id, student.id, [line])
        invoice = app.issue_invoice(school.id, draft.id)
        answer = client.post(
            f"/api/invoices/{invoice.id}/payments",
            json={"school_id": school.id, "return_url": "https://school.example/back"},
        )
        assert answer.status_code == 201, answer.json
        assert answer.json["provider"] == "paypal"
        payment_id = answer.json["payment_id"]
        with app.uow() as uow:
            order_id = uow.payments.get(payment_id).provider_payment_id
        assert order_id is not None
        yield PayPalSite(app, client, paypal, invoice.id, payment_id, order_id)


@pytest.mark.parametrize(
    "secret", ["webhook id", "development secret"], ids=["webhook-id", "dev-secret"]
)
def test_a_fake_signed_success_naming_a_paypal_payment_is_404_and_pays_nothing(
    on_paypal: PayPalSite, secret: str
) -> None:
    signing = on_paypal.paypal.webhook_id if secret == "webhook id" else DEV_WEBHOOK_SECRET
    forger = FakePaymentGateway("fake", webhook_secret=signing, clock=FrozenClock(NOW))
    data = {
        "payment_id": on_paypal.payment_id,
        "provider_payment_id": on_paypal.order_id,
        "amount": amount_data(PRICE),
    }
    body, headers = forger.webhook("payment.succeeded", data)

    answer = on_paypal.client.post("/webhook/payments/fake", data=body, headers=headers)

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
    assert on_paypal.invoice_and_payment() == ("open", "pending", 0)


def test_a_paypal_platform_has_no_fake_checkout_or_webhook_route(on_paypal: PayPalSite) -> None:
    rules = [rule.rule for rule in on_paypal.client.application.url_map.iter_rules()]

    assert not [rule for rule in rules if rule.startswith("/dev/")]
    assert on_paypal.client.get(f"/dev/checkout/{on_paypal.order_id}").status_code == 404
    assert on_paypal.client.post("/webhook/payments/fake", data=b"{}").status_code == 404
