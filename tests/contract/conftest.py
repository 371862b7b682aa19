"""One factory per implementation of each port; every contract suite runs against all of them.

A real adapter joins a suite by adding one `pytest.param(factory, id=...)` to the list of its
port: the Stripe and Twilio adapters against their simulators, the SQL unit of work on SQLite and
PostgreSQL. A factory is a context manager, so it can start a server or a database and clean up,
or `pytest.skip` when a service is absent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest
from attrs import define

from card_data import stored_card_numbers
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.email.log import LogEmailSender
from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.sms.log import LogSmsSender
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.ports.accounting import AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.payments import PaymentGateway, PaymentRequest
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.testing.stripe.objects import example as stripe_example
from local_services import empty_tables, postgres_url
from spec_session import (  # noqa: F401 - the session's spec check (tests/spec_session.py)
    pytest_runtest_protocol,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
Delivery = tuple[bytes, dict[str, str]]


def _params(factories: dict[str, Callable[[], Any]]) -> list[Any]:
    return [pytest.param(factory, id=name) for name, factory in factories.items()]


def _enter(request: pytest.FixtureRequest) -> Iterator[Any]:
    with request.param() as backend:
        yield backend


# Persistence ------------------------------------------------------------------------------


@define
class PersistenceBackend:
    uow: UnitOfWorkFactory
    fail_next_commit: Callable[[Exception], None]
    # False where two open units of work cannot both write (SQLite: one writer at a time).
    concurrent_writers: bool = True


@contextmanager
def memory_persistence() -> Iterator[PersistenceBackend]:
    store = MemoryStore()
    yield PersistenceBackend(MemoryUnitOfWorkFactory(store), store.fail_next_commit)


class _FailingCommit:
    """Wraps a SQL unit of work so that the test can make its next commit fail."""

    def __init__(self, factory: SqlUnitOfWorkFactory) -> None:
        self._factory = factory
        self._next: list[Exception] = []

    def fail_next_commit(self, error: Exception) -> None:
        self._next.append(error)

    def __call__(self) -> Any:
        uow = self._factory()
        commit = uow.commit
        queued = self._next

        def failing_commit() -> None:
            if queued:
                uow.rollback()
                raise queued.pop(0)
            commit()

        uow.commit = failing_commit  # type: ignore[method-assign]
        return uow


@contextmanager
def sql_persistence(
    url: str, *, concurrent_writers: bool, cipher: TokenCipher | None = None
) -> Iterator[PersistenceBackend]:
    engine = make_engine(url)
    upgrade(engine)
    empty_tables(engine)
    factory = _FailingCommit(SqlUnitOfWorkFactory(engine, cipher))
    try:
        yield PersistenceBackend(factory, factory.fail_next_commit, concurrent_writers)
        assert stored_card_numbers(engine) == [], "a card number was stored"
    finally:
        engine.dispose()


@contextmanager
def sqlite_persistence() -> Iterator[PersistenceBackend]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'contract.db'}"
        with sql_persistence(url, concurrent_writers=False) as backend:
            yield backend


# A fixed, public test key (Fernet.generate_key() makes real ones).
TOKEN_KEY = "x3Fq0cZ7d9yJ1aVbKpLw8nT2rS5uE6hG4iO0mN3kQ1c="


@contextmanager
def encrypted_sqlite_persistence() -> Iterator[PersistenceBackend]:
    """SQLite with ACCOUNTING_TOKEN_KEY configured: grants' tokens stored encrypted."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'contract.db'}"
        cipher = TokenCipher([TOKEN_KEY])
        with sql_persistence(url, concurrent_writers=False, cipher=cipher) as backend:
            yield backend


@contextmanager
def postgres_persistence() -> Iterator[PersistenceBackend]:
    with sql_persistence(postgres_url(), concurrent_writers=True) as backend:
        yield backend


PERSISTENCE = {
    "memory": memory_persistence,
    "sqlite": sqlite_persistence,
    "sqlite-encrypted-tokens": encrypted_sqlite_persistence,
    "postgresql": postgres_persistence,
}


@pytest.fixture(scope="module", params=_params(PERSISTENCE))
def make_persistence(
    request: pytest.FixtureRequest,
) -> Callable[[], AbstractContextManager[PersistenceBackend]]:
    """For hypothesis tests, which need a fresh backend per example."""
    factory: Callable[[], AbstractContextManager[PersistenceBackend]] = request.param
    return factory


