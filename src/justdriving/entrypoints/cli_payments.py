"""`justdriving payments overpaid|refund-overpayment`: money paid beyond what invoices ask,
held for review, listed and given back with one command."""

from __future__ import annotations

import click

from justdriving.domain.errors import NotFound
from justdriving.entrypoints.cli_common import app_from_environment, clean_errors, print_table

OVERPAID_COLUMNS = ("payment", "school", "invoice", "captured", "overpaid", "paid at")


@click.group()
def payments() -> None:
    """Payments held for review: overpayments."""


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
