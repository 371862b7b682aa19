"""Money at a glance: `invoices list|show`, `payments list|show`, `balances` and `refund`.

Every command reads through `app.money` (read only) or calls one use case; list commands
print a table, or with `--json` one JSON array for scripts (amounts as minor units, currency
and text; times in ISO 8601 UTC). A student is given by id or by a part of their name."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs
import click

from justdriving.application import Application
from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.services.arguments import MOST_PER_BATCH
from justdriving.domain.services.views.money_rows import OVERDUE, Named
from justdriving.entrypoints.cli_common import app_from_environment, clean_errors, print_table

F = TypeVar("F", bound=Callable[..., Any])

INVOICE_COLUMNS = (
    *("invoice", "school", "student", "state", "issued", "due"),
    *("total", "paid", "outstanding"),
)
PAYMENT_COLUMNS = (
    *("payment", "school", "student", "invoice", "amount", "status"),
    *("paid by", "created", "reason"),
)
BALANCE_COLUMNS = ("school", "student", "owes", "overdue", "overdue invoices", "oldest due")


def _common(command: F) -> F:
    """--school, --student, --limit, --offset and --json, as every list command takes them."""
    for option in reversed(
        (
            click.option("--school", "school_id", default=None, help="One school's id."),
            click.option("--student", default=None, help="A student's id or part of a name."),
            click.option(
                "--limit",
                default=50,
                show_default=True,
                type=click.IntRange(1, MOST_PER_BATCH),
                help="At most this many, newest first.",
            ),
            click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many."),
            click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts."),
        )
    ):
        command = option(command)
    return command


def student_id(app: Application, student: str | None, school_id: str | None) -> str | None:
    """The one student `student` names (an id, or a part of exactly one student's name)."""
    if student is None:
        return None
    found = app.money.find_students(student, school_id)
    if not found:
        raise NotFound("student", student)
    if len(found) > 1:
        named = ", ".join(f"{n.name} ({n.id})" for n in found[:5])
        raise InvalidInput(f"{len(found)} students match {student!r}: {named}; give the id")
    return found[0].id


def jsonable(value: Any) -> Any:
    """Rows as JSON values: Money as minor units, currency and text; times in ISO 8601."""
    if isinstance(value, Money):
        return {"minor": value.amount, "currency": value.currency, "text": str(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if attrs.has(type(value)):
        fields = {f.name: jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
        for derived in ("state", "paid_by"):
            if hasattr(value, derived):
                fields[derived] = getattr(value, derived)
        return fields
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def emit_json(rows: Sequence[Any]) -> None:
    click.echo(json.dumps(jsonable(list(rows)), ensure_ascii=False, indent=2))


def who(named: Named) -> str:
    return f"{named.name} ({named.id})"


# --------------------------------------------------------------------------------------------
# invoices


@click.group()
def invoices() -> None:
    """Invoices: open, overdue, paid, void; with their payments and the student's balance."""


@invoices.command("list")
@click.option(
    "--state",
    type=click.Choice([*(s.value for s in InvoiceStatus), OVERDUE]),
    help="Only these: open (unpaid, not due yet), overdue (unpaid, past due), paid, ...",
)
@_common
@clean_errors
def invoices_list(
    state: str | None,
    school_id: str | None,
    student: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Invoices, newest first (drafts first): with --state overdue, unpaid and past due."""
    app = app_from_environment()
    rows = app.money.invoices(
        school_id, student_id(app, student, school_id), state, limit=limit, offset=offset
    )
    if as_json:
        emit_json(rows)
        return
    print_table(
        INVOICE_COLUMNS,
        (
            (
                *(i.number or i.id, i.school.name, who(i.student), i.state),
                *(i.issued_at, i.due_at, i.total, i.paid, i.outstanding),
            )
            for i in rows
        ),
        empty="no invoices",
    )


@invoices.command("show")
@click.argument("invoice")
@click.option("--school", "school_id", default=None, help="The school, for an invoice number.")
@click.option("--json", "as_json", is_flag=True, help="As one JSON object.")
@clean_errors
def invoices_show(invoice: str, school_id: str | None, as_json: bool) -> None:
    """One invoice by id or number: its lines, what paid it, and what the student owes."""
    detail = app_from_environment().money.invoice(invoice, school_id)
    if as_json:
        click.echo(json.dumps(jsonable(detail), ensure_ascii=False, indent=2))
        return
    i = detail.invoice
    click.echo(f"invoice {i.number or '(draft)'} ({i.id}) at {i.school.name}: {i.state}")
    click.echo(f"  student      {who(i.student)}")
    click.echo(f"  issued, due  {_at(i.issued_at)}, {_at(i.due_at)}")
    click.echo(f"  total        {i.total}")
    click.echo(f"  paid         {i.paid}")
    click.echo(f"  outstanding  {i.outstanding}")
    for line in detail.lines:
        click.echo(f"  line         {line.quantity} x {line.description}: {line.gross}")
    if not detail.payments:
        click.echo("  payments     none")
    for p in detail.payments:
        by = p.paid_by + (f" ref {p.reference}" if p.reference else "")
        reason = f" ({p.reason})" if p.reason else ""
        click.echo(f"  payment      {p.id}: {p.captured} of {p.amount} by {by}, {p.status}{reason}")
    for c in detail.credit_notes:
        click.echo(f"  credit note  {c.number} ({c.id}): {c.amount}")
    for r in detail.refunds:
        click.echo(f"  refund       {r.id} of {r.payment_id}: {r.amount}, {r.status}")
    b = detail.balance
    click.echo(f"{b.student.name} owes {b.owed} at {b.school.name} (overdue: {b.overdue})")


# --------------------------------------------------------------------------------------------
# payments list|show (the group is cli_payments.payments)


@click.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in PaymentStatus]), help="Only this status."
)
@_common
@clean_errors
def payments_list(
    status: str | None,
    school_id: str | None,
    student: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Payments, newest first, with the provider's reason for a failed or held one."""
    app = app_from_environment()
    rows = app.money.payments(
        school_id, student_id(app, student, school_id), status, limit=limit, offset=offset
    )
    if as_json:
        emit_json(rows)
        return
    print_table(
        PAYMENT_COLUMNS,
        (
            (
                *(p.id, p.school.name, who(p.student), p.invoice_number or p.invoice_id),
                *(p.amount, p.status, p.paid_by, p.created_at, p.reason),
            )
            for p in rows
        ),
        empty="no payments",
    )


@click.command("show")
@click.argument("payment_id")
@click.option("--json", "as_json", is_flag=True, help="As one JSON object.")
@clean_errors
def payments_show(payment_id: str, as_json: bool) -> None:
    """One payment: what it paid, its refunds, and why it failed or is held."""
    detail = app_from_environment().money.payment(payment_id)
    if as_json:
        click.echo(json.dumps(jsonable(detail), ensure_ascii=False, indent=2))
        return
    p = detail.payment
    click.echo(f"payment {p.id} at {p.school.name}: {p.status}")
    click.echo(f"  student   {who(p.student)}")
    click.echo(f"  amount    {p.amount} (captured {p.captured}, refunded {p.refunded})")
    reference = f" ref {p.reference}" if p.reference else ""
    click.echo(f"  by        {p.paid_by}{reference}, created {_at(p.created_at)}")
    if p.reason:
        click.echo(f"  reason    {p.reason}")
    if p.overpaid:
        click.echo(f"  overpaid  {p.overpaid}: justdriving payments refund-overpayment {p.id}")
    if detail.invoice is not None:
        i = detail.invoice
        click.echo(f"  invoice   {i.number or i.id}: {i.state}, outstanding {i.outstanding}")
    for r in detail.refunds:
        click.echo(f"  refund    {r.id}: {r.amount}, {r.status}")


# --------------------------------------------------------------------------------------------
# balances and refund


@click.command("balances")
@_common
@clean_errors
def balances(
    school_id: str | None, student: str | None, limit: int, offset: int, as_json: bool
) -> None:
    """What each student owes (or has in credit), overdue first, then the most owed."""
    app = app_from_environment()
    rows = app.money.balances(school_id, student_id(app, student, school_id), limit + offset)
    rows = rows[offset:]
    if as_json:
        emit_json(rows)
        return
    print_table(
        BALANCE_COLUMNS,
        (
            (b.school.name, who(b.student), b.owed, b.overdue, b.overdue_invoices, b.oldest_due)
            for b in rows
        ),
        empty="nobody owes anything",
    )


@click.command("refund")
@click.argument("payment_id")
@click.option("--amount", default=None, help="How much, e.g. 250.00 (default: all that is left).")
@click.option("--reason", required=True, help="Why (kept with the refund and credit note).")
@clean_errors
def refund(payment_id: str, amount: str | None, reason: str) -> None:
    """Refund a succeeded payment (all that is left, or --amount); its invoice is credited."""
    app = app_from_environment()
    payment = app.money.payment(payment_id).payment
    money = Money.parse(amount, payment.amount.currency) if amount is not None else None
    made = app.refund(payment.school.id, payment_id, amount=money, reason=reason)
    click.echo(f"refund {made.id}: {made.amount} of payment {payment_id}, {made.status}")


def _at(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