@pytest.fixture
def persistence(
    make_persistence: Callable[[], AbstractContextManager[PersistenceBackend]],
) -> Iterator[PersistenceBackend]:
    with make_persistence() as backend:
        yield backend


# Payment gateways -------------------------------------------------------------------------


class GatewayDriver(Protocol):
    """The port, plus the payer's and the provider's side a test needs to drive it."""

    @property
    def gateway(self) -> PaymentGateway: ...

    def now(self) -> datetime: ...

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> Delivery: ...

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> Delivery: ...

    def require_action(self, provider_payment_id: str) -> Delivery: ...

    def fail(self, provider_payment_id: str, code: str) -> Delivery: ...

    # A failure code the provider itself would give (Stripe's decline code, PayPal's reason).
    @property
    def decline_code(self) -> str: ...

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> Delivery: ...

    # Whether a refund the API accepted can still fail later (False: done when answered).
    @property
    def refunds_can_fail(self) -> bool: ...

    def unknown_event(self) -> Delivery: ...

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]: ...

    def make_next_call_unavailable(self) -> None: ...

    def charge_count(self) -> int: ...

    def refund_count(self, provider_payment_id: str) -> int: ...

    # Cards on file (tests/contract/test_cards_on_file_contract.py). A gateway without them
    # (cards_on_file False) is only asked to refuse each verb.

    @property
    def cards_on_file(self) -> bool: ...

    def complete_setup(self, provider_setup_id: str, card: str) -> Delivery:
        """The student saves one of Stripe's test payment methods (`pm_card_visa` …)."""
        ...

    def authenticate_setup(self, provider_setup_id: str) -> Delivery: ...

    def decline_next_charge(self, provider_method_id: str, code: str) -> None: ...

    # Where a gateway keeps methods on file differently from a card (CardFlags has a card's).

    @property
    def shows_card_details(self) -> bool: ...

    @property
    def setup_can_require_action(self) -> bool: ...

    @property
    def charges_settle_at_once(self) -> bool: ...

    @property
    def charges_can_require_action(self) -> bool: ...

    def reported_decline(self, code: str) -> str: ...

    def settle_charge(self, provider_payment_id: str) -> Delivery: ...

    # Connected accounts (tests/contract/test_connected_accounts_contract.py). A gateway
    # without them (connects False) is only asked to refuse.

    @property
    def connects(self) -> bool: ...

    def on_account(self, account_id: str) -> GatewayDriver:
        """The driver of the gateway acting on `account_id`, with that account's payer side
        (its events carry the account and are signed for the Connect endpoint)."""
        ...

    def enable_charges(self, account_id: str) -> Delivery:
        """The provider reviewed the account's details: its account.updated event."""
        ...

    def application_fee(self, provider_payment_id: str) -> int | None:
        """The application fee (minor units) on a payment of the account driven."""
        ...

    def connect_webhook_gateway(self) -> PaymentGateway:
        """The gateway as the Connect endpoint's receiver (its own signing secret)."""
        ...


class CardFlags:
    """How a card on file behaves; a gateway whose saved method is not a card says otherwise."""

    # A saved method shows brand, last 4 and expiry (a MobilePay agreement: its brand only).
    shows_card_details = True
    # Saving can wait for the student's 3-D Secure after the setup was submitted.
    setup_can_require_action = True
    # A charge's answer is its outcome (False: it is PROCESSING, its webhook tells).
    charges_settle_at_once = True
    # The bank can want the student for a charge (SCA), and the student can then pay it.
    charges_can_require_action = True

    def reported_decline(self, code: str) -> str:
        """The code the gateway reports when the bank refuses for `code` (Stripe's words)."""
        return code

    def settle_charge(self, provider_payment_id: str) -> Delivery:
        raise AssertionError("this gateway's charges are settled when answered")


