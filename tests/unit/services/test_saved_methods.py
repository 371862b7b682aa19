"""Cards on file: a customer per student made when first needed, cards saved on the webhook
(after 3-D Secure where the bank asks), listed by brand, last 4 and expiry, removed."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.adapters.payments.no_cards import NoCardsOnFile
from justdriving.application import Application
from justdriving.domain.errors import CapabilityNotSupported, NotFound
from justdriving.domain.events import CardSetupFailed, DomainEvent, PaymentMethodSaved
from justdriving.domain.payments import EventOutcome
from justdriving.domain.saved_methods import customer_id_for
from memory_app import memory_application

from .support import World, deliver, record, snapshot


def saved_card(
    app: Application, world: World, gateway: FakePaymentGateway, card: str = "pm_card_visa"
) -> str:
    """The world's student saves `card`; the provider's id of the saved method."""
    setup = app.start_saving_card(world.school.id, world.student.id)
    deliver(app, gateway.complete_setup(setup.session.provider_setup_id, card))
    return app.saved_payment_methods(world.school.id, world.student.id)[0].provider_method_id


def published(app: Application) -> list[DomainEvent]:
    seen: list[DomainEvent] = []
    app.subscribe(DomainEvent, seen.append)
    return seen


class TestSavingACard:
    def test_the_first_setup_makes_the_students_customer_linked_by_our_id(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        setup = app.start_saving_card(world.school.id, world.student.id)

        assert setup.session.client_secret
        assert setup.customer_id == customer_id_for(world.school.id, world.student.id, "fake")
        customer = record(store, "payment_customers", setup.customer_id)
        assert gateway.customers[customer.provider_customer_id]["customer_id"] == customer.id
        assert customer.default_method_id is None  # saved only when the webhook says so

    def test_a_second_setup_uses_the_same_customer(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        first = app.start_saving_card(world.school.id, world.student.id)
        second = app.start_saving_card(world.school.id, world.student.id)

        assert first.customer_id == second.customer_id
        assert len(gateway.customers) == 1
        assert first.session.provider_setup_id != second.session.provider_setup_id

    def test_the_webhook_saves_the_card_and_publishes_it_without_its_number(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        seen = published(app)
        method = saved_card(app, world, gateway)

        [event] = [e for e in seen if isinstance(e, PaymentMethodSaved)]
        assert (event.student_id, event.provider_method_id) == (world.student.id, method)
        customer = record(store, "payment_customers", event.customer_id)
        assert customer.default_method_id == method

    def test_a_card_whose_bank_asks_waits_for_3d_secure_then_is_saved(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        setup = app.start_saving_card(world.school.id, world.student.id)
        ref = setup.session.provider_setup_id

        waiting = deliver(app, gateway.complete_setup(ref, "pm_card_authenticationRequired"))
        assert waiting == [EventOutcome.IGNORED]
        assert record(store, "payment_customers", setup.customer_id).default_method_id is None

        assert deliver(app, gateway.authenticate_setup(ref)) == [EventOutcome.APPLIED]
        [shown] = app.saved_payment_methods(world.school.id, world.student.id)
        assert (shown.brand, shown.last4, shown.exp_month, shown.exp_year) == (
            "visa",
            "3184",
            12,
            2034,
        )

    def test_the_same_webhook_twice_saves_once(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        seen = published(app)
        setup = app.start_saving_card(world.school.id, world.student.id)
        delivery = gateway.complete_setup(setup.session.provider_setup_id)

        deliver(app, delivery, times=2)

        assert len([e for e in seen if isinstance(e, PaymentMethodSaved)]) == 1

    def test_a_failed_setup_is_published_with_the_banks_code(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        seen = published(app)
        setup = app.start_saving_card(world.school.id, world.student.id)

        deliver(app, gateway.fail_setup(setup.session.provider_setup_id, "do_not_honor"))

        [failed] = [e for e in seen if isinstance(e, CardSetupFailed)]
        assert failed.failure_code == "do_not_honor"

    def test_a_setup_webhook_naming_no_customer_of_ours_changes_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        before = snapshot(store)
        delivery = gateway.webhook(
            "setup.succeeded", {"customer_id": "cust_nobody", "provider_method_id": "pm_1"}
        )

        assert deliver(app, delivery) == [EventOutcome.IGNORED]
        after = snapshot(store)
        assert {t: r for t, r in after.items() if t != "inbox"} == {
            t: r for t, r in before.items() if t != "inbox"
        }

    def test_a_student_of_another_school_is_not_found(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        other = app.register_school("Anden Skole", currency="DKK", timezone="Europe/Copenhagen")
        before = snapshot(store)

        with pytest.raises(NotFound):
            app.start_saving_card(other.id, world.student.id)
        assert snapshot(store) == before


class TestListingAndRemoving:
    def test_a_student_without_a_customer_has_no_saved_cards(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        assert app.saved_payment_methods(world.school.id, world.student.id) == []
        assert gateway.customers == {}  # listing makes no customer

    def test_cards_are_listed_newest_first_and_a_removed_one_is_gone(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        visa = saved_card(app, world, gateway)
        mastercard = saved_card(app, world, gateway, "pm_card_mastercard")

        listed = app.saved_payment_methods(world.school.id, world.student.id)
        assert [m.provider_method_id for m in listed] == [mastercard, visa]

        app.remove_payment_method(world.school.id, world.student.id, mastercard)

        listed = app.saved_payment_methods(world.school.id, world.student.id)
        assert [m.provider_method_id for m in listed] == [visa]
        customer_id = customer_id_for(world.school.id, world.student.id, "fake")
        assert record(store, "payment_customers", customer_id).default_method_id is None

    def test_another_students_card_cannot_be_removed(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        anna = saved_card(app, world, gateway)
        bo = world.add_student(app)
        app.start_saving_card(world.school.id, bo.id)
        before = snapshot(store)

        with pytest.raises(NotFound):
            app.remove_payment_method(world.school.id, bo.id, anna)
        assert snapshot(store) == before
        assert len(app.saved_payment_methods(world.school.id, world.student.id)) == 1


class _Vaultless(NoCardsOnFile, FakePaymentGateway):
    """The fake gateway with the cards-on-file verbs of a gateway that keeps none (PayPal's)."""


def test_a_gateway_without_cards_on_file_refuses_with_a_clear_error(
    clock: FrozenClock, store: MemoryStore, world: World
) -> None:
    app = memory_application(clock, store=store, gateway=_Vaultless(clock=clock))
    before = snapshot(store)

    with pytest.raises(CapabilityNotSupported, match="cannot keep cards on file"):
        app.start_saving_card(world.school.id, world.student.id)
    assert snapshot(store) == before
