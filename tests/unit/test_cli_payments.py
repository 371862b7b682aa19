"""`justdriving payments overpaid|refund-overpayment`: overpayments listed, given back once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import (
    FrozenClock,
)
from justdriving.application import Application
from justdriving.container import Container
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentMethod
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.cli import main
from memory_app import memory_application

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[Application]:
    """The in-memory application every command of the test gets, in place of the wired one."""
    wired = memory_application(FrozenClock(NOW))
    with Container.application.override(wired):
        yield wired


@pytest.fixture
def overpaid(app: Application) -> Payment:
    """600.00 in cash against an invoice of 500.00."""
    school = app.register_school("Køreskolen Øst")
    student = app.add_student(school.id, "Jonas Madsen", phone="20 12 34 56")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)
    return app.record_manual_payment(
        school.id,
        student.id,
        amount=Money.parse("600.00", "DKK"),
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
    )


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def test_overpaid_lists_the_payment_and_what_is_to_go_back(overpaid: Payment) -> None:
    result = run("payments", "overpaid")

    assert result.exit_code == 0, result.output
    assert overpaid.id in result.output
    assert "100.00 DKK" in result.output


def test_refund_overpayment_gives_it_back_once(app: Application, overpaid: Payment) -> None:
    first = run("payments", "refund-overpayment", overpaid.id)
    second = run("payments", "refund-overpayment", overpaid.id)

    assert first.exit_code == 0, first.output
    assert "100.00 DKK" in first.output
    assert "succeeded" in first.output
    assert app.overpayments() == []
    assert second.exit_code == 1
    assert second.output == f"error: overpayment {overpaid.id} not found\n"
    assert run("payments", "overpaid").output.strip() == "no overpayments"