@define
class FakeGatewayDriver(CardFlags):
    gateway: FakePaymentGateway
    clock: FrozenClock

    def now(self) -> datetime:
        return self.clock.now()

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        return self.gateway.succeed(provider_payment_id, amount)

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        return self.gateway.authorize(provider_payment_id, amount)

    def require_action(self, provider_payment_id: str) -> Delivery:
        return self.gateway.require_action(provider_payment_id)

    def fail(self, provider_payment_id: str, code: str) -> Delivery:
        return self.gateway.fail(provider_payment_id, code)

    decline_code = "card_declined"

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> Delivery:
        return self.gateway.complete_refund(provider_refund_id, succeeded)

    def unknown_event(self) -> Delivery:
        return self.gateway.webhook("payment.teleported", {"anything": [1, 2, 3]})

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        return self.gateway.sign(body, at, secret)

    def make_next_call_unavailable(self) -> None:
        self.gateway.fail_next(ProviderUnavailable(self.gateway.name, "simulated outage"))

    def charge_count(self) -> int:
        return len(self.gateway.charges)

    def refund_count(self, provider_payment_id: str) -> int:
        refunds = self.gateway.refunds.values()
        return sum(1 for r in refunds if r.provider_payment_id == provider_payment_id)

    cards_on_file = True
    refunds_can_fail = True

    def complete_setup(self, provider_setup_id: str, card: str) -> Delivery:
        return self.gateway.complete_setup(provider_setup_id, card)

    def authenticate_setup(self, provider_setup_id: str) -> Delivery:
        return self.gateway.authenticate_setup(provider_setup_id)

    def decline_next_charge(self, provider_method_id: str, code: str) -> None:
        self.gateway.decline_next_charge(provider_method_id, code)

    connects = True

    def on_account(self, account_id: str) -> FakeGatewayDriver:
        return FakeGatewayDriver(self.gateway.on_account(account_id), self.clock)

    def enable_charges(self, account_id: str) -> Delivery:
        return self.gateway.update_account(account_id, charges_enabled=True)

    def application_fee(self, provider_payment_id: str) -> int | None:
        fee = self.gateway.charges[provider_payment_id].application_fee
        return None if fee is None else fee.amount

    def connect_webhook_gateway(self) -> PaymentGateway:
        return self.gateway  # the fake signs every event with its one secret


@contextmanager
def fake_gateway() -> Iterator[GatewayDriver]:
    clock = FrozenClock(NOW)
    yield FakeGatewayDriver(FakePaymentGateway(webhook_secret="whsec_contract", clock=clock), clock)


@define
class StripeGatewayDriver(CardFlags):
    """StripeGateway through the real stripe SDK against the local Stripe simulator.

    It runs the embedded (PaymentIntent) flow: for a hosted Checkout Session, Stripe creates the
    PaymentIntent only when the payer confirms, so its webhooks cannot carry the `cs_…` id that
    `start` returned (tests/integration/test_stripe_checkout.py covers that flow).
    """

    gateway: Any  # StripeGateway: imported in stripe_gateway(), stripe-python is an extra
    simulator: Any  # justdriving.testing.stripe.simulator.StripeSimulator

    def now(self) -> datetime:
        return self.simulator.now()  # type: ignore[no-any-return]

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        return self.simulator.succeed(provider_payment_id, self._units(amount))  # type: ignore[no-any-return]

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        # Stripe holds only a manual-capture payment; the merchant may switch one before the
        # payer confirms (POST /v1/payment_intents/{id} capture_method=manual).
        self.simulator.account.update_payment_intent(
            provider_payment_id, {"capture_method": "manual"}
        )
        return self.simulator.authorize(provider_payment_id, self._units(amount))  # type: ignore[no-any-return]

    def require_action(self, provider_payment_id: str) -> Delivery:
        return self.simulator.require_action(provider_payment_id)  # type: ignore[no-any-return]

    def fail(self, provider_payment_id: str, code: str) -> Delivery:
        return self.simulator.fail(provider_payment_id, code)  # type: ignore[no-any-return]

    decline_code = "card_declined"

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> Delivery:
        return self.simulator.complete_refund(provider_refund_id, succeeded)  # type: ignore[no-any-return]

    def unknown_event(self) -> Delivery:
        customer = stripe_example("customer", id="cus_1", discount=None)  # a new customer
        return self.simulator.webhook("customer.created", customer)  # type: ignore[no-any-return]

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        return self.simulator.sign(body, at, secret)  # type: ignore[no-any-return]

    def make_next_call_unavailable(self) -> None:
        self.simulator.fail_next(status=500)

    def charge_count(self) -> int:
        return len(self.simulator.payment_intents)

    def refund_count(self, provider_payment_id: str) -> int:
        return len(self.simulator.refunds_of(provider_payment_id))

    cards_on_file = True
    refunds_can_fail = True

    def complete_setup(self, provider_setup_id: str, card: str) -> Delivery:
        return self.simulator.complete_setup(provider_setup_id, card)  # type: ignore[no-any-return]

    def authenticate_setup(self, provider_setup_id: str) -> Delivery:
        return self.simulator.authenticate_setup(provider_setup_id)  # type: ignore[no-any-return]

    def decline_next_charge(self, provider_method_id: str, code: str) -> None:
        self.simulator.decline_next_charge(provider_method_id, code)

    def _units(self, amount: Money | None) -> int | None:
        from justdriving.adapters.payments.stripe.amounts import to_stripe

        return None if amount is None else to_stripe(amount)[0]

    connects = True

    def on_account(self, account_id: str) -> StripeGatewayDriver:
        return StripeGatewayDriver(
            self.gateway.on_account(account_id), self.simulator.connected(account_id)
        )

    def enable_charges(self, account_id: str) -> Delivery:
        return self.simulator.review_account(account_id)  # type: ignore[no-any-return]

    def application_fee(self, provider_payment_id: str) -> int | None:
        return self.simulator.payment_intents[provider_payment_id]["application_fee_amount"]  # type: ignore[no-any-return]

    def connect_webhook_gateway(self) -> PaymentGateway:
        from justdriving.adapters.payments.stripe.gateway import StripeGateway

        return StripeGateway(
            self.simulator.secret_key,
            self.simulator.connect_webhook_secret,
            api_base=self.simulator.api_base,
        )


