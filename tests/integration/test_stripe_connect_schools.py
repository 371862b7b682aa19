"""Two schools on one platform, each its own merchant on its own connected Stripe account
(Stripe Connect, direct charges): onboarding, charges enabled by Stripe's account.updated,
every payment, fee and refund on the school's own account, on SQLite and PostgreSQL.

The application is composed as the container composes it (STRIPE_CONNECT=1): StripeGateway
through the real SDK against the local Stripe simulator, Connect events on their own route
(`stripe-connect`) verified with their own signing secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from attrs import define
from conftest import Database
from integration_support import World, build_world
from sqlalchemy import func, select

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.factory import gateway_registry, stripe_gateway
from justdriving.adapters.sql import tables
from justdriving.application import Application
from justdriving.config import PaymentProvider, Settings
from justdriving.domain.connect import PlatformFee
from justdriving.domain.errors import ChargesNotEnabled, InvalidSignature
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxStatus
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.stripe.simulator import StripeSimulator

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
LESSON = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
RETURN, REFRESH = "https://app.example/connect/done", "https://app.example/connect/again"
Delivery = tuple[bytes, dict[str, str]]


@define
class Platform:
    app: Application
    simulator: StripeSimulator
    database: Database

    def connect_events(self, delivery: Delivery) -> list[EventOutcome]:
        return self.app.receive_payment_webhook("stripe-connect", *delivery)

    def account_of(self, world: World) -> str:
        with self.app.uow() as uow:
            account = uow.schools.get(world.school.id).connected_account
        assert account is not None
        return account.account_id

    def onboard(self, world: World) -> str:
        link = self.app.connect_stripe_account(world.school.id, RETURN, REFRESH)
        account = self.account_of(world)
        assert link.startswith(f"https://connect.stripe.com/setup/s/{account}/")
        assert self.connect_events(self.simulator.review_account(account)) == [EventOutcome.APPLIED]
        return account

    def pay(self, world: World) -> tuple[str, str]:
        """(our payment id, the PaymentIntent) of a new invoice's payment, paid by the student."""
        draft = self.app.draft_invoice(world.school.id, world.student.id, [LESSON])
        invoice = self.app.issue_invoice(world.school.id, draft.id)
        started = self.app.start_invoice_payment(world.school.id, invoice.id)
        ref = started.session.provider_payment_id
        account = self.account_of(world)
        delivery = self.simulator.connected(account).succeed(ref)
        assert self.connect_events(delivery) == [EventOutcome.APPLIED]
        return started.payment.id, ref

    def count(self, table: str) -> int:
        with self.database.engine.connect() as connection:
            counted = connection.execute(
                select(func.count()).select_from(tables.metadata.tables[table])
            ).scalar_one()
        return int(counted)


