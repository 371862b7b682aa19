"""PayPal per school: two schools, each with its own PayPal account (client id, secret,
webhook id) set through `set_school_paypal`, on the SQL store (SQLite and PostgreSQL), with the
PayPal simulator playing both merchants. Each school's order is created, captured and refunded
with its own credentials; each school's webhooks, delivered to its own URL
(`/webhook/payments/paypal/<school id>`), are verified with its own webhook id, and a delivery
signed for the other school's webhook is refused there. The secret is sealed at rest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from attrs import define, evolve
from conftest import Database
from cryptography.fernet import Fernet
from integration_support import NOW, dkk
from sqlalchemy import select

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.paypal.gateway import PayPalGateway
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.school_gateways import SchoolGateways
from justdriving.adapters.sql import tables
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.adapters.webhooks.registry import Receivers
from justdriving.application import Application
from justdriving.domain.errors import InvalidInput, InvalidSignature, NotFound
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.domain.invoices import Invoice
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, School, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.testing.paypal.simulator import PayPalSimulator

RETURN_URL = "https://school.example/paypal/return"
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
NORTH = ("AbNorthClient0000000001", "EbNorthSecret000000000001", "WHNORTH0000000001")
SOUTH = ("AbSouthClient0000000002", "EbSouthSecret000000000002", "WHSOUTH0000000002")


@define
class Platform:
    app: Application
    paypal: PayPalSimulator

    def school(self, name: str, account: tuple[str, str, str]) -> tuple[School, Invoice]:
        settings = evolve(SchoolSettings(), payment_gateway="paypal")
        school = self.app.register_school(name, settings=settings)
        self.app.set_school_paypal(school.id, *account)
        student = self.app.add_student(school.id, "Jonas Madsen")
        line = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
        draft = self.app.draft_invoice(school.id, student.id, [line])
        return school, self.app.issue_invoice(school.id, draft.id)

    def deliver(self, school: School, body: bytes, webhook_id: str) -> list[EventOutcome]:
        """PayPal's delivery to the school's own URL, signed for `webhook_id`."""
        headers = self.paypal.sign(body, webhook_id=webhook_id)
        return self.app.receive_payment_webhook(f"paypal/{school.id}", body, headers)

    def verified_with(self) -> list[str]:
        return [json.loads(r.body)["webhook_id"] for r in self.paypal.requests_to(VERIFY_PATH)]


def _application(uow: UnitOfWorkFactory, paypal: PayPalSimulator) -> Application:
    def build(credentials: GatewayCredentials) -> PayPalGateway:
        return PayPalGateway(
            credentials.client_id,
            credentials.client_secret,
            credentials.webhook_id,
            api_base=paypal.base_url,
        )

    gateways = SchoolGateways(MemoryGatewayRegistry({}, default=None), uow, build)
    return Application(
        uow=uow,
        clock=FrozenClock(NOW),
        gateways=gateways,
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        receivers=Receivers([], gateways),
    )


@pytest.fixture
def platform(database: Database) -> Iterator[Platform]:
    with PayPalSimulator(clock=lambda: NOW) as paypal:
        for client_id, secret, webhook_id in (NORTH, SOUTH):
            paypal.add_merchant(client_id, secret, webhook_id)
        yield Platform(_application(database.uow, paypal), paypal)


def test_each_school_is_paid_and_refunded_on_its_own_paypal_account(platform: Platform) -> None:
    north, north_invoice = platform.school("Køreskolen Nord", NORTH)
    south, south_invoice = platform.school("Køreskolen Syd", SOUTH)
    app, paypal = platform.app, platform.paypal

    started = {
        s.id: app.start_invoice_payment(s.id, i.id, return_url=RETURN_URL)
        for s, i in ((north, north_invoice), (south, south_invoice))
    }
    orders = {school: s.session.provider_payment_id for school, s in started.items()}
    assert paypal.orders_of(NORTH[0]) == [orders[north.id]]  # made with north's credentials
    assert paypal.orders_of(SOUTH[0]) == [orders[south.id]]

    for school, account in ((north, NORTH), (south, SOUTH)):
        redirect = started[school.id].session.redirect_url
        assert redirect is not None
        assert httpx.get(redirect).status_code == 302  # the payer approves
        approved = paypal.deliveries[-1][0]
        assert platform.deliver(school, approved, account[2]) == [EventOutcome.APPLIED]
        app.relay_outbox()  # the capture, on the school's account (another's order is 404)
        captured = paypal.deliveries[-1][0]
        assert platform.deliver(school, captured, account[2]) == [EventOutcome.APPLIED]

    assert platform.verified_with() == [NORTH[2]] * 2 + [SOUTH[2]] * 2
    for school in (north, south):
        refund = app.refund(school.id, started[school.id].payment.id, amount=dkk("100.00"))
        app.relay_outbox()
        with app.uow() as uow:
            payment = uow.payments.get(started[school.id].payment.id)
            assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, dkk("500.00"))
            assert uow.refunds.get(refund.id).status is RefundStatus.SUCCEEDED
        assert len(paypal.refunds_for(orders[school.id])) == 1


def test_a_delivery_signed_for_another_schools_webhook_is_refused_and_stores_nothing(
    platform: Platform,
) -> None:
    north, north_invoice = platform.school("Køreskolen Nord", NORTH)
    south, _ = platform.school("Køreskolen Syd", SOUTH)
    started = platform.app.start_invoice_payment(north.id, north_invoice.id, return_url=RETURN_URL)
    assert started.session.redirect_url is not None
    httpx.get(started.session.redirect_url)
    approved = platform.paypal.deliveries[-1][0]

    with platform.app.uow() as uow:
        before = len(uow.inbox.list())
    with pytest.raises(InvalidSignature):
        platform.deliver(south, approved, NORTH[2])  # north's delivery at south's URL
    with pytest.raises(InvalidSignature):
        platform.deliver(north, approved, SOUTH[2])  # signed for south's webhook
    with pytest.raises(NotFound):  # the platform has no PayPal account of its own
        platform.app.receive_payment_webhook("paypal", approved, platform.paypal.sign(approved))
    with pytest.raises(NotFound):
        platform.deliver(evolve(north, id="sch_unknown"), approved, NORTH[2])
    with platform.app.uow() as uow:
        assert len(uow.inbox.list()) == before
    assert platform.deliver(north, approved, NORTH[2]) == [EventOutcome.APPLIED]


@pytest.mark.parametrize(
    ("school", "account", "refused"),
    [
        ("sch_unknown", NORTH, NotFound),
        (None, ("short", NORTH[1], NORTH[2]), InvalidInput),
        (None, (NORTH[0], "with space in it", NORTH[2]), InvalidInput),
        (None, (NORTH[0], NORTH[1], "WH/../x"), InvalidInput),
        (None, (NORTH[0], "", NORTH[2]), InvalidInput),
    ],
)
def test_unknown_schools_and_malformed_credentials_are_refused_and_change_nothing(
    platform: Platform,
    school: str | None,
    account: tuple[str, str, str],
    refused: type[Exception],
) -> None:
    north, _ = platform.school("Køreskolen Nord", SOUTH)
    with platform.app.uow() as uow:
        before = uow.gateway_credentials.find(GatewayCredentials.key("paypal", north.id))
    assert before is not None

    with pytest.raises(refused) as raised:
        platform.app.set_school_paypal(school or north.id, *account)

    assert account[1] not in str(raised.value) or not account[1]
    with platform.app.uow() as uow:
        after = uow.gateway_credentials.find(GatewayCredentials.key("paypal", north.id))
    assert after is not None
    assert (after.client_id, after.client_secret, after.webhook_id) == SOUTH
    assert platform.app.school_paypal(north.id) is not None


def test_the_secret_is_sealed_at_rest_and_never_shown(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine, TokenCipher([Fernet.generate_key().decode()]))
    with PayPalSimulator(clock=lambda: NOW) as paypal:
        app = _application(uow, paypal)
        school = app.register_school("Køreskolen Nord")
        shown = app.set_school_paypal(school.id, *NORTH)
    with engine.connect() as connection:
        [row] = connection.execute(select(tables.gateway_credentials)).mappings().all()
    stored = json.dumps(dict(row), default=str)
    engine.dispose()

    assert NORTH[1] not in stored
    assert "fernet:" in stored
    assert NORTH[1] not in repr(shown)
    assert shown.webhook_path == f"/webhook/payments/paypal/{school.id}"
    with uow() as opened:
        credentials = opened.gateway_credentials.get(GatewayCredentials.key("paypal", school.id))
    assert credentials.client_secret == NORTH[1]
    assert NORTH[1] not in repr(credentials)
