"""The web app on fakes, with a school whose student owes 500 DKK, and payments to start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import frozen
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, WebhookDelivery
from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import QueueBackend, Settings
from justdriving.container import Container, build_container
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxEvent
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import create_app

WEBHOOK = "/webhook/payments/fake"
# Every site's clock, pinned: what a test sees never depends on the hour or the day it runs.
NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
PAID = ("succeeded", "paid", 1)


def settings_for(
    database_url: str = "memory://", queue: QueueBackend = QueueBackend.WORKER, **changes: Any
) -> Settings:
    return Settings(database_url=database_url, queue_backend=queue, **changes)


@frozen
class Checkout:
    """An open invoice and the payment started for it; `ref` is the fake provider's id."""

    invoice_id: str
    payment_id: str
    ref: str


@frozen
class Site:
    """One app on fakes: its container, Flask app and application, and a school."""

    container: Container
    flask: Flask
    app: Application
    gateway: FakePaymentGateway
    school_id: str
    student_id: str

    def client(self) -> FlaskClient:
        return self.flask.test_client()

    def post(self, delivery: WebhookDelivery, client: FlaskClient | None = None) -> TestResponse:
        body, headers = delivery
        return (client or self.client()).post(WEBHOOK, data=body, headers=headers)

    def open_invoice(self) -> str:
        line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
        draft = self.app.draft_invoice(self.school_id, self.student_id, [line])
        return self.app.issue_invoice(self.school_id, draft.id).id

    def checkout(self) -> Checkout:
        invoice_id = self.open_invoice()
        started = self.app.start_invoice_payment(self.school_id, invoice_id)
        return Checkout(invoice_id, started.payment.id, started.session.provider_payment_id)

    def state(self, checkout: Checkout) -> tuple[str, str, int]:
        """The payment's status, the invoice's status and how many receipts it got."""
        with self.app.uow() as uow:
            payment = uow.payments.get(checkout.payment_id)
            invoice = uow.invoices.get(checkout.invoice_id)
            receipts = [
                m
                for m in uow.messages.for_school(self.school_id)
                if m.type is MessageType.PAYMENT_RECEIPT and m.context["payment_id"] == payment.id
            ]
        return str(payment.status), str(invoice.status), len(receipts)

    def inbox(self) -> list[InboxEvent]:
        with self.app.uow() as uow:
            return list(uow.inbox.list())


def build_site(settings: Settings | None = None, **create: Any) -> Site:
    """`create` goes to create_app (api_guard=...)."""
    container = build_container(settings or settings_for())
    container.clock.override(FrozenClock(NOW))
    if container.config.database() == "sql":
        upgrade(container.engine())
    flask = create_app(container, **create)
    app: Application = container.application()
    school = app.register_school("Køreskolen Web")
    # Reached by email only, so that each receipt is one message.
    student = app.add_student(school.id, "Ida Holm", email="ida@example.dk")
    return Site(container, flask, app, container.fake_gateway(), school.id, student.id)