@pytest.fixture
def platform(database: Database) -> Iterator[Platform]:
    clock = FrozenClock(NOW)
    with StripeSimulator(clock=clock) as simulator:
        settings = Settings(
            payment_provider=PaymentProvider.STRIPE,
            payment_provider_secret=simulator.secret_key,
            payment_webhook_secret=simulator.webhook_secret,
            payment_api_base_url=simulator.api_base,
            stripe_connect=True,
            stripe_connect_webhook_secret=simulator.connect_webhook_secret,
        )
        app = Application(
            uow=database.uow,
            clock=clock,
            gateways=gateway_registry(stripe_gateway(settings), settings=settings),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        yield Platform(app, simulator, database)


def test_each_schools_payments_fees_and_refunds_land_on_its_own_account(
    platform: Platform,
) -> None:
    east, west = build_world(platform.app), build_world(platform.app, "Vest Køreskole")
    platform.app.change_school(east.school.id, settings={"platform_fee": PlatformFee.share(250)})
    fixed = PlatformFee.fixed(Money(500, "DKK"))
    platform.app.change_school(west.school.id, settings={"platform_fee": fixed})
    accounts = {w.school.id: platform.onboard(w) for w in (east, west)}

    paid = {w.school.id: platform.pay(w) for w in (east, west)}
    west_payment, _ = paid[west.school.id]
    platform.app.refund(west.school.id, west_payment, amount=Money(20000, "DKK"), reason="ill")
    platform.app.relay_outbox()

    sim = platform.simulator
    assert sim.payment_intents == {}
    assert sim.refunds == {}
    for world, fee in ((east, 1250), (west, 500)):
        on_account = sim.connected(accounts[world.school.id])
        payment_id, ref = paid[world.school.id]
        assert list(on_account.payment_intents) == [ref]
        assert on_account.payment_intents[ref]["application_fee_amount"] == fee
        with platform.app.uow() as uow:
            payment = uow.payments.get(payment_id)
            invoice = uow.invoices.get(payment.invoice_id or "")
        assert payment.status is PaymentStatus.SUCCEEDED
        assert payment.connected_account == accounts[world.school.id]
        assert payment.platform_fee == Money(fee, "DKK")
        assert invoice.status is InvoiceStatus.PAID
    west_refunds = sim.connected(accounts[west.school.id]).refunds
    east_refunds = sim.connected(accounts[east.school.id]).refunds
    assert [r["amount"] for r in west_refunds.values()] == [20000]
    assert east_refunds == {}


def test_a_school_not_onboarded_takes_no_card_payment_until_stripe_enables_charges(
    platform: Platform,
) -> None:
    east = build_world(platform.app)
    draft = platform.app.draft_invoice(east.school.id, east.student.id, [LESSON])
    invoice = platform.app.issue_invoice(east.school.id, draft.id)
    platform.app.connect_stripe_account(east.school.id, RETURN, REFRESH)
    # Stripe has the details but has not enabled charges yet.
    account = platform.account_of(east)
    platform.connect_events(platform.simulator.review_account(account, charges_enabled=False))

    with pytest.raises(ChargesNotEnabled):
        platform.app.start_invoice_payment(east.school.id, invoice.id)

    assert platform.count("payments") == 0
    assert platform.simulator.connected(account).payment_intents == {}
    # Stripe enables charges; the school asks before the event arrives.
    platform.simulator.connected_accounts.review(
        account, charges_enabled=True, details_submitted=True
    )
    assert platform.app.refresh_stripe_account(east.school.id).charges_enabled
    started = platform.app.start_invoice_payment(east.school.id, invoice.id)
    assert started.payment.connected_account == account


def test_an_event_for_an_account_no_school_has_is_kept_ignored_and_noted(
    platform: Platform,
) -> None:
    east = build_world(platform.app)
    platform.onboard(east)
    stranger = platform.simulator.connected_accounts.create({})["id"]
    schools_before = platform.count("schools")

    outcomes = platform.connect_events(platform.simulator.review_account(stranger))

    assert outcomes == [EventOutcome.IGNORED]
    assert platform.count("schools") == schools_before
    ignored = platform.app.operations.list_inbox(status=InboxStatus.IGNORED)
    assert [row.error for row in ignored] == [f"no school has connected account {stranger}"]
    with platform.app.uow() as uow:
        assert uow.schools.by_connected_account(stranger) is None


def test_a_connect_event_is_verified_with_the_connect_endpoints_own_secret(
    platform: Platform,
) -> None:
    east = build_world(platform.app)
    account = platform.onboard(east)
    delivery = platform.simulator.review_account(account, charges_enabled=False)

    with pytest.raises(InvalidSignature):
        platform.app.receive_payment_webhook("stripe", *delivery)

    with platform.app.uow() as uow:
        still = uow.schools.get(east.school.id).connected_account
    assert still is not None
    assert still.charges_enabled is True


def test_a_hosted_checkout_and_its_refund_happen_on_the_schools_account(
    platform: Platform,
) -> None:
    east = build_world(platform.app)
    account = platform.onboard(east)
    draft = platform.app.draft_invoice(east.school.id, east.student.id, [LESSON])
    invoice = platform.app.issue_invoice(east.school.id, draft.id)

    started = platform.app.start_invoice_payment(
        east.school.id, invoice.id, return_url="https://school.example/paid"
    )
    on_account = platform.simulator.connected(account)
    session = started.session.provider_payment_id
    assert platform.connect_events(on_account.succeed(session)) == [EventOutcome.APPLIED]
    platform.app.refund(east.school.id, started.payment.id, amount=Money(10000, "DKK"))
    platform.app.relay_outbox()

    assert list(on_account.sessions) == [session]
    assert platform.simulator.sessions == {}
    assert [r["amount"] for r in on_account.refunds_of(session)] == [10000]
    with platform.app.uow() as uow:
        assert uow.payments.get(started.payment.id).status is PaymentStatus.SUCCEEDED
