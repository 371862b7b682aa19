"""Cards on file: a customer per student, cards saved through a setup (3-D Secure where the bank
asks), listed by brand, last 4 and expiry, removed, and charged without the student.

Every gateway in the registry runs this file. One that keeps no card on file (PayPal here)
refuses each verb with CapabilityNotSupported; the rest is asked of the others only.

Not every method on file is a card. MobilePay's is a Recurring agreement the student approved in
the app, and it differs in ways the driver states as flags (conftest.CardFlags) rather than
hides: it shows no digits or expiry; saving it never waits for 3-D Secure afterwards (the app
authenticates while approving); a charge's answer is not its outcome (PROCESSING, then a
webhook); no charge ever waits for the student; and the bank's reason for a refusal is not
passed on (every refusal is a `non_technical_error`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from justdriving.domain.errors import (
    CapabilityNotSupported,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.ports.payments import (
    ChargeResult,
    ChargeStatus,
    CustomerRequest,
    SavedChargeRequest,
    SetupRequest,
)

if TYPE_CHECKING:
    from conftest import Delivery, GatewayDriver

FEE = Money(30000, "DKK")
RETURN_URL = "https://school.example/payment-methods"


@pytest.fixture
def cards(driver: GatewayDriver) -> GatewayDriver:
    if not driver.cards_on_file:
        pytest.skip(f"{driver.gateway.name} keeps no cards on file (it refuses: see below)")
    return driver


def a_customer(driver: GatewayDriver, key: str | None = None) -> tuple[str, str]:
    """(our customer id, the provider's) for a new student."""
    ours = new_id("cust")
    request = CustomerRequest(ours, "sch_1", new_id("stu"), key or new_id("key"), "Sofie")
    return ours, driver.gateway.create_customer(request)


def a_setup(customer: tuple[str, str], key: str | None = None) -> SetupRequest:
    ours, theirs = customer
    # MobilePay sends the student back here after the app (Stripe's form needs no URL).
    return SetupRequest(ours, theirs, "sch_1", key or new_id("key"), RETURN_URL)


def event_of(driver: GatewayDriver, delivery: Delivery) -> ProviderPaymentEvent:
    [event] = driver.gateway.parse_webhook(*delivery, driver.now())
    return event


def a_saved_card(driver: GatewayDriver, card: str = "pm_card_visa") -> tuple[str, str]:
    """(the provider's customer id, the saved method's id)."""
    customer = a_customer(driver)
    setup = driver.gateway.start_setup(a_setup(customer))
    event = event_of(driver, driver.complete_setup(setup.provider_setup_id, card))
    if event.kind is PaymentEventKind.SETUP_REQUIRES_ACTION:
        event = event_of(driver, driver.authenticate_setup(setup.provider_setup_id))
    assert event.provider_method_id
    return customer[1], event.provider_method_id


def settled(driver: GatewayDriver, result: ChargeResult) -> ChargeResult | ProviderPaymentEvent:
    """The charge's outcome: its answer, or (where charges settle later) its webhook's event."""
    if driver.charges_settle_at_once:
        return result
    assert result.status is ChargeStatus.PROCESSING
    return event_of(driver, driver.settle_charge(result.provider_payment_id))


def a_charge(customer: str, method: str, key: str | None = None) -> SavedChargeRequest:
    return SavedChargeRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        provider_customer_id=customer,
        provider_method_id=method,
        amount=FEE,
        description="No-show fee",
        idempotency_key=key or new_id("key"),
    )


# Customers --------------------------------------------------------------------------------


def test_the_same_key_gives_the_same_customer_and_another_key_another(
    cards: GatewayDriver,
) -> None:
    request = CustomerRequest("cust_1", "sch_1", "stu_1", "key_customer_1", "Sofie")
    first, again = cards.gateway.create_customer(request), cards.gateway.create_customer(request)
    assert first == again
    assert a_customer(cards)[1] != first


