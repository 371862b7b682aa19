"""A package in three instalments across three months, end to end on SQLite and PostgreSQL:
StripeGateway through the real SDK against the Stripe simulator, Stripe's webhooks through the
inbox, the clock moved a month at a time.

The second instalment is declined for insufficient funds: the student gets the invoice's pay
link, the card is tried again the next day and pays. The worker is killed twice on the way (a
new application over the same database, as a restarted process is): after billing the second
instalment and before its charge, and between the decline and the retry. At the end every
instalment is paid exactly once at Stripe, every credit is unlocked, the balance is zero and
the CSV ledger and the school's Xero organisation (the simulator) hold the three invoices and
the three payments, once each, with the same totals.
Without `charge_fees_to_saved_card` a no-show fee stays invoiced, saved card or not.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from attrs import define, field
from integration_support import build_world

from justdriving.adapters.accounting.csv.export import CsvExporter
from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
from justdriving.adapters.documents.pay_links import PublicPayLinks
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, FrozenClock
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.plans import ChargeState, PlanStatus
from justdriving.domain.schools import AccountMapping, InvoiceService, MessageType
from justdriving.domain.services.accounting.export import ExportFormat
from justdriving.ports.accounting import AccountingClient
from justdriving.testing.stripe.simulator import StripeSimulator
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator
from unit.services.test_accounting_fixtures import NO_WAIT

NOW = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)  # the months after it are shorter


@define
class Platform:
    uow: SqlUnitOfWorkFactory
    clock: FrozenClock
    stripe: StripeSimulator
    exports: Path
    books: AccountingClient | None = None
    xero: Any = None  # the Xero simulator the school's books are kept in
    sms: FakeSmsSender = field(factory=FakeSmsSender)
    app: Application = field(init=False)
    delivered: int = 0

    def __attrs_post_init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """A new worker process: nothing carried over but the database."""
        stripe = self.stripe
        gateway = StripeGateway(stripe.secret_key, stripe.webhook_secret, api_base=stripe.api_base)
        self.app = Application(
            uow=self.uow,
            clock=self.clock,
            gateways=MemoryGatewayRegistry({"stripe": gateway}),
            sms=self.sms,
            email=FakeEmailSender(),
            renderer=JinjaTemplateRenderer(),
            pay_links=self.links(),
            exporter=CsvExporter(self.exports, clock=self.clock.now),
            accounting=self.books,
            accounting_retry=NO_WAIT,
            accounting_push=self.books is not None,
        )

    def links(self) -> PublicPayLinks:
        return PublicPayLinks(
            "https://skole.example.dk",
            secret="pay-link-secret",
            lifetime=timedelta(days=30),
            clock=self.clock,
        )

    def worker_round(self) -> None:
        """What the worker's schedule does each round, then Stripe's webhooks arriving."""
        self.app.charge_due_plans()
        self.app.relay_outbox()
        self.webhooks()

    def webhooks(self) -> None:
        for event in self.stripe.events[self.delivered :]:
            self.app.receive_payment_webhook("stripe", *self.stripe.deliver(event))
        self.delivered = len(self.stripe.events)

    def save_card(self, school_id: str, student_id: str) -> str:
        setup = self.app.start_saving_card(school_id, student_id)
        seti = setup.session.provider_setup_id
        self.app.receive_payment_webhook("stripe", *self.stripe.complete_setup(seti))
        self.delivered = len(self.stripe.events)
        return str(self.stripe.wallet.setup_intent(seti)["payment_method"])

    def read(self, kind: str, ident: str) -> Any:
        with self.uow() as uow:
            return getattr(uow, kind).get(ident)


@pytest.fixture
def platform(uow: SqlUnitOfWorkFactory, tmp_path: Path) -> Iterator[Platform]:
    clock, pacing = FrozenClock(NOW), SimulatedTime(NOW)  # pacing: the Xero limiter's time
    with (
        StripeSimulator(clock=clock) as stripe,
        XeroSimulator(clock=clock.now, accounts={"1010": "REVENUE", "090": "BANK"}) as xero,
    ):
        books = XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            xero.tenant_id,
            RecordingGrants(xero.grant()),
            api_base=xero.base_url,
            identity_base=xero.base_url,
            clock=clock.now,
            limiter=XeroRateLimiter(monotonic=pacing.monotonic, sleep=pacing.sleep),
            payment_account_code="090",
        )
        held = Platform(uow, clock, stripe, tmp_path, books=books)
        held.xero = xero
        yield held
        books.close()


def test_three_instalments_across_months_with_a_declined_second_a_retry_and_restarts(
    platform: Platform,
) -> None:
    world = build_world(platform.app)
    school_id, student_id = world.school.id, world.student.id
    accounts = {InvoiceService.PACKAGE: AccountMapping("1010", "U25")}
    platform.app.change_school(school_id, settings={"account_map": accounts})
    card = platform.save_card(school_id, student_id)
    plan = platform.app.start_instalment_plan(
        school_id,
        student_id,
        booking_type_id=world.lesson.id,
        lessons=10,
        price=Money(300001, "DKK"),
        instalments=3,
    )

    platform.worker_round()  # month 1: the first instalment
    first = platform.read("plans", plan.id)
    assert [c.state for c in first.charges] == [ChargeState.PAID]
    assert platform.read("packages", plan.package_id).credits_left == 3

    platform.clock.set(datetime(2025, 2, 28, 9, 0, tzinfo=UTC))  # month 2, on its last day
    platform.stripe.decline_next_charge(card, "insufficient_funds")
    platform.app.charge_due_plans()
    platform.restart()  # killed after billing, before the charge
    platform.app.charge_due_plans()  # the restarted worker bills nothing twice
    platform.app.relay_outbox()
    platform.webhooks()

    second = platform.read("plans", plan.id).charges[1]
    assert (second.state, second.declines) == (ChargeState.BILLED, 1)
    assert platform.read("invoices", second.invoice_id).status is InvoiceStatus.OPEN
    platform.app.relay_outbox()  # the next round sends the messages the decline queued
    [text] = [m.body for _, m, _ in platform.sms.sent if "afvist" in m.body]
    token = text.rsplit("/pay/", 1)[1].split()[0]
    opened = platform.links().open(token)
    assert opened is not None
    assert opened.invoice_id == second.invoice_id

    platform.restart()  # killed between the decline and the retry
    platform.worker_round()  # the retry is not due yet
    assert platform.read("plans", plan.id).charges[1].declines == 1
    platform.clock.set(datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
    platform.worker_round()

    assert platform.read("plans", plan.id).charges[1].state is ChargeState.PAID
    assert platform.read("packages", plan.package_id).credits_left == 6

    platform.restart()
    platform.clock.set(datetime(2025, 3, 31, 9, 0, tzinfo=UTC))  # month 3
    platform.worker_round()
    platform.worker_round()

    done = platform.read("plans", plan.id)
    assert done.status is PlanStatus.COMPLETED
    assert [c.due_at.date().isoformat() for c in done.charges] == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
    ]
    amounts = [c.amount.amount for c in done.charges]
    assert amounts == [100001, 100000, 100000]
    assert platform.read("packages", plan.package_id).credits_left == 10

    succeeded = [
        pi for pi in platform.stripe.payment_intents.values() if pi["status"] == "succeeded"
    ]
    reasons = sorted(pi["metadata"]["charge_reason"] for pi in succeeded)
    assert reasons == [f"instalment:{plan.id}:{n}" for n in range(3)]  # each exactly once
    assert sorted(pi["amount"] for pi in succeeded) == sorted(amounts)
    for charge in done.charges:
        assert platform.read("invoices", charge.invoice_id).status is InvoiceStatus.PAID
    balance = platform.app.balance(school_id, student_id)
    assert (balance.invoiced, balance.paid, balance.amount) == (
        Money(300001, "DKK"),
        Money(300001, "DKK"),
        Money(0, "DKK"),
    )
    with platform.uow() as uow:
        retries = [r for r in uow.outbox.list() if r.kind is OutboxKind.CHARGE_CUSTOMER]
        declined = [
            m for m in uow.messages.for_school(school_id) if m.type is MessageType.PAYMENT_DECLINED
        ]
    assert len(retries) == 4  # three instalments and one retry
    assert {str(m.channel) for m in declined} == {"sms", "email"}

    platform.clock.advance(timedelta(days=1))
    export = platform.app.export_accounting(school_id, ExportFormat.LEDGER)
    [ledger] = export.files
    rows = list(csv.DictReader(ledger.read_text(encoding="utf-8-sig").splitlines()))
    gross: dict[str, Decimal] = {}
    for row in rows:
        gross[row["Type"]] = gross.get(row["Type"], Decimal(0)) + Decimal(row["Gross"])
    assert gross == {"invoice": Decimal("3000.01"), "payment": Decimal("3000.01")}
    assert len([row for row in rows if row["Type"] == "payment"]) == 3  # each paid once

    while platform.app.relay_outbox().claimed:  # every document pushed to the books
        pass
    xero = platform.xero.books
    assert {d.reference for d in xero.invoices.values()} == {c.invoice_id for c in done.charges}
    assert sum((d.total for d in xero.invoices.values()), Decimal(0)) == Decimal("3000.01")
    received = sorted(p.amount for p in xero.payments.values())
    assert received == [Decimal("1000.00"), Decimal("1000.00"), Decimal("1000.01")]
    assert all(d.amount_due == 0 for d in xero.invoices.values())


def test_without_the_school_setting_a_no_show_fee_stays_invoiced_with_a_saved_card(
    platform: Platform,
) -> None:
    world = build_world(platform.app)
    platform.save_card(world.school.id, world.student.id)
    booking = platform.app.book_lesson(
        world.school.id,
        teacher_id=world.teacher.id,
        student_ids=[world.student.id],
        booking_type_id=world.lesson.id,
        start=NOW + timedelta(days=1),
    )
    platform.clock.set(booking.slot.start + timedelta(minutes=15))

    [invoice] = platform.app.mark_no_show(world.school.id, booking.id).invoices
    platform.worker_round()

    assert platform.read("invoices", invoice.id).status is InvoiceStatus.OPEN
    assert platform.stripe.payment_intents == {}


def test_a_declined_instalment_paid_by_its_pay_link_is_not_charged_again_by_the_retry(
    platform: Platform,
) -> None:
    world = build_world(platform.app)
    school_id, student_id = world.school.id, world.student.id
    card = platform.save_card(school_id, student_id)
    plan = platform.app.start_instalment_plan(
        school_id,
        student_id,
        booking_type_id=world.lesson.id,
        lessons=4,
        price=Money(200000, "DKK"),
        instalments=2,
    )
    platform.stripe.decline_next_charge(card, "insufficient_funds")
    platform.worker_round()
    [charge] = platform.read("plans", plan.id).charges

    started = platform.app.start_invoice_payment(school_id, charge.invoice_id)  # the pay link
    platform.app.receive_payment_webhook(
        "stripe", *platform.stripe.succeed(started.session.provider_payment_id)
    )
    platform.delivered = len(platform.stripe.events)
    platform.clock.advance(timedelta(days=2))  # the retry falls due
    platform.restart()
    platform.worker_round()

    assert platform.read("plans", plan.id).charges[0].state is ChargeState.PAID
    assert platform.read("packages", plan.package_id).credits_left == 2
    succeeded = [
        pi for pi in platform.stripe.payment_intents.values() if pi["status"] == "succeeded"
    ]
    assert len(succeeded) == 1  # the checkout's; the retry charged nothing
    balance = platform.app.balance(school_id, student_id)
    assert balance.paid == Money(100000, "DKK")
    assert balance.amount == Money(0, "DKK")
