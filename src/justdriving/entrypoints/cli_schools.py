"""Schools and students after registration: `schools show|change`, `students change`.

Each change calls one use case (`change_school`, `change_student`), which checks every value as
registration does and changes nothing when one is refused; an option left out keeps its value,
and an empty value ("") clears an optional one. A student is given by id or by a part of their
name. `--json` prints the result as one JSON object."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.connect import PlatformFee
from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.people import Student
from justdriving.domain.schools import (
    AccountingCustomerMode,
    AccountMapping,
    InvoiceService,
    MessageType,
    QuietHours,
    School,
)
from justdriving.domain.services.changes import KEEP, Keep
from justdriving.entrypoints.cli_common import app_from_environment, clean_errors
from justdriving.entrypoints.cli_money import student_id


@click.group()
def schools() -> None:
    """A school's details and settings: show them, change them."""


@schools.command("show")
@click.argument("school_id")
@click.option("--json", "as_json", is_flag=True, help="As one JSON object.")
@clean_errors
def schools_show(school_id: str, as_json: bool) -> None:
    """The school's details and the settings `schools change` takes."""
    _echo_school(app_from_environment().directory.school(school_id), as_json)


@schools.command("change")
@click.argument("school_id")
@click.option("--name", default=None, help="The school's name.")
@click.option("--contact-phone", default=None, help='Its phone ("" removes it).')
@click.option("--contact-email", default=None, help='Its email ("" removes it).')
@click.option("--gateway", default=None, help='Payment gateway name, "default", or "" (manual).')
@click.option("--sms/--no-sms", "sms_enabled", default=None, help="Send SMS at all.")
@click.option("--sms-types", default=None, help='Message types sent by SMS: a,b,… or "all".')
@click.option("--email-types", default=None, help='Message types sent by email: a,b,… or "all".')
@click.option("--sender-id", default=None, help='SMS sender ("" uses the platform\'s).')
@click.option(
    "--email-from-name", default=None, help='Name emails are from ("" uses the platform\'s).'
)
@click.option("--email-reply-to", default=None, help='Where replies go ("" to the sender).')
@click.option("--quiet-hours", default=None, help='Local hours, e.g. 21:00-08:00, or "off".')
@click.option("--language", type=click.Choice(["da", "en"]), default=None)
@click.option(
    "--customer-mode",
    type=click.Choice([m.value for m in AccountingCustomerMode]),
    default=None,
    help="Each student a customer in the books, or one shared one.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="SERVICE=ACCOUNT:VAT, e.g. lesson=1000:U25 (repeatable; other services kept).",
)
@click.option("--invoice-due-days", type=int, default=None)
@click.option(
    "--invoice-prefix", default=None, help='Before every invoice number, e.g. N- ("" for none).'
)
@click.option(
    "--platform-fee",
    default=None,
    help='Stripe Connect: the platform\'s share, e.g. 2.5% or 5.00 (flat), "" for none.',
)
@click.option("--json", "as_json", is_flag=True, help="The school as one JSON object.")
@clean_errors
def schools_change(school_id: str, as_json: bool, **options: Any) -> None:
    """Change the school's details and settings (only those given)."""
    app = app_from_environment()
    settings = _settings(app.directory.school(school_id), options)
    school = app.change_school(
        school_id,
        name=_given(options["name"]),
        contact_phone=_optional(options["contact_phone"]),
        contact_email=_optional(options["contact_email"]),
        settings=settings,
    )
    _echo_school(school, as_json)


@click.group()
def students() -> None:
    """A student's details: change them."""


@students.command("change")
@click.argument("student")
@click.option("--school", "school_id", required=True, help="The student's school.")
@click.option("--name", default=None)
@click.option("--phone", default=None, help='Read in the school\'s region ("" removes it).')
@click.option("--email", default=None, help='"" removes it.')
@click.option("--street", default=None, help="With --postcode and --city: the address.")
@click.option("--postcode", default=None)
@click.option("--city", default=None)
@click.option("--country", default="DK", show_default=True, help="ISO 3166 alpha-2.")
@click.option("--no-address", is_flag=True, help="Remove the address.")
@click.option("--json", "as_json", is_flag=True, help="The student as one JSON object.")
@clean_errors
def students_change(student: str, school_id: str, as_json: bool, **options: Any) -> None:
    """Change a student's name, phone, email or address (only those given); the change
    reaches their contact in the school's books on the next push or sync."""
    app = app_from_environment()
    changed = app.change_student(
        school_id,
        student_id(app, student, school_id) or student,
        name=_given(options["name"]),
        phone=_optional(options["phone"]),
        email=_optional(options["email"]),
        address=_address(options),
    )
    _echo_student(changed, as_json)


# Parsing.


def _given(value: str | None) -> str | Keep:
    return KEEP if value is None else value


def _optional(value: str | None) -> str | Keep | None:
    """Left out: keep it; "": remove it."""
    if value is None:
        return KEEP
    return value or None


def _address(options: dict[str, Any]) -> PostalAddress | Keep | None:
    street, postcode, city = parts = [options[k] for k in ("street", "postcode", "city")]
    if options["no_address"]:
        return None
    if all(p is None for p in parts):
        return KEEP
    if any(p is None for p in parts):
        raise InvalidInput("an address needs --street, --postcode and --city")
    return PostalAddress(street, postcode, city, country=options["country"])