@contextmanager
def stripe_gateway() -> Iterator[GatewayDriver]:
    pytest.importorskip("stripe")
    from justdriving.adapters.payments.stripe import StripeGateway
    from justdriving.testing.stripe.simulator import StripeSimulator

    with StripeSimulator(webhook_secret="whsec_contract", clock=FrozenClock(NOW)) as simulator:
        gateway = StripeGateway(
            simulator.secret_key,
            simulator.webhook_secret,
            api_base=simulator.api_base,
            hosted_checkout=False,
        )
        yield StripeGatewayDriver(gateway, simulator)


@define
class PayPalGatewayDriver(CardFlags):
    """PayPalGateway (httpx) against the local PayPal simulator (justdriving.testing)."""

    gateway: Any  # PayPalGateway: imported in paypal_gateway(), httpx is an extra
    simulator: Any  # justdriving.testing.paypal.simulator.PayPalSimulator

    def now(self) -> datetime:
        return NOW

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        return self.simulator.complete_capture(provider_payment_id, self._value(amount))  # type: ignore[no-any-return]

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        return self.simulator.authorize(provider_payment_id, self._value(amount))  # type: ignore[no-any-return]

    def require_action(self, provider_payment_id: str) -> Delivery:
        return self.simulator.approve(provider_payment_id)  # type: ignore[no-any-return]

    def fail(self, provider_payment_id: str, code: str) -> Delivery:
        return self.simulator.deny(provider_payment_id, code)  # type: ignore[no-any-return]

    decline_code = "OTHER"  # capture_status_details.reason: PayPal's documents list no decline

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> Delivery:
        if succeeded:
            return self.simulator.refund_completed(provider_refund_id)  # type: ignore[no-any-return]
        return self.simulator.refund_failed(provider_refund_id)  # type: ignore[no-any-return]

    def unknown_event(self) -> Delivery:
        return self.simulator.webhook("CATALOG.PRODUCT.CREATED", {"id": "PROD-1"}, "product")  # type: ignore[no-any-return]

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        return self.simulator.sign(body, at, webhook_id=secret)  # type: ignore[no-any-return]

    def make_next_call_unavailable(self) -> None:
        self.simulator.fail_next(503)

    def charge_count(self) -> int:
        return len(self.simulator.ledger.orders)

    def refund_count(self, provider_payment_id: str) -> int:
        return len(self.simulator.refunds_for(provider_payment_id))

    cards_on_file = False  # the gateway refuses (CapabilityNotSupported): no vault here
    refunds_can_fail = True
    connects = False  # a school's own PayPal is its own credentials, not a connected account

    def on_account(self, account_id: str) -> GatewayDriver:
        raise AssertionError("PayPal has no connected accounts here")

    def enable_charges(self, account_id: str) -> Delivery:
        raise AssertionError("PayPal has no connected accounts here")

    def application_fee(self, provider_payment_id: str) -> int | None:
        raise AssertionError("PayPal has no connected accounts here")

    def connect_webhook_gateway(self) -> PaymentGateway:
        raise AssertionError("PayPal has no connected accounts here")

    def complete_setup(self, provider_setup_id: str, card: str) -> Delivery:
        raise AssertionError("PayPal keeps no cards on file here")

    def authenticate_setup(self, provider_setup_id: str) -> Delivery:
        raise AssertionError("PayPal keeps no cards on file here")

    def decline_next_charge(self, provider_method_id: str, code: str) -> None:
        raise AssertionError("PayPal keeps no cards on file here")

    def _value(self, amount: Money | None) -> str | None:
        from justdriving.adapters.payments.paypal.money import paypal_value

        return None if amount is None else paypal_value(amount)


