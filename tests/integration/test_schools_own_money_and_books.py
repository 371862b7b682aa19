"""Two schools on one platform, each with its own money and its own books at once, on SQLite
and PostgreSQL: each is its own merchant on its own connected Stripe account (Stripe Connect,
direct charges, the platform's fee per school) and keeps its books in its own Xero
organisation (connected through the consent flow). The whole flow runs for both side by side
— issue, pay by card, refund part — and every payment, fee and refund lands on the school's
own account, every invoice, payment, credit note and refund in its own organisation, with
the school's own totals; nothing of one school reaches the other's account or books."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from attrs import define, field
from conftest import Database
from integration_support import NOW, World, build_world

from justdriving.adapters.accounting.organisations import BooksPerSchool
from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.consent import xero_consent
from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.factory import gateway_registry, stripe_gateway
from justdriving.application import Application
from justdriving.config import PaymentProvider, Settings
from justdriving.domain.connect import PlatformFee
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.accounting import AccountingClient, GrantStore
from justdriving.testing.stripe.simulator import StripeSimulator
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.simulator import XeroSimulator
from unit.services.test_accounting_fixtures import ACCOUNTS, NO_WAIT

NORTH_ORG = "3f1b6a52-0000-4c5e-9d1a-5151a7ed0001"  # the Xero simulator's first organisation
SOUTH_ORG = "7c2d9e41-0000-4b6f-8e2a-5151a7ed0002"
REDIRECT = "https://app.example/accounting/callback"
RETURN, REFRESH = "https://app.example/connect/done", "https://app.example/connect/again"
XERO_ACCOUNTS = {code: "REVENUE" for code in ("1000", "1010", "1020", "1030", "1040", "1050")}
LESSONS = [
    LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK")),
    LineItem(InvoiceService.LESSON, "Køretime, motorvej", Money(65000, "DKK")),
]


@define
class Platform:
    app: Application
    stripe: StripeSimulator
    xero: XeroSimulator
    delivered: dict[str, int] = field(factory=dict)  # events delivered, per connected account

    def account_of(self, school_id: str) -> str:
        with self.app.uow() as uow:
            account = uow.schools.get(school_id).connected_account
        assert account is not None
        return account.account_id

    def deliver(self, account: str) -> None:
        """Stripe delivers what happened on the school's account to the Connect endpoint."""
        view = self.stripe.connected(account)
        for event in view.events[self.delivered.get(account, 0) :]:
            self.app.receive_payment_webhook("stripe-connect", *view.deliver(event))
        self.delivered[account] = len(view.events)

    def open_school(self, world: World, fee: PlatformFee, tenant_id: str) -> str:
        school_id = world.school.id
        self.app.change_school(school_id, settings={"platform_fee": fee, "account_map": ACCOUNTS})
        self.app.connect_stripe_account(school_id, RETURN, REFRESH)
        account = self.account_of(school_id)
        self.stripe.connected_accounts.review(account, charges_enabled=True, details_submitted=True)
        assert self.app.refresh_stripe_account(school_id).charges_enabled
        code = self.xero.authorization_code(REDIRECT, (tenant_id,))
        self.app.connect_school_books(school_id, code, REDIRECT)
        return account

    def paid_invoice(self, world: World, account: str) -> tuple[str, str]:
        """(invoice id, payment id): an invoice issued, paid by card on the school's account."""
        school_id = world.school.id
        draft = self.app.draft_invoice(school_id, world.student.id, LESSONS)
        invoice = self.app.issue_invoice(school_id, draft.id)
        started = self.app.start_invoice_payment(school_id, invoice.id)
        self.stripe.connected(account).succeed(started.session.provider_payment_id)
        self.deliver(account)
        return invoice.id, started.payment.id

    def relay_all(self) -> None:
        while self.app.relay_outbox().claimed:
            pass


