"""A school's connected Stripe account and platform fee are stored alike on every backend: the
school is found by its account, a payment keeps its account and fee, and no two schools hold
one account."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from test_persistence_contract import T0, a_payment

from justdriving.domain.connect import ConnectedAccount, PlatformFee
from justdriving.domain.errors import ConcurrencyConflict, DuplicateRecord
from justdriving.domain.ids import SchoolId
from justdriving.domain.money import Money
from justdriving.domain.schools import School, SchoolSettings

if TYPE_CHECKING:
    from conftest import PersistenceBackend

ACCOUNT = "acct_1PgafTB7WZ01zgkW"


def a_school(ident: str, account: str | None = None) -> School:
    return School(
        id=SchoolId(ident),
        name="Køreskolen",
        settings=SchoolSettings(platform_fee=PlatformFee.fixed(Money(500, "DKK"))),
        connected_account=ConnectedAccount(account) if account else None,
    )


def _store(persistence: PersistenceBackend, school: School) -> None:
    """Add and commit; the backend refuses a duplicate at the add (SQL) or the commit."""
    with persistence.uow() as uow:
        uow.schools.add(school)
        uow.commit()


def test_a_school_is_found_by_its_connected_account_with_its_fee(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        uow.schools.add(a_school("sch_1"))
        uow.schools.add(a_school("sch_2"))
        uow.commit()
    with persistence.uow() as uow:
        assert uow.schools.by_connected_account(ACCOUNT) is None
        uow.schools.get("sch_2").link_account(ConnectedAccount(ACCOUNT), T0)
        uow.commit()
    with persistence.uow() as uow:
        found = uow.schools.by_connected_account(ACCOUNT)
        assert found is not None
        assert found.id == "sch_2"
        assert found.settings.platform_fee == PlatformFee.fixed(Money(500, "DKK"))
        found.update_account(ConnectedAccount(ACCOUNT, charges_enabled=True), T0)
        uow.commit()
    with persistence.uow() as uow:
        account = uow.schools.get("sch_2").connected_account
        assert account == ConnectedAccount(ACCOUNT, charges_enabled=True)
        assert uow.schools.by_connected_account("acct_Other00000001") is None


def test_a_second_school_with_the_same_account_is_refused(
    persistence: PersistenceBackend,
) -> None:
    with persistence.uow() as uow:
        uow.schools.add(a_school("sch_1", ACCOUNT))
        uow.commit()

    with pytest.raises((DuplicateRecord, ConcurrencyConflict)):
        _store(persistence, a_school("sch_2", ACCOUNT))

    with persistence.uow() as uow:
        assert [s.id for s in uow.schools.list()] == ["sch_1"]


def test_a_payment_keeps_the_account_it_was_made_on_and_the_fee(
    persistence: PersistenceBackend,
) -> None:
    payment = a_payment()
    payment.connected_account, payment.platform_fee = ACCOUNT, Money(1250, "DKK")
    with persistence.uow() as uow:
        uow.payments.add(payment)
        uow.commit()
    with persistence.uow() as uow:
        stored = uow.payments.get(payment.id)
        assert (stored.connected_account, stored.platform_fee) == (ACCOUNT, Money(1250, "DKK"))
