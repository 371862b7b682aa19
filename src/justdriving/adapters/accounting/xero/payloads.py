"""Our accounting records as Xero's Accounting API (api.xro/2.0) JSON, and Xero's answers read
back per element.

- Amounts are decimals of the currency (Money.to_decimal), written as exact JSON numbers; answers
  are parsed with Decimal, never float.
- Dates are YYYY-MM-DD: the domain's aware datetimes taken in UTC (the school's timezone is not
  known here; an invoice issued at 00:30 in Copenhagen is dated the day before in Xero).
- A Xero document has one LineAmountTypes for all its lines, so a record mixing VAT-inclusive
  and exclusive lines is refused before it is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    PushResult,
)

_CLOSED = frozenset({"VOIDED", "DELETED"})  # invoices that take no payment or credit


def xero_date(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def contact(record: AccountingContact) -> dict[str, Any]:
    # ContactNumber is Xero's field for an external system's id: it is how a second push of the
    # same record finds (and updates) the contact instead of creating another. Xero also wants
    # the Name unique among active contacts: ours carries our id (AccountingContact.unique_name).
    body: dict[str, Any] = {"ContactNumber": record.record_id, "Name": record.unique_name()}
    if record.email:
        body["EmailAddress"] = record.email
    if record.phone:
        body["Phones"] = [{"PhoneType": "MOBILE", "PhoneNumber": record.phone}]
    if record.address:
        body["Addresses"] = [
            {
                "AddressType": "STREET",
                "AddressLine1": record.address.street,
                "PostalCode": record.address.postcode,
                "City": record.address.city,
                "Country": record.address.country,
            }
        ]
    return body


def invoice(record: AccountingInvoice) -> dict[str, Any] | str:
    """The ACCREC invoice, AUTHORISED (approved: numbered and awaiting payment); or why not."""
    amounts = _amount_type(record.lines)
    if amounts is None:
        return "Xero takes one LineAmountTypes per invoice; the lines mix VAT-inclusive and not"
    return {
        "Type": "ACCREC",
        "InvoiceNumber": record.number,
        "Reference": record.record_id,
        "Contact": {"ContactNumber": record.contact_id},
        "Date": xero_date(record.issued_at),
        "DueDate": xero_date(record.due_at),
        "CurrencyCode": record.currency,
        "Status": "AUTHORISED",
        "LineAmountTypes": amounts,
        "LineItems": [_line(line) for line in record.lines],
    }


def credit_note(record: AccountingCreditNote) -> dict[str, Any] | str:
    amounts = _amount_type(record.lines)
    if amounts is None:
        return "Xero takes one LineAmountTypes per credit note; the lines mix VAT-inclusive and not"
    return {
        "Type": "ACCRECCREDIT",
        "CreditNoteNumber": record.number,
        "Reference": record.record_id,
        "Contact": {"ContactNumber": record.contact_id},
        "Date": xero_date(record.issued_at),
        "CurrencyCode": record.currency,
        "Status": "AUTHORISED",
        "LineAmountTypes": amounts,
        "LineItems": [_line(line) for line in record.lines],
    }


def payment(record: AccountingPayment, account_code: str) -> dict[str, Any]:
    # A Xero payment has no currency of its own: it is in the invoice's (checked before sending).
    return {
        "Invoice": {"InvoiceID": record.invoice_external_id},
        "Account": {"Code": account_code},
        "Date": xero_date(record.paid_at),
        "Amount": record.amount.to_decimal(),
        "Reference": record.reference,
    }


def credit_note_refund(
    credit_note_id: str, account_code: str, amount: Decimal, note: AccountingCreditNote
) -> dict[str, Any]:
    """Money paid back on a credit note: a payment made from the bank account against it."""
    return {
        "CreditNote": {"CreditNoteID": credit_note_id},
        "Account": {"Code": account_code},
        "Date": xero_date(note.issued_at),
        "Amount": amount,
        "Reference": f"Refund {note.number}",
    }


def allocation(invoice_id: str, amount: Decimal, on: datetime) -> dict[str, Any]:
    return {
        "Allocations": [
            {"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": xero_date(on)}
        ]
    }


def _amount_type(lines: Sequence[AccountingLine]) -> str | None:
    kinds = {line.vat_inclusive for line in lines}
    if len(kinds) > 1:
        return None
    return "Exclusive" if kinds == {False} else "Inclusive"


def _line(line: AccountingLine) -> dict[str, Any]:
    return {
        "Description": line.description,
        "Quantity": line.quantity,
        "UnitAmount": line.unit_amount.to_decimal(),
        "AccountCode": line.account_code,
        "TaxType": line.vat_code,
    }


# Answers.


def refusal(element: Mapping[str, Any]) -> str | None:
    """The element's validation messages when Xero refused it (summarizeErrors=false)."""
    messages = [
        str(error.get("Message") or "refused")
        for error in element.get("ValidationErrors") or ()
        if isinstance(error, Mapping)
    ]
    refused = (
        element.get("StatusAttributeString") == "ERROR"
        or element.get("HasErrors") is True
        or element.get("HasValidationErrors") is True
    )
    if messages:
        return "; ".join(messages)
    return "Xero refused the record without a reason" if refused else None


def text_id(element: Mapping[str, Any], name: str) -> str | None:
    value = element.get(name)
    return value if isinstance(value, str) and value else None


def push_result(record_id: str, element: Mapping[str, Any], id_field: str) -> PushResult:
    problem = refusal(element)
    if problem is not None:
        return PushResult(record_id, error=problem)
    external_id = text_id(element, id_field)
    if external_id is None:
        return PushResult(record_id, error=f"Xero accepted the record without a {id_field}")
    return PushResult(record_id, external_id=external_id)


def number_taken(record: AccountingInvoice, held: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why `record` must not be written: Xero holds its number as another document (`held`:
    by InvoiceNumber), which a POST would overwrite."""
    other = held.get(record.number)
    if other is None or other.get("Reference") == record.record_id:
        return None
    return (
        f"invoice number {record.number} is taken in Xero by another invoice (reference "
        f"{str(other.get('Reference') or 'none')[:60]!r}); schools sharing one organisation "
        "need number series of their own"
    )


def invoice_problem(
    invoice_id: str, currency: str, held: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """Why a payment or credit note for `invoice_id` cannot go to Xero (`held`: by InvoiceID)."""
    invoice = held.get(invoice_id.lower()) if is_xero_id(invoice_id) else None
    if invoice is None:
        return f"Xero holds no invoice {invoice_id}"
    if invoice.get("CurrencyCode") != currency:
        return f"invoice {invoice_id} is in {invoice.get('CurrencyCode')}, not {currency}"
    if invoice.get("Status") in _CLOSED:
        return f"invoice {invoice_id} is {invoice.get('Status')} in Xero"
    return None


def is_xero_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
