"""`justdriving invoices|payments|balances|refund`: is invoice 3 paid, by what, and what does
Jonas owe? Answered from the command line, as tables and as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.entrypoints.cli import main
from justdriving.logs import Redactor
from memory_app import memory_application
from money_scenario import MoneyScenario, seed_money

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


# The application handed to the command line (`main(obj=app)`, as an embedding service
# hands its own): the commands use it instead of building one from the environment.
HANDED: ContextVar[Application | None] = ContextVar("handed", default=None)


@pytest.fixture
def app() -> Iterator[Application]:
    wired = memory_application(FrozenClock(NOW), redact=Redactor(["s3cret-password"]).text)
    handed = HANDED.set(wired)
    yield wired
    HANDED.reset(handed)


@pytest.fixture
def money(app: Application) -> MoneyScenario:
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    return seed_money(app, clock)


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), obj=HANDED.get())
    assert "Traceback" not in result.output
    return result


def test_invoice_3_is_paid_by_mobilepay_and_jonas_still_owes_invoice_1(
    money: MoneyScenario,
) -> None:
    result = run("invoices", "show", "3")

    assert result.exit_code == 0, result.output
    assert "invoice 3" in result.output
    assert ": paid" in result.output
    assert money.mobilepay in result.output
    assert "750.00 DKK of 750.00 DKK by mobilepay ref MP-1234, succeeded" in result.output
    assert "Jonas Madsen owes 500.00 DKK" in result.output
    assert "(overdue: 500.00 DKK)" in result.output


def test_invoice_list_shows_names_states_and_newest_first(money: MoneyScenario) -> None:
    result = run("invoices", "list", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["number"] for r in rows] == ["3", "2", "1"]
    assert [r["state"] for r in rows] == ["paid", "overdue", "overdue"]
    assert rows[0]["student"] == {"id": money.jonas, "name": "Jonas Madsen"}
    assert rows[0]["total"] == {"minor": 75000, "currency": "DKK", "text": "750.00 DKK"}
    assert rows[0]["issued_at"].endswith("+00:00")


def test_invoice_list_filters_by_student_name_and_by_state(money: MoneyScenario) -> None:
    jonas = json.loads(run("invoices", "list", "--student", "jonas", "--json").output)
    overdue = json.loads(run("invoices", "list", "--state", "overdue", "--json").output)
    table = run("invoices", "list", "--state", "paid")

    assert [r["id"] for r in jonas] == [money.invoice_3, money.invoice_1]
    assert [r["id"] for r in overdue] == [money.invoice_2, money.invoice_1]  # newest first
    assert "Jonas Madsen" in table.output
    assert "Ida Holm" not in table.output


def test_an_ambiguous_or_unknown_student_is_one_clear_line(money: MoneyScenario) -> None:
    nobody = run("invoices", "list", "--student", "Zed")
    both = run("invoices", "list", "--student", "o")  # jOnas and hOlm

    assert nobody.exit_code == 1
    assert "student" in nobody.output
    assert "Zed" in nobody.output
    assert both.exit_code == 1
    assert "2 students match" in both.output
    assert money.jonas in both.output


def test_payments_list_shows_the_declined_payment_with_the_redacted_reason(
    money: MoneyScenario,
) -> None:
    rows = json.loads(run("payments", "list", "--json").output)
    failed = json.loads(run("payments", "list", "--status", "failed", "--json").output)
    shown = run("payments", "show", money.declined)

    assert [r["id"] for r in rows] == [money.declined, money.mobilepay]
    assert [r["id"] for r in failed] == [money.declined]
    assert failed[0]["reason"].startswith("card_declined: insufficient funds")
    assert "jonas.madsen@example.dk" not in json.dumps(rows)
    assert "j***@example.dk" in failed[0]["reason"]
    assert shown.exit_code == 0, shown.output
    assert "failed" in shown.output
    assert "insufficient funds" in shown.output
    assert "invoice   1: overdue, outstanding 500.00 DKK" in shown.output


def test_balances_put_overdue_first_and_name_the_student(money: MoneyScenario) -> None:
    rows = json.loads(run("balances", "--json").output)
    table = run("balances", "--school", money.school_id)

    assert [(r["student"]["name"], r["owed"]["text"], r["overdue"]["text"]) for r in rows] == [
        ("Jonas Madsen", "500.00 DKK", "500.00 DKK"),
        ("Ida Holm", "300.00 DKK", "300.00 DKK"),
    ]
    assert table.exit_code == 0, table.output
    assert f"Jonas Madsen ({money.jonas})" in table.output


def test_refund_gives_money_back_and_the_invoice_shows_it(money: MoneyScenario) -> None:
    result = run("refund", money.mobilepay, "--amount", "250.00", "--reason", "lesson cancelled")
    shown = run("invoices", "show", money.invoice_3)

    assert result.exit_code == 0, result.output
    assert f"250.00 DKK of payment {money.mobilepay}" in result.output
    assert "refund" in shown.output
    assert "250.00 DKK" in shown.output


def test_a_refund_of_more_than_was_paid_is_refused_and_changes_nothing(
    app: Application, money: MoneyScenario
) -> None:
    before = json.loads(run("payments", "show", money.mobilepay, "--json").output)
    result = run("refund", money.mobilepay, "--amount", "900.00", "--reason", "too much")
    after = json.loads(run("payments", "show", money.mobilepay, "--json").output)

    assert result.exit_code == 1
    assert "at most 750.00 DKK" in result.output
    assert before == after


def test_show_of_an_unknown_invoice_or_payment_is_not_found(money: MoneyScenario) -> None:
    for args in (("invoices", "show", "99"), ("payments", "show", "pay_nope")):
        result = run(*args)
        assert result.exit_code == 1
        assert "not found" in result.output.lower()
