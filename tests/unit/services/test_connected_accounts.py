"""Stripe Connect on the fake gateway: a school onboards its own account, takes card payments
only once charges are enabled on it, and every payment, refund and fee lands on that account."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
)
from justdriving.application import Application
from justdriving.domain.connect import ConnectedAccount, PlatformFee
from justdriving.domain.errors import (
    ChargesNotEnabled,
    ConfigurationError,
    CurrencyMismatch,
    InvalidInput,
    NotFound,
)
from justdriving.domain.events import ConnectedAccountUpdated
from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxStatus
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.payments import AccountRequest
from memory_app import memory_application

from .support import NOW, World, build_world, deliver, dkk, eur, record, snapshot

RETURN, REFRESH = "https://app.example/connect/done", "https://app.example/connect/again"
LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


@pytest.fixture
def connect_app(
    store: MemoryStore,
    clock: FrozenClock,
    gateway: FakePaymentGateway,
    sms: FakeSmsSender,
    email: FakeEmailSender,
) -> Application:
    return memory_application(
        clock, store=store, gateway=gateway, sms=sms, email=email, connect=True
    )


def _invoice(app: Application, world: World) -> Invoice:
    draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
    return app.issue_invoice(world.school.id, draft.id)


def _onboarded(app: Application, gateway: FakePaymentGateway, world: World) -> str:
    app.connect_stripe_account(world.school.id, RETURN, REFRESH)
    account = record_school(app, world).connected_account
    assert account is not None
    deliver(app, gateway.update_account(account.account_id, charges_enabled=True))
    return account.account_id


def record_school(app: Application, world: World):  # type: ignore[no-untyped-def]
    with app.uow() as uow:
        return uow.schools.get(world.school.id)


class TestPlatformFee:
    @given(
        amount=st.integers(min_value=1, max_value=10**12),
        basis_points=st.integers(min_value=0, max_value=10_000),
    )
    def test_a_share_is_never_more_than_the_payment_nor_negative(
        self, amount: int, basis_points: int
    ) -> None:
        fee = PlatformFee.share(basis_points).on(Money(amount, "DKK"))

        assert Money.zero("DKK") <= fee <= Money(amount, "DKK")
        assert fee == Money(amount, "DKK").percent(basis_points)

    def test_a_flat_fee_above_the_payment_takes_the_payment_only(self) -> None:
        assert PlatformFee.fixed(dkk("20.00")).on(dkk("5.00")) == dkk("5.00")
        assert PlatformFee.fixed(dkk("20.00")).on(dkk("500.00")) == dkk("20.00")

    @pytest.mark.parametrize(
        "make",
        [
            lambda: PlatformFee(),
            lambda: PlatformFee(basis_points=100, flat=dkk("1.00")),
            lambda: PlatformFee.share(-1),
            lambda: PlatformFee.share(10_001),
            lambda: PlatformFee.share(True),  # type: ignore[arg-type]
            lambda: PlatformFee.fixed(dkk("-1.00")),
            lambda: PlatformFee.fixed(250),  # type: ignore[arg-type]
        ],
    )
    def test_a_fee_that_is_not_one_share_or_one_amount_is_refused(self, make) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidInput):
            make()

    def test_a_flat_fee_in_another_currency_is_refused_and_the_school_is_unchanged(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        before = snapshot(store)

        with pytest.raises(CurrencyMismatch):
            app.change_school(
                world.school.id, settings={"platform_fee": PlatformFee.fixed(eur("1.00"))}
            )

        assert snapshot(store) == before

    @pytest.mark.parametrize(
        "account_id", ["", "acct_", "acc_123", "acct_12 3", "acct_" + "x" * 65]
    )
    def test_an_account_id_that_is_not_stripes_shape_is_refused(self, account_id: str) -> None:
        with pytest.raises(InvalidInput):
            ConnectedAccount(account_id)


class TestOnboarding:
    def test_a_school_gets_one_account_and_an_onboarding_url_however_often_it_asks(
        self, connect_app: Application, gateway: FakePaymentGateway, world: World
    ) -> None:
        first = connect_app.connect_stripe_account(world.school.id, RETURN, REFRESH)
        again = connect_app.connect_stripe_account(world.school.id, RETURN, REFRESH)

        account = record_school(connect_app, world).connected_account
        assert account is not None
        assert list(gateway.accounts) == [account.account_id]
        assert (account.charges_enabled, account.details_submitted) == (False, False)
        assert first == again
        assert first.startswith(f"/dev/connect/{account.account_id}?")

    def test_linking_the_account_is_an_event_for_the_host(
        self, connect_app: Application, gateway: FakePaymentGateway, world: World
    ) -> None:
        seen: list[ConnectedAccountUpdated] = []
        connect_app.subscribe(ConnectedAccountUpdated, seen.append)

        _onboarded(connect_app, gateway, world)

        assert [(e.charges_enabled, e.school_id) for e in seen] == [
            (False, world.school.id),
            (True, world.school.id),
        ]

    def test_a_card_payment_waits_until_stripe_enables_charges_and_nothing_is_stored(
        self,
        connect_app: Application,
        gateway: FakePaymentGateway,
        world: World,
        store: MemoryStore,
    ) -> None:
        invoice = _invoice(connect_app, world)
        with pytest.raises(ChargesNotEnabled):
            connect_app.start_invoice_payment(world.school.id, invoice.id)
        connect_app.connect_stripe_account(world.school.id, RETURN, REFRESH)
        before = snapshot(store)

        with pytest.raises(ChargesNotEnabled):
            connect_app.start_invoice_payment(world.school.id, invoice.id)

        assert snapshot(store) == before
        assert gateway.charges == {}
        assert all(gateway.on_account(account).charges == {} for account in gateway.accounts)

    @pytest.mark.parametrize(
        ("school", "return_url", "error"),
        [
            ("xx_missing", RETURN, NotFound),
            (None, "/relative", InvalidInput),
            (None, "ftp://app.example/x", InvalidInput),
            (None, "https://", InvalidInput),
            (None, "https://app.example/" + "x" * 3000, InvalidInput),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_made(
        self,
        connect_app: Application,
        gateway: FakePaymentGateway,
        world: World,
        store: MemoryStore,
        school: str | None,
        return_url: str,
        error: type[Exception],
    ) -> None:
        before = snapshot(store)

        with pytest.raises(error):
            connect_app.connect_stripe_account(school or world.school.id, return_url, REFRESH)

        assert snapshot(store) == before
        assert gateway.accounts == {}

    def test_without_connect_the_school_is_told_it_is_not_configured(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        before = snapshot(store)

        with pytest.raises(ConfigurationError):
            app.connect_stripe_account(world.school.id, RETURN, REFRESH)

        assert snapshot(store) == before


class TestMoneyOnTheSchoolsAccount:
    def test_a_payment_is_made_on_the_schools_account_with_the_platform_fee_recorded(
        self, connect_app: Application, gateway: FakePaymentGateway, world: World
    ) -> None:
        connect_app.change_school(
            world.school.id, settings={"platform_fee": PlatformFee.share(250)}
        )
        account = _onboarded(connect_app, gateway, world)
        invoice = _invoice(connect_app, world)

        started = connect_app.start_invoice_payment(world.school.id, invoice.id)
        on_account = gateway.on_account(account)
        deliver(connect_app, on_account.succeed(started.session.provider_payment_id))

        charge = on_account.charges[started.session.provider_payment_id]
        assert charge.application_fee == dkk("12.50")
        assert gateway.charges == {}
        with connect_app.uow() as uow:
            payment = uow.payments.get(started.payment.id)
        assert (payment.connected_account, payment.platform_fee) == (account, dkk("12.50"))
        assert payment.status is PaymentStatus.SUCCEEDED

    def test_refunds_and_captures_go_to_the_account_the_payment_was_made_on(
        self, connect_app: Application, gateway: FakePaymentGateway, world: World
    ) -> None:
        account = _onboarded(connect_app, gateway, world)
        invoice = _invoice(connect_app, world)
        started = connect_app.start_invoice_payment(world.school.id, invoice.id)
        on_account = gateway.on_account(account)
        deliver(connect_app, on_account.succeed(started.session.provider_payment_id))

        connect_app.refund(world.school.id, started.payment.id, amount=dkk("100.00"))
        connect_app.relay_outbox()

        assert [r.amount for r in on_account.refunds.values()] == [dkk("100.00")]
        assert gateway.refunds == {}

    def test_an_event_from_another_account_does_not_touch_the_payment(
        self,
        connect_app: Application,
        gateway: FakePaymentGateway,
        world: World,
        store: MemoryStore,
    ) -> None:
        account = _onboarded(connect_app, gateway, world)
        invoice = _invoice(connect_app, world)
        started = connect_app.start_invoice_payment(world.school.id, invoice.id)
        ref = started.session.provider_payment_id
        gateway.on_account(account).charges[ref].status = PaymentStatus.PENDING
        # The platform's own account claims the payment: not where it was made.
        platform_event = gateway.webhook(
            "payment.succeeded",
            {
                "payment_id": started.payment.id,
                "provider_payment_id": ref,
                "amount": {"amount": 50000, "currency": "DKK"},
            },
        )

        assert deliver(connect_app, platform_event) == [EventOutcome.IGNORED]
        assert record(store, "payments", started.payment.id).status is PaymentStatus.PENDING

    def test_a_dispute_on_the_schools_account_is_recorded_and_one_from_elsewhere_is_not(
        self,
        connect_app: Application,
        gateway: FakePaymentGateway,
        world: World,
        store: MemoryStore,
    ) -> None:
        account = _onboarded(connect_app, gateway, world)
        invoice = _invoice(connect_app, world)
        started = connect_app.start_invoice_payment(world.school.id, invoice.id)
        ref = started.session.provider_payment_id
        on_account = gateway.on_account(account)
        deliver(connect_app, on_account.succeed(ref))
        dispute = {
            "payment_id": started.payment.id,
            "provider_payment_id": ref,
            "dispute_status": "needs_response",
            "amount": {"amount": 50000, "currency": "DKK"},
        }

        from_platform = gateway.webhook(
            "dispute.opened", {**dispute, "provider_dispute_id": "dp_platform"}
        )
        from_account = on_account.webhook(
            "dispute.opened", {**dispute, "provider_dispute_id": "dp_school"}
        )

        assert deliver(connect_app, from_platform) == [EventOutcome.IGNORED]
        assert deliver(connect_app, from_account) == [EventOutcome.APPLIED]
        assert [d.provider_dispute_id for d in store.records("disputes")] == ["dp_school"]


class TestEventsForAnAccountWeDoNotKnow:
    def test_it_is_stored_ignored_and_noted_for_operators_and_nothing_changes(
        self,
        connect_app: Application,
        gateway: FakePaymentGateway,
        world: World,
        store: MemoryStore,
    ) -> None:
        _onboarded(connect_app, gateway, world)
        stranger = gateway.create_account(AccountRequest("elsewhere", "acct-elsewhere")).account_id
        before = {t: v for t, v in snapshot(store).items() if t != "inbox"}

        outcomes = deliver(connect_app, gateway.update_account(stranger))

        assert outcomes == [EventOutcome.IGNORED]
        assert {t: v for t, v in snapshot(store).items() if t != "inbox"} == before
        [row] = [r for r in store.records("inbox") if r.status is InboxStatus.IGNORED]
        assert row.error == f"no school has connected account {stranger}"


def test_two_schools_each_take_payments_on_their_own_account(
    connect_app: Application, gateway: FakePaymentGateway, world: World
) -> None:
    other = build_world(connect_app, "Vest Køreskole")
    connect_app.change_school(
        other.school.id, settings={"platform_fee": PlatformFee.fixed(dkk("5.00"))}
    )
    accounts = [_onboarded(connect_app, gateway, w) for w in (world, other)]

    refs = []
    for w in (world, other):
        started = connect_app.start_invoice_payment(w.school.id, _invoice(connect_app, w).id)
        refs.append(started.session.provider_payment_id)

    assert accounts[0] != accounts[1]
    first, second = (gateway.on_account(a) for a in accounts)
    assert list(first.charges) == [refs[0]]
    assert list(second.charges) == [refs[1]]
    assert (first.charges[refs[0]].application_fee, second.charges[refs[1]].application_fee) == (
        None,
        dkk("5.00"),
    )


class TestAccountLifecycle:
    @settings(max_examples=40, deadline=None)
    @given(updates=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=6))
    def test_card_payments_follow_what_stripe_last_said_of_the_account(
        self, updates: list[tuple[bool, bool]]
    ) -> None:
        clock = FrozenClock(NOW)
        gateway = FakePaymentGateway(clock=clock)
        app = memory_application(clock, gateway=gateway, connect=True)
        world = build_world(app)
        seen: list[ConnectedAccountUpdated] = []
        app.subscribe(ConnectedAccountUpdated, seen.append)
        app.connect_stripe_account(world.school.id, RETURN, REFRESH)
        account = record_school(app, world).connected_account
        assert account is not None
        states = [(False, False)]

        for charges, details in updates:
            delivery = gateway.update_account(
                account.account_id, charges_enabled=charges, details_submitted=details
            )
            deliver(app, delivery)
            if (charges, details) != states[-1]:
                states.append((charges, details))

        assert [(e.charges_enabled, e.details_submitted) for e in seen] == states
        invoice = _invoice(app, world)
        if states[-1][0]:
            started = app.start_invoice_payment(world.school.id, invoice.id)
            assert started.payment.connected_account == account.account_id
        else:
            with pytest.raises(ChargesNotEnabled):
                app.start_invoice_payment(world.school.id, invoice.id)


class TestRefreshingTheAccount:
    def test_a_school_back_from_onboarding_learns_its_status_before_the_event(
        self, connect_app: Application, gateway: FakePaymentGateway, world: World
    ) -> None:
        connect_app.connect_stripe_account(world.school.id, RETURN, REFRESH)
        account = record_school(connect_app, world).connected_account
        assert account is not None
        gateway.update_account(account.account_id, charges_enabled=True)  # not delivered yet

        status = connect_app.refresh_stripe_account(world.school.id)

        assert status == ConnectedAccount(account.account_id, True, True)
        assert record_school(connect_app, world).connected_account == status
        started = connect_app.start_invoice_payment(
            world.school.id, _invoice(connect_app, world).id
        )
        assert started.payment.connected_account == account.account_id

    @pytest.mark.parametrize(
        ("school", "error"), [("xx_missing", NotFound), (None, ChargesNotEnabled)]
    )
    def test_an_unknown_school_or_one_not_connected_is_refused_and_nothing_changes(
        self,
        connect_app: Application,
        world: World,
        store: MemoryStore,
        school: str | None,
        error: type[Exception],
    ) -> None:
        before = snapshot(store)

        with pytest.raises(error):
            connect_app.refresh_stripe_account(school or world.school.id)

        assert snapshot(store) == before
