"""`justdriving payments overpaid|refund-overpayment|review|connect-stripe`: money paid beyond
what invoices ask, and payments held for review, listed and settled with one command; a
school's Stripe Connect onboarding link."""

from __future__ import annotations

import click

from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.money import Money
from justdriving.entrypoints.cli_common import app_from_environment, clean_errors, print_table

OVERPAID_COLUMNS = ("payment", "school", "invoice", "captured", "overpaid", "paid at")


@click.group()
def payments() -> None:
    """Payments: list and show them; review the held and overpaid ones."""


@payments.command("overpaid")
@click.option("--school", "school_id", default=None, help="One school's id (default: all).")
@clean_errors
def payments_overpaid(school_id: str | None) -> None:
    """Payments that brought more than their invoice asks, newest first."""
    rows = [
        (
            o.payment_id,
            o.school_id,
            o.invoice_number or o.invoice_id,
            o.captured,
            o.amount,
            o.paid_at,
        )
        for o in app_from_environment().overpayments(school_id)
    ]
    print_table(OVERPAID_COLUMNS, rows, empty="no overpayments")


@payments.command("refund-overpayment")
@click.argument("payment_id")
@clean_errors
def payments_refund_overpayment(payment_id: str) -> None:
    """Give back what PAYMENT_ID brought beyond its invoice (no credit note)."""
    app = app_from_environment()
    found = next((o for o in app.overpayments() if o.payment_id == payment_id), None)
    if found is None:
        raise NotFound("overpayment", payment_id)
    refund = app.refund_overpayment(found.school_id, payment_id)
    click.echo(f"refund {refund.id}: {refund.amount} of payment {payment_id}, {refund.status}")


@payments.command("connect-stripe")
@click.argument("school_id")
@click.option("--return-url", required=True, help="Where Stripe sends the school when done.")
@click.option("--refresh-url", required=True, help="Where Stripe sends it when the link expired.")
@clean_errors
def payments_connect_stripe(school_id: str, return_url: str, refresh_url: str) -> None:
    """The URL where SCHOOL_ID onboards its own Stripe account (STRIPE_CONNECT); its account
    is made the first time. Card payments start once Stripe enables charges on it."""
    click.echo(app_from_environment().connect_stripe_account(school_id, return_url, refresh_url))


@payments.command("review")
@click.argument("payment_id")
@click.option(
    "--approve", "decision", flag_value="approve", help="Held: it succeeds (with --amount)."
)
@click.option(
    "--write-off", "decision", flag_value="write-off", help="Held: it counts for nothing."
)
@click.option("--refund", "decision", flag_value="refund", help="Overpaid: give back the excess.")
@click.option("--amount", default=None, help="What arrived, e.g. 499.00 (--approve).")
@click.option("--reason", default=None, help="Why (--write-off).")
@clean_errors
def payments_review(
    payment_id: str, decision: str | None, amount: str | None, reason: str | None
) -> None:
    """Settle a payment held for review (--approve or --write-off) or an overpaid one
    (--refund)."""
    if decision is None:
        raise click.UsageError("say --approve, --write-off or --refund")
    app = app_from_environment()
    shown = app.money.payment(payment_id).payment
    school_id = shown.school.id
    if decision == "approve":
        money = Money.parse(amount, shown.amount.currency) if amount is not None else None
        payment = app.approve_held_payment(school_id, payment_id, money)
        click.echo(f"payment {payment_id} approved: {payment.captured}, {payment.status}")
    elif decision == "write-off":
        if not reason:
            raise click.UsageError("--write-off needs --reason")
        payment = app.write_off_held_payment(school_id, payment_id, reason)
        click.echo(f"payment {payment_id} written off: {payment.status}; its invoice is still due")
    else:
        if shown.overpaid is None:
            raise InvalidInput(f"payment {payment_id} brought nothing beyond its invoice")
        refund = app.refund_overpayment(school_id, payment_id)
        click.echo(f"refund {refund.id}: {refund.amount} of payment {payment_id}, {refund.status}")