@contextmanager
def paypal_gateway() -> Iterator[GatewayDriver]:
    pytest.importorskip("httpx")
    from justdriving.adapters.payments.paypal import PayPalGateway
    from justdriving.testing.paypal.simulator import PayPalSimulator

    # Refunds start PENDING so that a test can still make one fail, as PayPal's can.
    with PayPalSimulator(clock=lambda: NOW, refund_status="PENDING") as simulator:
        gateway = PayPalGateway(
            simulator.client_id,
            simulator.client_secret,
            simulator.webhook_id,
            api_base=simulator.base_url,
        )
        try:
            yield PayPalGatewayDriver(gateway, simulator)
        finally:
            gateway.close()


MOBILEPAY_WEBHOOK_URL = "https://school.example/webhook/payments/mobilepay"


@define
class MobilePayGatewayDriver(CardFlags):
    """MobilePayGateway (httpx) against the local Vipps MobilePay simulator."""

    gateway: Any  # MobilePayGateway: imported in mobilepay_gateway(), httpx is an extra
    simulator: Any  # justdriving.testing.mobilepay.simulator.MobilePaySimulator
    secret: str

    def now(self) -> datetime:
        return NOW

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        # The payer approves in the app; the merchant captures (what `complete` does).
        self.simulator.approve(provider_payment_id)
        value = None if amount is None else amount.amount
        return self.simulator.capture_now(provider_payment_id, value)  # type: ignore[no-any-return]

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> Delivery:
        payment = self.simulator.payment(provider_payment_id)
        if amount is not None and amount.amount != payment.value:
            raise AssertionError("a MobilePay payer approves the amount asked, no other")
        return self.simulator.approve(provider_payment_id)  # type: ignore[no-any-return]

    def require_action(self, provider_payment_id: str) -> Delivery:
        # As PayPal's: the payer approved in the app, the merchant's capture is what waits.
        return self.simulator.approve(provider_payment_id)  # type: ignore[no-any-return]

    def fail(self, provider_payment_id: str, code: str) -> Delivery:
        if code == "EXPIRED":
            return self.simulator.expire(provider_payment_id)  # type: ignore[no-any-return]
        return self.simulator.reject(provider_payment_id)  # type: ignore[no-any-return]

    decline_code = "ABORTED"  # the payer said no in the app

    # ePayment refunds are done when the API answers: none is pending, none fails later.
    refunds_can_fail = False

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> Delivery:
        """The REFUNDED delivery the refund call caused (it succeeded when answered)."""
        if not succeeded:
            raise AssertionError("a MobilePay refund is done when the API answers")
        return self.simulator.delivery_of(provider_refund_id)  # type: ignore[no-any-return]

    def unknown_event(self) -> Delivery:
        # CREATED: news the gateway does not act on (the payment already waits for its payer).
        session = self.gateway.start(
            PaymentRequest(
                payment_id=new_id("pay"),
                school_id="sch_1",
                amount=Money(10000, "DKK"),
                description="Lesson",
                idempotency_key=new_id("key"),
                return_url="https://school.example/return",
            )
        )
        return self.simulator.created(session.provider_payment_id)  # type: ignore[no-any-return]

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        return self.simulator.sign(body, at, secret or self.secret, MOBILEPAY_WEBHOOK_URL)  # type: ignore[no-any-return]

    def make_next_call_unavailable(self) -> None:
        self.simulator.fail_next(503)

    def charge_count(self) -> int:
        return self.simulator.payment_count() + self.simulator.charge_count()  # type: ignore[no-any-return]

    def refund_count(self, provider_payment_id: str) -> int:
        return len(self.simulator.payment(provider_payment_id).refunds)

    # Cards on file are Recurring agreements: approved in the app, charged later.
    cards_on_file = True
    shows_card_details = False  # an agreement has no card to show: brand "mobilepay" only
    setup_can_require_action = False  # the student authenticates in the app, while approving
    charges_settle_at_once = False  # an UNSCHEDULED charge is processed after the answer
    charges_can_require_action = False  # never: a card needing the student fails instead

    def complete_setup(self, provider_setup_id: str, card: str) -> Delivery:
        # The student approves the agreement in the app (whatever card they pay it with).
        return self.simulator.approve_agreement(provider_setup_id)  # type: ignore[no-any-return]

    def authenticate_setup(self, provider_setup_id: str) -> Delivery:
        raise AssertionError("a MobilePay agreement is authenticated while it is approved")

    # Vipps MobilePay does not tell the merchant why a bank refused a charge: insufficient
    # funds, a lost or a stolen card are all `user_action_required` (its documented examples:
    # insufficient funds, an expired card, a card blocked for e-commerce).
    def reported_decline(self, code: str) -> str:
        return "user_action_required"

    def decline_next_charge(self, provider_method_id: str, code: str) -> None:
        self.simulator.fail_next_charge(provider_method_id, self.reported_decline(code))

    def settle_charge(self, provider_payment_id: str) -> Delivery:
        return self.simulator.process_charge(provider_payment_id)  # type: ignore[no-any-return]

    connects = (
        False  # a school on MobilePay has its own merchant serial number, no connected account
    )

    def on_account(self, account_id: str) -> GatewayDriver:
        raise AssertionError("MobilePay has no connected accounts")

    def enable_charges(self, account_id: str) -> Delivery:
        raise AssertionError("MobilePay has no connected accounts")

    def application_fee(self, provider_payment_id: str) -> int | None:
        raise AssertionError("MobilePay has no connected accounts")

    def connect_webhook_gateway(self) -> PaymentGateway:
        raise AssertionError("MobilePay has no connected accounts")