@pytest.fixture
def platform(database: Database) -> Iterator[Platform]:
    time = SimulatedTime(NOW)
    clock = FrozenClock(NOW)
    with (
        StripeSimulator(clock=clock) as stripe,
        XeroSimulator(clock=time.now, accounts={**XERO_ACCOUNTS, "090": "BANK"}) as xero,
    ):
        xero.add_organisation(SOUTH_ORG, "Køreskolen Syd ApS")
        limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)

        def books(tenant_id: str, grants: GrantStore) -> AccountingClient:
            return XeroAccountingClient(
                xero.client_id,
                xero.client_secret,
                tenant_id,
                grants,
                api_base=xero.base_url,
                identity_base=xero.base_url,
                clock=time.now,
                limiter=limiter,
                payment_account_code="090",
            )

        settings = Settings(
            payment_provider=PaymentProvider.STRIPE,
            payment_provider_secret=stripe.secret_key,
            payment_webhook_secret=stripe.webhook_secret,
            payment_api_base_url=stripe.api_base,
            stripe_connect=True,
            stripe_connect_webhook_secret=stripe.connect_webhook_secret,
        )
        grants = StoredGrants(database.uow)
        consent = xero_consent(
            xero.client_id,
            xero.client_secret,
            identity_base=xero.base_url,
            api_base=xero.base_url,
            clock=time.now,
        )
        app = Application(
            uow=database.uow,
            clock=clock,
            gateways=gateway_registry(stripe_gateway(settings), settings=settings),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
            accounting=BooksPerSchool("xero", grants, books, platform_tenant=None),
            accounting_retry=NO_WAIT,
            accounting_push=True,
            accounting_consent=lambda: consent,
            grants=grants,
        )
        yield Platform(app, stripe, xero)
        consent.close()


def test_two_schools_money_and_books_each_land_on_their_own_account_and_organisation(
    platform: Platform,
) -> None:
    north = build_world(platform.app, "Køreskolen Nord")
    south = build_world(platform.app, "Køreskolen Syd")
    accounts = {
        north.school.id: platform.open_school(north, PlatformFee.share(250), NORTH_ORG),
        south.school.id: platform.open_school(
            south, PlatformFee.fixed(Money(1000, "DKK")), SOUTH_ORG
        ),
    }
    fees = {north.school.id: 2875, south.school.id: 1000}  # 2.5 % of 1,150.00; 10.00 flat

    paid = {w.school.id: platform.paid_invoice(w, accounts[w.school.id]) for w in (north, south)}
    _, south_payment = paid[south.school.id]
    platform.app.refund(south.school.id, south_payment, amount=Money(30000, "DKK"), reason="syg")
    platform.relay_all()  # the refund at Stripe, then every document to the books
    platform.deliver(accounts[south.school.id])
    platform.relay_all()

    # Money: every charge, fee and refund on the school's own account, none on the platform's.
    assert platform.stripe.payment_intents == {}
    assert platform.stripe.refunds == {}
    for world in (north, south):
        school_id = world.school.id
        on_account = platform.stripe.connected(accounts[school_id])
        invoice_id, payment_id = paid[school_id]
        [intent] = on_account.payment_intents.values()
        assert (intent["amount"], intent["application_fee_amount"]) == (115000, fees[school_id])
        with platform.app.uow() as uow:
            payment = uow.payments.get(payment_id)
            invoice = uow.invoices.get(invoice_id)
            refunds = uow.refunds.for_student(school_id, world.student.id)
            notes = uow.credit_notes.for_student(school_id, world.student.id)
        assert (payment.status, payment.connected_account) == (
            PaymentStatus.SUCCEEDED,
            accounts[school_id],
        )
        assert payment.platform_fee == Money(fees[school_id], "DKK")
        assert invoice.status is InvoiceStatus.PAID
        refunded = sum(r.amount.amount for r in refunds if r.status is RefundStatus.SUCCEEDED)
        at_stripe = sum(int(r["amount"]) for r in on_account.refunds.values())
        assert refunded == at_stripe == (30000 if world is south else 0)

        # Books: the school's documents in its own organisation, with its own totals.
        books = platform.xero.books_of(NORTH_ORG if world is north else SOUTH_ORG)
        assert {d.reference for d in books.invoices.values()} == {invoice_id}
        assert {d.reference for d in books.credit_notes.values()} == {n.id for n in notes}
        assert sum((d.total for d in books.invoices.values()), Decimal(0)) == Decimal("1150.00")
        received = [p.amount for p in books.payments.values() if p.invoice.kind == "ACCREC"]
        assert received == [Decimal("1150.00")]
        credited = sum((d.total for d in books.credit_notes.values()), Decimal(0))
        assert credited == sum((n.totals.gross.to_decimal() for n in notes), Decimal(0))
        assert credited == (Decimal("300.00") if world is south else Decimal(0))
