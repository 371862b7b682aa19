"""The scan for stored or logged card numbers finds them, and only them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from card_data import card_numbers, stored_card_numbers
from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from memory_app import memory_application

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CARDS = [
    "4242424242424242",  # Visa (Stripe's test card)
    "4000 0025 0000 3155",  # Visa, 3-D Secure required, with spaces
    "5555-5555-5555-4444",  # Mastercard, with dashes
    "378282246310005",  # American Express
    "6011111111111117",  # Discover
]
NOT_CARDS = [
    "+4520123456",  # a Danish mobile number
    "+4915112345678",  # a German one
    "1733140800",  # a Unix time
    "4242424242424241",  # a Visa-like number failing the Luhn check
    "9999999999999995",  # Luhn-valid, no card network's prefix
    "obx_4242424242424242",  # part of an id
    "amount 123456 øre",
]


@pytest.mark.parametrize("text", CARDS)
def test_a_card_number_is_found_and_masked(text: str) -> None:
    assert card_numbers(f"charged card {text} for the lesson") == [f"****{text[-4:]}"]


@pytest.mark.parametrize("text", NOT_CARDS)
def test_what_is_not_a_card_number_is_left_alone(text: str) -> None:
    assert card_numbers(text) == []


def test_the_database_scan_finds_a_card_number_in_any_stored_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'scan.db'}")
    upgrade(engine)
    app = memory_application(FrozenClock(NOW), uow=SqlUnitOfWorkFactory(engine))
    school = app.register_school("Køreskolen Scan", currency="DKK", timezone="Europe/Copenhagen")
    assert stored_card_numbers(engine) == []

    app.add_student(school.id, "Card Holder", email="4242424242424242@example.com")

    assert stored_card_numbers(engine) == ["students.document: ****4242"]
    engine.dispose()
