"""Connected accounts (Stripe Connect): a school's account made once per key, its onboarding
link, and the gateway acting on it: payments (with the platform's application fee),
captures, cancellations and refunds on that account only, never found on another; its events
carry the account, and account.updated says when charges are enabled.

Every gateway in the registry runs this file; one without connected accounts (PayPal here)
refuses `on_account` with CapabilityNotSupported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from attrs import evolve

from justdriving.domain.errors import CapabilityNotSupported, ProviderRejected
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.ports.payments import (
    AccountRequest,
    ChargeStatus,
    CustomerRequest,
    PaymentRequest,
    RefundRequest,
    SavedChargeRequest,
    SetupRequest,
)

if TYPE_CHECKING:
    from conftest import Delivery, GatewayDriver

LESSON = Money(50000, "DKK")
FEE = Money(1250, "DKK")


@pytest.fixture
def connect(driver: GatewayDriver) -> GatewayDriver:
    if not driver.connects:
        pytest.skip(f"{driver.gateway.name} has no connected accounts (it refuses: see below)")
    return driver


def an_account(driver: GatewayDriver, key: str | None = None, school: str = "sch_1") -> str:
    request = AccountRequest(school, key or new_id("key"))
    return driver.gateway.create_account(request).account_id  # type: ignore[attr-defined,no-any-return]


def a_payment(
    gateway: object,
    fee: Money | None = FEE,
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC,
) -> str:
    request = PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=LESSON,
        description="Køretime",
        idempotency_key=new_id("key"),
        capture_mode=capture_mode,
        application_fee=fee,
    )
    return gateway.start(request).provider_payment_id  # type: ignore[attr-defined,no-any-return]


def events_of(
    gateway: object, driver: GatewayDriver, delivery: Delivery
) -> list[ProviderPaymentEvent]:
    return gateway.parse_webhook(*delivery, driver.now())  # type: ignore[attr-defined,no-any-return]


def test_an_account_is_made_once_per_key_and_starts_without_charges(
    connect: GatewayDriver,
) -> None:
    key = new_id("key")
    first, again = an_account(connect, key), an_account(connect, key)
    other = an_account(connect)

    assert first == again
    assert other != first
    assert first.startswith("acct_")


def test_an_onboarding_link_is_given_for_an_account_of_ours(connect: GatewayDriver) -> None:
    account = an_account(connect)

    link = connect.gateway.onboarding_link(  # type: ignore[attr-defined]
        account, "https://app.example/done", "https://app.example/again"
    )

    assert isinstance(link, str)
    assert account in link


def test_an_onboarding_link_for_an_account_not_ours_is_refused(connect: GatewayDriver) -> None:
    with pytest.raises(ProviderRejected):
        connect.gateway.onboarding_link(  # type: ignore[attr-defined]
            "acct_NotOurs000000001", "https://app.example/done", "https://app.example/again"
        )


def test_a_payment_on_an_account_carries_the_fee_and_is_not_found_on_another(
    connect: GatewayDriver,
) -> None:
    school, other = connect.on_account(an_account(connect)), connect.on_account(an_account(connect))

    ref = a_payment(school.gateway)

    assert school.application_fee(ref) == FEE.amount
    assert school.charge_count() == 1
    assert other.charge_count() == 0
    assert connect.charge_count() == 0
    with pytest.raises(ProviderRejected):
        other.gateway.cancel(ref, new_id("key"))
    with pytest.raises(ProviderRejected):
        connect.gateway.cancel(ref, new_id("key"))


def test_an_application_fee_on_the_platforms_own_account_is_refused(
    connect: GatewayDriver,
) -> None:
    with pytest.raises(ProviderRejected):
        a_payment(connect.gateway)

    assert connect.charge_count() == 0


def test_refunds_and_captures_happen_on_the_account_the_payment_was_made_on(
    connect: GatewayDriver,
) -> None:
    school = connect.on_account(an_account(connect))
    paid = a_payment(school.gateway)
    school.succeed(paid)
    held = a_payment(school.gateway, capture_mode=CaptureMode.MANUAL)
    school.authorize(held)

    refund = school.gateway.refund(
        RefundRequest(new_id("ref"), paid, Money(10000, "DKK"), "goodwill", new_id("key"))
    )
    school.gateway.capture(held, LESSON, new_id("key"))

    assert refund.provider_refund_id
    assert school.refund_count(paid) == 1
    assert connect.charge_count() == 0


def test_the_accounts_events_carry_it_and_account_updated_says_charges_are_enabled(
    connect: GatewayDriver,
) -> None:
    account = an_account(connect)
    school = connect.on_account(account)
    ref = a_payment(school.gateway)
    receiver = connect.connect_webhook_gateway()

    [paid] = events_of(receiver, connect, school.succeed(ref))
    [updated] = events_of(receiver, connect, connect.enable_charges(account))

    assert (paid.kind, paid.provider_payment_id, paid.account) == (
        PaymentEventKind.SUCCEEDED,
        ref,
        account,
    )
    assert (updated.kind, updated.account, updated.charges_enabled) == (
        PaymentEventKind.ACCOUNT_UPDATED,
        account,
        True,
    )
    assert updated.details_submitted is True


def test_a_gateway_without_connected_accounts_refuses_to_act_on_one(
    driver: GatewayDriver,
) -> None:
    if driver.connects:
        pytest.skip(f"{driver.gateway.name} has connected accounts (see above)")

    with pytest.raises(CapabilityNotSupported):
        driver.gateway.on_account("acct_1PgafTB7WZ01zgkW")


def test_a_card_saved_on_an_account_is_charged_there_with_the_fee_and_unknown_elsewhere(
    connect: GatewayDriver,
) -> None:
    school = connect.on_account(an_account(connect))
    other = connect.on_account(an_account(connect))
    receiver = connect.connect_webhook_gateway()
    customer = school.gateway.create_customer(
        CustomerRequest("cust_1", "sch_1", "stu_1", new_id("key"), "Sofie")
    )
    setup = school.gateway.start_setup(SetupRequest("cust_1", customer, "sch_1", new_id("key")))
    [saved] = events_of(
        receiver, connect, school.complete_setup(setup.provider_setup_id, "pm_card_visa")
    )
    method = saved.provider_method_id
    assert method is not None
    charge = SavedChargeRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        provider_customer_id=customer,
        provider_method_id=method,
        amount=LESSON,
        description="No-show fee",
        idempotency_key=new_id("key"),
        application_fee=FEE,
    )

    result = school.gateway.charge_saved(charge)

    assert result.status is ChargeStatus.SUCCEEDED
    assert school.application_fee(result.provider_payment_id) == FEE.amount
    assert saved.account == school.gateway.account
    assert [m.provider_method_id for m in school.gateway.saved_methods(customer)] == [method]
    with pytest.raises(ProviderRejected):
        other.gateway.charge_saved(evolve(charge, idempotency_key=new_id("key")))


def test_the_accounts_status_is_read_from_the_provider(connect: GatewayDriver) -> None:
    account = an_account(connect)
    accounts = connect.gateway

    before = accounts.account_status(account)  # type: ignore[attr-defined]
    connect.enable_charges(account)
    after = accounts.account_status(account)  # type: ignore[attr-defined]

    assert (before.account_id, before.charges_enabled) == (account, False)
    assert (after.charges_enabled, after.details_submitted) == (True, True)
    with pytest.raises(ProviderRejected):
        accounts.account_status("acct_NotOurs000000001")  # type: ignore[attr-defined]
