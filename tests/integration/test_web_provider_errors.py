"""A real provider's failure on a web route answers its documented status, never a 500: the
app bootstrapped on Stripe or PayPal, each adapter talking to its simulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient
from integration_support import NOW

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.config import PaymentProvider, QueueBackend, Settings
from justdriving.container import build_container
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import create_app
from justdriving.testing.paypal.simulator import PayPalSimulator
from justdriving.testing.stripe.simulator import StripeSimulator


def _on(settings: Settings) -> tuple[Application, FlaskClient]:
    container = build_container(settings)
    container.clock.override(providers.Object(FrozenClock(NOW)))
    return container.application(), create_app(container).test_client()


@pytest.fixture
def stripe() -> Iterator[StripeSimulator]:
    with StripeSimulator(clock=FrozenClock(NOW)) as simulator:
        yield simulator


def test_an_amount_stripe_cannot_carry_is_422_provider_rejected(
    stripe: StripeSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    app, client = _on(
        Settings(
            database_url="memory://",
            payment_provider=PaymentProvider.STRIPE,
            payment_provider_secret=stripe.secret_key,
            payment_webhook_secret=stripe.webhook_secret,
            payment_api_base_url=stripe.api_base,
        )
    )
    school = app.register_school("Kuwait Driving", currency="KWD", timezone="Asia/Kuwait")
    student = app.add_student(school.id, "Ida Holm", email="ida@example.dk")
    # Stripe takes KWD in multiples of 10 fils: 1.235 KWD cannot be charged.
    line = LineItem(InvoiceService.LESSON, "Lesson", Money.parse("1.235", "KWD"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)

    with caplog.at_level(logging.INFO):
        answer = client.post(f"/api/invoices/{invoice.id}/payments", json={"school_id": school.id})

    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "provider_rejected"
    assert "multiples of 10" in answer.json["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info]


def test_paypal_refusing_our_credentials_while_verifying_a_webhook_is_503_and_stores_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with PayPalSimulator(clock=lambda: NOW) as paypal:
        app, client = _on(
            Settings(
                database_url="memory://",
                queue_backend=QueueBackend.INLINE,
                payment_provider=PaymentProvider.PAYPAL,
                payment_provider_key=paypal.client_id,
                payment_provider_secret="not-the-secret",  # a wrong one, on purpose
                payment_webhook_secret=paypal.webhook_id,
                payment_api_base_url=paypal.base_url,
            )
        )
        body = b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED"}'

        with caplog.at_level(logging.INFO):
            answer = client.post(
                "/webhook/payments/paypal", data=body, headers=paypal.sign(body, NOW)
            )

    assert answer.status_code == 503  # PayPal delivers it again once the setting is fixed
    assert answer.json["error"] == {
        "code": "configuration_error",
        "message": "this service is not configured for the request",
    }
    assert not [r for r in caplog.records if r.exc_info]
    with app.uow() as uow:
        assert list(uow.inbox.list()) == []