@contextmanager
def mobilepay_gateway() -> Iterator[GatewayDriver]:
    pytest.importorskip("httpx")
    from justdriving.adapters.payments.mobilepay import MobilePayGateway
    from justdriving.testing.mobilepay.simulator import MobilePaySimulator

    with MobilePaySimulator(clock=lambda: NOW) as simulator:
        secret = simulator.register_webhook(MOBILEPAY_WEBHOOK_URL)
        gateway = MobilePayGateway(
            simulator.credentials(), secret, MOBILEPAY_WEBHOOK_URL, api_base=simulator.base_url
        )
        try:
            yield MobilePayGatewayDriver(gateway, simulator, secret)
        finally:
            gateway.close()


GATEWAYS = {
    "fake": fake_gateway,
    "stripe": stripe_gateway,
    "paypal": paypal_gateway,
    "mobilepay": mobilepay_gateway,
}


@pytest.fixture(scope="module", params=_params(GATEWAYS))
def make_gateway(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Any]]:
    factory: Callable[[], AbstractContextManager[GatewayDriver]] = request.param
    return factory


@pytest.fixture
def driver(make_gateway: Callable[[], AbstractContextManager[Any]]) -> Iterator[GatewayDriver]:
    with make_gateway() as backend:
        yield backend


# Messaging --------------------------------------------------------------------------------


@define
class SmsBackend:
    sender: SmsSender
    suppress: Callable[[PhoneNumber], None] | None  # None: this sender cannot refuse anyone


@define
class EmailBackend:
    sender: EmailSender
    suppress: Callable[[EmailAddress], None] | None


@contextmanager
def fake_sms() -> Iterator[SmsBackend]:
    sender = FakeSmsSender()
    yield SmsBackend(sender, sender.opt_out)


@contextmanager
def log_sms() -> Iterator[SmsBackend]:
    yield SmsBackend(LogSmsSender(), None)


@contextmanager
def paced_sms() -> Iterator[SmsBackend]:
    """The fake behind the SMS_RATE_LIMIT pacing (a rate these few sends never reach)."""
    from justdriving.adapters.sms.pacing import PacedSmsSender, sms_limiter

    inner = FakeSmsSender()
    yield SmsBackend(PacedSmsSender(inner, sms_limiter(100)), inner.opt_out)


@contextmanager
def twilio_sms() -> Iterator[SmsBackend]:
    """TwilioSmsSender through twilio-python against the local Twilio simulator."""
    pytest.importorskip("twilio")
    from justdriving.adapters.sms.twilio import TwilioSmsSender
    from justdriving.testing.twilio.simulator import TwilioSimulator

    with TwilioSimulator() as twilio:
        sender = TwilioSmsSender(
            twilio.account_sid,
            twilio.auth_token,
            from_number=twilio.from_number,
            status_callback=twilio.public_base_url + "/webhooks/twilio/status",
            api_base=twilio.api_base,
        )
        try:
            yield SmsBackend(sender, lambda number: twilio.opt_out(number.e164))
        finally:
            sender.close()