# Saving a card ----------------------------------------------------------------------------


def test_a_setup_gives_the_browser_a_way_to_enter_the_card_once_per_key(
    cards: GatewayDriver,
) -> None:
    request = a_setup(a_customer(cards))
    session, again = cards.gateway.start_setup(request), cards.gateway.start_setup(request)
    assert session == again
    assert session.provider == cards.gateway.name
    assert session.client_secret or session.redirect_url


def test_a_saved_card_completes_on_the_webhook_with_our_customer_and_is_listed(
    cards: GatewayDriver,
) -> None:
    customer = a_customer(cards)
    setup = cards.gateway.start_setup(a_setup(customer))
    assert cards.gateway.saved_methods(customer[1]) == []
    event = event_of(cards, cards.complete_setup(setup.provider_setup_id, "pm_card_visa"))
    assert event.kind is PaymentEventKind.SETUP_SUCCEEDED
    assert (event.customer_id, event.provider_setup_id) == (customer[0], setup.provider_setup_id)
    [method] = cards.gateway.saved_methods(customer[1])
    assert method.provider_method_id == event.provider_method_id
    if not cards.shows_card_details:  # a wallet agreement: its brand, and nothing personal
        assert (method.brand, method.last4, method.exp_month, method.exp_year) == (
            cards.gateway.name,
            None,
            None,
            None,
        )
        assert not method.is_card
        assert not method.expired_at(cards.now())
        return
    assert (method.brand, method.last4) == ("visa", "4242")
    assert method.exp_month is not None
    assert 1 <= method.exp_month <= 12
    assert method.exp_year is not None
    assert method.exp_year >= cards.now().year


def test_a_card_whose_bank_asks_for_3d_secure_waits_for_the_student(
    cards: GatewayDriver,
) -> None:
    if not cards.setup_can_require_action:
        pytest.skip(f"{cards.gateway.name}: the student authenticates while approving, in the app")
    customer = a_customer(cards)
    setup = cards.gateway.start_setup(a_setup(customer))
    card = "pm_card_authenticationRequiredOnSetup"
    waiting = event_of(cards, cards.complete_setup(setup.provider_setup_id, card))
    assert waiting.kind is PaymentEventKind.SETUP_REQUIRES_ACTION
    assert cards.gateway.saved_methods(customer[1]) == []
    done = event_of(cards, cards.authenticate_setup(setup.provider_setup_id))
    assert done.kind is PaymentEventKind.SETUP_SUCCEEDED
    assert [m.last4 for m in cards.gateway.saved_methods(customer[1])] == ["3155"]


def test_removing_a_card_forgets_it_and_a_retry_of_the_removal_is_fine(
    cards: GatewayDriver,
) -> None:
    customer, method = a_saved_card(cards)
    cards.gateway.remove_method(customer, method, "key_remove")
    cards.gateway.remove_method(customer, method, "key_remove")
    assert cards.gateway.saved_methods(customer) == []


def test_a_card_of_another_customer_can_be_neither_removed_nor_charged(
    cards: GatewayDriver,
) -> None:
    _, method = a_saved_card(cards)
    stranger = a_customer(cards)[1]
    with pytest.raises(ProviderRejected):
        cards.gateway.remove_method(stranger, method, new_id("key"))
    with pytest.raises(ProviderRejected):
        cards.gateway.charge_saved(a_charge(stranger, method))


# Charging a saved card --------------------------------------------------------------------


def test_a_charge_to_a_saved_card_succeeds_without_the_student_once_per_key(
    cards: GatewayDriver,
) -> None:
    customer, method = a_saved_card(cards)
    before = cards.charge_count()
    request = a_charge(customer, method, key="key_no_show_1")
    first, again = cards.gateway.charge_saved(request), cards.gateway.charge_saved(request)
    assert first == again
    assert cards.charge_count() == before + 1
    outcome = settled(cards, first)
    if isinstance(outcome, ProviderPaymentEvent):
        assert outcome.kind is PaymentEventKind.SUCCEEDED
        assert (outcome.payment_id, outcome.provider_payment_id) == (
            request.payment_id,
            first.provider_payment_id,
        )
    else:
        assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.amount == FEE
    assert cards.gateway.charge_saved(request) == first  # settled, asked again: the same
    assert cards.charge_count() == before + 1


