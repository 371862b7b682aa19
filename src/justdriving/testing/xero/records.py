"""The records in the simulated Xero organisation's books (contacts, invoices and credit notes
with their lines, payments, allocations), one element's refusal, and how an element's fields are
read as Xero reads them (texts, numbers, dates, names compared without case)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from attrs import define


class Refused(Exception):
    """One element's validation errors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@define
class Contact:
    contact_id: str
    number: str
    name: str
    email: str | None


@define
class Line:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    line_amount: Decimal
    tax_amount: Decimal


@define
class Document:
    """An invoice (ACCREC) or a credit note (ACCRECCREDIT)."""

    document_id: str
    kind: str
    number: str
    contact: Contact
    issued: date
    due: date | None
    currency: str
    amount_types: str
    lines: list[Line]
    reference: str
    status: str = "AUTHORISED"
    paid: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)  # on an invoice: credit notes allocated to it
    allocated: Decimal = Decimal(0)  # on a credit note: how much of it is allocated
    content: Any = None  # what was posted, to tell an update from a repeat

    @property
    def sub_total(self) -> Decimal:
        return sum((line.line_amount for line in self.lines), Decimal(0)) - (
            self.total_tax if self.amount_types == "Inclusive" else Decimal(0)
        )

    @property
    def total_tax(self) -> Decimal:
        return sum((line.tax_amount for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.sub_total + self.total_tax

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.paid - self.credited

    @property
    def remaining_credit(self) -> Decimal:
        return self.total - self.allocated


@define
class Payment:
    payment_id: str
    invoice: Document
    account_code: str
    paid_on: date
    amount: Decimal
    reference: str


@define
class Allocation:
    allocation_id: str
    credit_note: Document
    invoice: Document
    amount: Decimal
    allocated_on: date


def text(element: Mapping[str, Any], name: str) -> str:
    value = element.get(name)
    return value.strip() if isinstance(value, str) else ""


def items(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = element.get("LineItems")
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def decimal(value: Any, name: str, problems: list[str]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        problems.append(f"{name} must be a number.")
        return Decimal(0)
    try:
        return Decimal(value)
    except InvalidOperation:
        problems.append(f"{name} must be a number.")
        return Decimal(0)


def date_of(element: Mapping[str, Any], name: str, problems: list[str]) -> date | None:
    value = text(element, name)
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()  # noqa: DTZ007 - a date
    except ValueError:
        problems.append(f"{name} must be a date (YYYY-MM-DD).")
        return None


def same_name(one: str, other: str) -> bool:
    return one.strip().casefold() == other.strip().casefold()