@contextmanager
def gatewayapi_sms() -> Iterator[SmsBackend]:
    """GatewayApiSmsSender (httpx) against the local GatewayAPI simulator; an opted-out number
    is on the account's blacklist there (error 0x0215)."""
    pytest.importorskip("httpx")
    from justdriving.adapters.sms.gatewayapi.sender import GatewayApiSmsSender, msisdn
    from justdriving.testing.gatewayapi.simulator import GatewayApiSimulator

    with GatewayApiSimulator() as gatewayapi:
        sender = GatewayApiSmsSender(
            gatewayapi.token,
            sender="Koreskolen",
            api_base=gatewayapi.api_base,
            callback_url=gatewayapi.callback_url,
        )
        try:
            yield SmsBackend(sender, lambda number: gatewayapi.blacklist(msisdn(number)))
        finally:
            sender.close()


@contextmanager
def fake_email() -> Iterator[EmailBackend]:
    sender = FakeEmailSender()
    yield EmailBackend(sender, sender.suppress)


@contextmanager
def log_email() -> Iterator[EmailBackend]:
    yield EmailBackend(LogEmailSender(), None)


SCHOOL_EMAIL = "noreply@koreskolen.dk"


# SendGrid and Mailgun accept mail to an address they suppress and report the drop in an event
# later, so they cannot refuse anyone at send time (suppress=None).
@contextmanager
def sendgrid_email() -> Iterator[EmailBackend]:
    pytest.importorskip("sendgrid")
    from justdriving.adapters.email.sendgrid import SendGridEmailSender
    from justdriving.testing.sendgrid.simulator import SendGridSimulator

    with SendGridSimulator() as simulator:
        sender = SendGridEmailSender(
            simulator.api_key, from_address=SCHOOL_EMAIL, api_base=simulator.api_base
        )
        yield EmailBackend(sender, None)


@contextmanager
def mailgun_email() -> Iterator[EmailBackend]:
    pytest.importorskip("httpx")
    from justdriving.adapters.email.mailgun import MailgunEmailSender
    from justdriving.testing.mailgun.simulator import MailgunSimulator

    with MailgunSimulator() as simulator:
        sender = MailgunEmailSender(
            simulator.api_key,
            simulator.domain,
            api_base=simulator.api_base,
            from_address=SCHOOL_EMAIL,
        )
        try:
            yield EmailBackend(sender, None)
        finally:
            sender.close()


@contextmanager
def smtp_email() -> Iterator[EmailBackend]:
    """SmtpEmailSender against a real SMTP server (aiosmtpd) that answers RCPT for an unknown
    mailbox with 550 5.1.1, as a receiving server does. TLS: tests/integration/test_smtp_*."""
    pytest.importorskip("aiosmtpd")
    import socket

    from aiosmtpd.controller import Controller

    from justdriving.adapters.email.smtp.sender import SmtpEmailSender

    unknown: set[str] = set()

    class Mailboxes:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address in unknown:
                return "550 5.1.1 Recipient address rejected: User unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK: queued"

    with socket.socket() as probe:  # a free port: aiosmtpd's controller cannot take port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Mailboxes(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sender = SmtpEmailSender(
            "127.0.0.1", port, encryption="none", from_address=SCHOOL_EMAIL, timeout=5
        )
        yield EmailBackend(sender, lambda address: unknown.add(address.value))
    finally:
        controller.stop()


@contextmanager
def file_email() -> Iterator[EmailBackend]:
    from justdriving.adapters.email.file_inbox import FileInboxEmailSender

    with tempfile.TemporaryDirectory() as folder:
        yield EmailBackend(FileInboxEmailSender(folder), None)


@contextmanager
def memory_renderer() -> Iterator[TemplateRenderer]:
    yield MemoryTemplateRenderer()


SMS_SENDERS = {
    "fake": fake_sms,
    "log": log_sms,
    "paced": paced_sms,
    "twilio": twilio_sms,
    "gatewayapi": gatewayapi_sms,
}
EMAIL_SENDERS = {
    "fake": fake_email,
    "log": log_email,
    "sendgrid": sendgrid_email,
    "mailgun": mailgun_email,
    "smtp": smtp_email,
    "file": file_email,
}


