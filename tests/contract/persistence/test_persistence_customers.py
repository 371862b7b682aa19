"""Payment customers (a student's link to their customer at a gateway) are stored alike on every
backend: found by our derived id, saved methods kept, a second insert refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from test_persistence_contract import T0, a_payment

from justdriving.domain.errors import DuplicateRecord
from justdriving.domain.events import PaymentMethodSaved
from justdriving.domain.ids import SchoolId, StudentId
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.saved_methods import PaymentCustomer, customer_id_for

if TYPE_CHECKING:
    from conftest import PersistenceBackend


def a_customer() -> PaymentCustomer:
    return PaymentCustomer(
        id=customer_id_for("sch_1", "stu_1", "stripe"),
        school_id=SchoolId("sch_1"),
        student_id=StudentId("stu_1"),
        provider="stripe",
        provider_customer_id="cus_1",
        created_at=T0,
    )


def test_a_customer_is_found_by_our_id_with_its_saved_method(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        uow.payment_customers.add(a_customer())
        uow.commit()
    with persistence.uow() as uow:
        customer = uow.payment_customers.get(customer_id_for("sch_1", "stu_1", "stripe"))
        assert customer.method_saved("pm_1", T0)
        events = uow.collect_events()
        uow.commit()
    assert [type(e) for e in events] == [PaymentMethodSaved]
    with persistence.uow() as uow:
        stored = uow.payment_customers.get(customer.id)
        assert (stored.provider_customer_id, stored.default_method_id) == ("cus_1", "pm_1")
        assert stored.created_at == T0
        assert uow.payment_customers.find(customer_id_for("sch_1", "stu_2", "stripe")) is None


def test_a_second_customer_for_the_same_student_and_gateway_is_refused(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        uow.payment_customers.add(a_customer())
        uow.commit()
    with persistence.uow() as uow, pytest.raises(DuplicateRecord):
        uow.payment_customers.add(a_customer())
    with persistence.uow() as uow:
        assert uow.payment_customers.get(a_customer().id).provider_customer_id == "cus_1"


def test_a_charge_to_a_saved_card_keeps_its_reason_card_and_decline(
    persistence: PersistenceBackend,
) -> None:
    payment = a_payment()
    payment.charge_reason, payment.charged_method_id = "no_show_fee:bk_1", "pm_1"
    with persistence.uow() as uow:
        uow.payments.add(payment)
        uow.commit()
    with persistence.uow() as uow:
        uow.payments.get(payment.id).decline_charge("insufficient_funds", T0)
        uow.commit()
    with persistence.uow() as uow:
        stored = uow.payments.get(payment.id)
        assert (stored.charge_reason, stored.charged_method_id) == ("no_show_fee:bk_1", "pm_1")
        assert (stored.status, stored.failure_reason) == (
            PaymentStatus.FAILED,
            "insufficient_funds",
        )
        assert stored.retryable_decline