def _settings(school: School, options: dict[str, Any]) -> dict[str, Any]:
    """The settings the options name, as SchoolSettings' fields."""
    chosen: dict[str, Any] = {}
    simple = (("sms_enabled", "sms_enabled"), ("language", "language"))
    chosen.update({key: options[o] for key, o in simple if options[o] is not None})
    if options["gateway"] is not None:
        chosen["payment_gateway"] = options["gateway"] or None
    if options["sender_id"] is not None:
        chosen["sender_id"] = options["sender_id"] or None
    for key in ("email_from_name", "email_reply_to"):
        if options[key] is not None:
            chosen[key] = options[key] or None
    for key in ("sms_types", "email_types"):
        if options[key] is not None:
            chosen[key.replace("types", "message_types")] = _message_types(options[key])
    if options["quiet_hours"] is not None:
        chosen["quiet_hours"] = _quiet_hours(options["quiet_hours"])
    if options["customer_mode"] is not None:
        chosen["accounting_customer_mode"] = AccountingCustomerMode(options["customer_mode"])
    if options["accounts"]:
        chosen["account_map"] = {**school.settings.account_map, **_accounts(options["accounts"])}
    if options["invoice_due_days"] is not None:
        chosen["invoice_due_days"] = options["invoice_due_days"]
    if options["invoice_prefix"] is not None:
        chosen["invoice_number_prefix"] = options["invoice_prefix"]
    if options["platform_fee"] is not None:
        chosen["platform_fee"] = _platform_fee(options["platform_fee"], school.currency)
    return chosen


def _platform_fee(text: str, currency: str) -> PlatformFee | None:
    """ "2.5%": a share (to a hundredth of a percent); "5.00": flat, in the school's currency."""
    text = text.strip()
    if not text:
        return None
    if not text.endswith("%"):
        return PlatformFee.fixed(Money.parse(text, currency))
    try:
        basis_points = Decimal(text[:-1].strip()) * 100
    except InvalidOperation:
        basis_points = Decimal("NaN")
    if not basis_points.is_finite() or basis_points != basis_points.to_integral_value():
        raise InvalidInput("--platform-fee is a percentage to two decimals (2.5%) or an amount")
    return PlatformFee.share(int(basis_points))


def _message_types(text: str) -> frozenset[MessageType]:
    if text.strip() == "all":
        return frozenset(MessageType)
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return frozenset(MessageType(n) for n in names)
    except ValueError:
        known = ", ".join(m.value for m in MessageType)
        raise InvalidInput(f"message types are among: {known}") from None


def _quiet_hours(text: str) -> QuietHours | None:
    if text.strip() == "off":
        return None
    try:
        start, end = (time.fromisoformat(t.strip()) for t in text.split("-"))
    except ValueError:
        raise InvalidInput("quiet hours are HH:MM-HH:MM (e.g. 21:00-08:00) or off") from None
    return QuietHours(start, end)


def _accounts(entries: Sequence[str]) -> dict[InvoiceService, AccountMapping]:
    mapped = {}
    for entry in entries:
        service, _, codes = entry.partition("=")
        account, _, vat = codes.partition(":")
        try:
            key = InvoiceService(service.strip())
        except ValueError:
            known = ", ".join(s.value for s in InvoiceService)
            raise InvalidInput(f"--account takes SERVICE=ACCOUNT:VAT; services: {known}") from None
        if not account.strip() or not vat.strip():
            raise InvalidInput(f"--account {entry!r}: give ACCOUNT:VAT, e.g. lesson=1000:U25")
        mapped[key] = AccountMapping(account.strip(), vat.strip())
    return mapped


# Rendering.


def _fee_text(fee: PlatformFee | None) -> str | None:
    if fee is None:
        return None
    if fee.flat is not None:
        return str(fee.flat)
    return f"{Decimal(fee.basis_points or 0) / 100}%"


def _echo_school(school: School, as_json: bool) -> None:
    s, account = school.settings, school.connected_account
    quiet = f"{s.quiet_hours.start:%H:%M}-{s.quiet_hours.end:%H:%M}" if s.quiet_hours else "off"
    accounts = {k.value: f"{v.account_code}:{v.vat_code}" for k, v in s.account_map.items()}
    shown: dict[str, Any] = {
        "id": school.id,
        "name": school.name,
        "contact_phone": school.contact_phone,
        "contact_email": school.contact_email,
        "gateway": s.payment_gateway,
        "sms": s.sms_enabled,
        "sms_types": sorted(m.value for m in s.sms_message_types),
        "email_types": sorted(m.value for m in s.email_message_types),
        "sender_id": s.sender_id,
        "email_from_name": s.email_from_name,
        "email_reply_to": s.email_reply_to,
        "quiet_hours": quiet,
        "language": s.language,
        "customer_mode": s.accounting_customer_mode.value,
        "accounts": accounts,
        "invoice_due_days": s.invoice_due_days,
        "invoice_prefix": s.invoice_number_prefix,
        "platform_fee": _fee_text(s.platform_fee),
        "stripe_account": account.account_id if account else None,
        "stripe_charges": account.charges_enabled if account else None,
    }
    _echo(shown, as_json)


def _echo_student(student: Student, as_json: bool) -> None:
    address = ", ".join(student.address.lines()) if student.address else None
    shown = {
        "id": student.id,
        "school_id": student.school_id,
        "name": student.name,
        "phone": str(student.phone) if student.phone else None,
        "email": str(student.email) if student.email else None,
        "address": address,
    }
    _echo(shown, as_json)


def _echo(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for key, value in shown.items():
        if isinstance(value, list):
            value = ", ".join(value) or "none"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
        click.echo(f"{key.replace('_', ' '):<16}{'-' if value is None else value}")