@contextmanager
def jinja_renderer() -> Iterator[TemplateRenderer]:
    from justdriving.adapters.templates import JinjaTemplateRenderer

    yield JinjaTemplateRenderer()


RENDERERS = {"memory": memory_renderer, "jinja": jinja_renderer}


@pytest.fixture(params=_params(SMS_SENDERS))
def sms(request: pytest.FixtureRequest) -> Iterator[SmsBackend]:
    yield from _enter(request)


@pytest.fixture(params=_params(EMAIL_SENDERS))
def email(request: pytest.FixtureRequest) -> Iterator[EmailBackend]:
    yield from _enter(request)


@pytest.fixture(scope="module", params=_params(RENDERERS))
def make_renderer(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Any]]:
    factory: Callable[[], AbstractContextManager[TemplateRenderer]] = request.param
    return factory


@pytest.fixture
def renderer(make_renderer: Callable[[], AbstractContextManager[Any]]) -> Iterator[Any]:
    with make_renderer() as backend:
        yield backend


# Accounting -------------------------------------------------------------------------------


@define
class AccountingBackend:
    client: AccountingClient
    records: Callable[[str], int]  # how many contacts/invoices/payments/credit_notes it holds


@contextmanager
def fake_accounting() -> Iterator[AccountingBackend]:
    client = FakeAccountingClient(max_batch=10)
    yield AccountingBackend(client, lambda kind: len(getattr(client, kind)))


@contextmanager
def xero_accounting() -> Iterator[AccountingBackend]:
    """XeroAccountingClient (httpx) against the local Xero simulator (justdriving.testing)."""
    pytest.importorskip("httpx")
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient
    from justdriving.domain.services.accounting.grants import StoredGrants
    from justdriving.testing.xero.simulator import XeroSimulator

    with XeroSimulator() as simulator:
        grants = StoredGrants(MemoryUnitOfWorkFactory(MemoryStore()))
        grants.save(simulator.grant())  # what connecting the organisation would have stored
        client = XeroAccountingClient(
            simulator.client_id,
            simulator.client_secret,
            simulator.tenant_id,
            grants,
            api_base=simulator.base_url,
            identity_base=simulator.base_url,
            payment_account_code="090",
        )
        try:
            yield AccountingBackend(client, simulator.count)
        finally:
            client.close()


@contextmanager
def quickbooks_accounting() -> Iterator[AccountingBackend]:
    """QuickBooksAccountingClient (httpx) against the local QuickBooks simulator."""
    pytest.importorskip("httpx")
    from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
    from justdriving.domain.services.accounting.grants import StoredGrants
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator

    with QuickBooksSimulator() as simulator:
        grants = StoredGrants(MemoryUnitOfWorkFactory(MemoryStore()))
        grants.save(simulator.connect())  # what connecting the company would have stored
        client = QuickBooksAccountingClient(
            simulator.client_id,
            simulator.client_secret,
            simulator.realm_id,
            grants,
            api_base=simulator.api_base,
            token_url=simulator.token_url,
        )
        try:
            yield AccountingBackend(client, simulator.count)
        finally:
            client.close()


@contextmanager
def csv_accounting() -> Iterator[AccountingBackend]:
    """CsvAccountingClient: Xero import files for invoices, ledger files for the rest."""
    from justdriving.adapters.accounting.csv.client import CsvAccountingClient
    from justdriving.domain.tax import TaxRate

    with tempfile.TemporaryDirectory() as folder:
        client = CsvAccountingClient(folder, "xero", vat_rates={"U25": TaxRate(2500)})
        yield AccountingBackend(client, lambda kind: len(client.exported(kind)))


ACCOUNTING = {
    "fake": fake_accounting,
    "xero": xero_accounting,
    "quickbooks": quickbooks_accounting,
    "csv": csv_accounting,
}


@pytest.fixture(params=_params(ACCOUNTING))
def accounting(request: pytest.FixtureRequest) -> Iterator[AccountingBackend]:
    yield from _enter(request)


# Clocks -----------------------------------------------------------------------------------


@contextmanager
def system_clock() -> Iterator[Clock]:
    yield SystemClock()


@contextmanager
def frozen_clock() -> Iterator[Clock]:
    yield FrozenClock(NOW)


CLOCKS = {"system": system_clock, "frozen": frozen_clock}


@pytest.fixture(params=_params(CLOCKS))
def clock(request: pytest.FixtureRequest) -> Iterator[Clock]:
    yield from _enter(request)
