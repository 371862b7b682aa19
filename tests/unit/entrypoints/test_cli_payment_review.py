"""`justdriving payments review`: a payment held for review is approved with what arrived or
written off; an overpaid one gives back its excess. Every refusal changes nothing, on the
in-memory store and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from justdriving.application import Application
from justdriving.config import QueueBackend
from justdriving.domain.money import Money
from unit.entrypoints.web.support import Checkout, Site, build_site, settings_for

# The application handed to the command line (`main(obj=app)`, as an embedding service
# hands its own): the commands use it instead of building one from the environment.
HANDED: ContextVar[Application | None] = ContextVar("handed", default=None)


@pytest.fixture(params=["memory", "sqlite"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'review.db'}"
    built = build_site(settings_for(url, queue=QueueBackend.INLINE))
    handed = HANDED.set(built.app)
    yield built
    HANDED.reset(handed)


@pytest.fixture
def held(site: Site) -> Checkout:
    """A card payment of 500.00 whose provider reported 499.00: held for review."""
    checkout = site.checkout()
    assert site.post(site.gateway.succeed(checkout.ref, Money(49_900, "DKK"))).status_code == 200
    assert site.state(checkout)[:2] == ("held_for_review", "open")
    return checkout


def run(*args: str) -> Result:
    result = CliRunner().invoke(main_command(), list(args), obj=HANDED.get())
    assert "Traceback" not in result.output
    return result


def main_command():  # type: ignore[no-untyped-def]
    from justdriving.entrypoints.cli import main

    return main


def stored(site: Site, checkout: Checkout) -> tuple[object, ...]:
    with site.app.uow() as uow:
        payment = uow.payments.get(checkout.payment_id)
        invoice = uow.invoices.get(checkout.invoice_id)
        return (
            payment.status,
            payment.captured,
            payment.failure_reason,
            invoice.status,
            invoice.paid,
            len(uow.refunds.for_payment(payment.id)),
        )


def test_approving_with_what_arrived_counts_it_against_the_invoice(
    site: Site, held: Checkout
) -> None:
    result = run("payments", "review", held.payment_id, "--approve", "--amount", "499.00")

    assert result.exit_code == 0, result.output
    assert "approved: 499.00 DKK, succeeded" in result.output
    status, captured, reason, invoice, paid, _ = stored(site, held)
    assert (status, captured, invoice, paid) == (
        "succeeded",
        Money(49_900, "DKK"),
        "partially_paid",
        Money(49_900, "DKK"),
    )
    assert str(reason).startswith("approved after review (provider reported")


def test_approving_without_an_amount_takes_what_was_asked(site: Site, held: Checkout) -> None:
    assert run("payments", "review", held.payment_id, "--approve").exit_code == 0
    assert site.state(held) == ("succeeded", "paid", 1)


def test_writing_off_leaves_the_invoice_to_pay_and_a_new_payment_can_start(
    site: Site, held: Checkout
) -> None:
    result = run(
        "payments", "review", held.payment_id, "--write-off", "--reason", "no money arrived"
    )

    assert result.exit_code == 0, result.output
    assert "still due" in result.output
    status, captured, reason, invoice, _, _ = stored(site, held)
    assert (status, captured, invoice) == ("canceled", Money(0, "DKK"), "open")
    assert reason == "written off after review: no money arrived"
    again = site.app.start_invoice_payment(site.school_id, held.invoice_id)
    assert again.payment.id != held.payment_id


def test_an_overpayment_is_given_back_once(site: Site, held: Checkout) -> None:
    approved = run("payments", "review", held.payment_id, "--approve", "--amount", "600.00")
    given = run("payments", "review", held.payment_id, "--refund")
    again = run("payments", "review", held.payment_id, "--refund")  # while the first is out

    assert approved.exit_code == 0, approved.output
    assert given.exit_code == 0, given.output
    assert "100.00 DKK" in given.output
    assert again.exit_code == 1  # the first is still on its way: nothing more to give back
    assert "brought nothing beyond its invoice" in again.output
    assert stored(site, held)[5] == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--approve", "--amount", "-5.00"), 1),
        (("--approve", "--amount", "5,00,0"), 1),
        (("--write-off",), 2),
        (("--write-off", "--reason", "   "), 1),
        (("--refund",), 1),  # brought nothing beyond its invoice
        ((), 2),
    ],
    ids=["negative", "not-an-amount", "no-reason", "blank-reason", "not-overpaid", "no-decision"],
)
def test_a_refused_review_changes_nothing(
    site: Site, held: Checkout, args: tuple[str, ...], code: int
) -> None:
    before = stored(site, held)
    result = run("payments", "review", held.payment_id, *args)

    assert result.exit_code == code, result.output
    assert stored(site, held) == before


def test_a_payment_not_held_cannot_be_approved_or_written_off(site: Site, held: Checkout) -> None:
    assert run("payments", "review", held.payment_id, "--approve").exit_code == 0
    before = stored(site, held)
    for decision in (("--approve",), ("--write-off", "--reason", "changed my mind")):
        result = run("payments", "review", held.payment_id, *decision)
        assert result.exit_code == 1
        assert "succeeded" in result.output
    assert stored(site, held) == before
    assert run("payments", "review", "pay_nope", "--approve").exit_code == 1