def test_an_outage_during_a_charge_is_retryable_and_the_retry_charges_once(
    cards: GatewayDriver,
) -> None:
    customer, method = a_saved_card(cards)
    before = cards.charge_count()
    request = a_charge(customer, method)
    cards.make_next_call_unavailable()
    with pytest.raises(ProviderUnavailable):
        cards.gateway.charge_saved(request)
    first = cards.gateway.charge_saved(request)
    assert cards.gateway.charge_saved(request) == first
    assert cards.charge_count() == before + 1
    outcome = settled(cards, first)
    assert getattr(outcome, "kind", None) is PaymentEventKind.SUCCEEDED or (
        getattr(outcome, "status", None) is ChargeStatus.SUCCEEDED
    )


@pytest.mark.parametrize("code", ["insufficient_funds", "stolen_card", "lost_card"])
def test_a_declined_charge_comes_back_with_the_decline_code(
    cards: GatewayDriver, code: str
) -> None:
    customer, method = a_saved_card(cards)
    cards.decline_next_charge(method, code)
    request = a_charge(customer, method)
    outcome = settled(cards, cards.gateway.charge_saved(request))
    if isinstance(outcome, ProviderPaymentEvent):
        assert outcome.kind is PaymentEventKind.FAILED
        assert outcome.payment_id == request.payment_id
        assert outcome.failure_code == cards.reported_decline(code)
    else:
        assert outcome.status is ChargeStatus.DECLINED
        assert outcome.decline_code == cards.reported_decline(code)
    after = settled(cards, cards.gateway.charge_saved(a_charge(customer, method)))
    assert getattr(after, "kind", None) is PaymentEventKind.SUCCEEDED or (
        getattr(after, "status", None) is ChargeStatus.SUCCEEDED
    )


def test_a_charge_the_bank_wants_authenticated_waits_for_the_student_who_then_pays(
    cards: GatewayDriver,
) -> None:
    if not cards.charges_can_require_action:
        pytest.skip(f"{cards.gateway.name}: no charge waits for the student (it fails instead)")
    customer, method = a_saved_card(cards, "pm_card_authenticationRequired")
    request = a_charge(customer, method)
    result = cards.gateway.charge_saved(request)
    assert result.status is ChargeStatus.REQUIRES_ACTION
    assert result.decline_code == "authentication_required"
    assert result.client_secret
    paid = event_of(cards, cards.succeed(result.provider_payment_id))
    assert paid.kind is PaymentEventKind.SUCCEEDED
    assert (paid.payment_id, paid.amount) == (request.payment_id, FEE)


# A gateway without cards on file ----------------------------------------------------------


def test_a_gateway_without_cards_on_file_refuses_every_verb_clearly(
    driver: GatewayDriver,
) -> None:
    if driver.cards_on_file:
        pytest.skip(f"{driver.gateway.name} keeps cards on file (tested above)")
    gateway = driver.gateway
    calls = [
        lambda: gateway.create_customer(CustomerRequest("cust_1", "sch_1", "stu_1", "k1")),
        lambda: gateway.start_setup(SetupRequest("cust_1", "cus_1", "sch_1", "k2")),
        lambda: gateway.saved_methods("cus_1"),
        lambda: gateway.remove_method("cus_1", "pm_1", "k3"),
        lambda: gateway.charge_saved(a_charge("cus_1", "pm_1")),
    ]
    for call in calls:
        with pytest.raises(CapabilityNotSupported) as refused:
            call()
        assert gateway.name in str(refused.value)
        assert refused.value.code == "capability_not_supported"
