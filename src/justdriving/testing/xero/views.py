"""The simulated Xero's JSON: documents as the Accounting API shows them, and refused elements
(the element as sent, with `ValidationErrors` and the zero id Xero gives what it did not save)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from justdriving.testing.xero.records import Allocation, Contact, Document, Payment

NO_ID = "00000000-0000-0000-0000-000000000000"


def ms_date(day: date | datetime) -> str:
    """Xero's JSON date: `/Date(<ms since the epoch>+0000)/`."""
    moment = day if isinstance(day, datetime) else datetime.combine(day, time(), UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def envelope(resource: str, elements: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "Id": "7c2e5b8c-0000-4000-8000-5151a7ed0001",
        "Status": "OK",
        "ProviderName": "justdriving tests",
        "DateTimeUTC": ms_date(now),
        resource: list(elements),
    }


def refused(element: Mapping[str, Any], id_field: str, messages: Sequence[str]) -> dict[str, Any]:
    return {
        id_field: NO_ID,
        **element,
        "HasErrors": True,
        "HasValidationErrors": True,
        "StatusAttributeString": "ERROR",
        "ValidationErrors": [{"Message": message} for message in messages],
    }


def _ok(view: dict[str, Any]) -> dict[str, Any]:
    return {**view, "HasErrors": False, "StatusAttributeString": "OK", "ValidationErrors": []}


def contact(item: Contact) -> dict[str, Any]:
    view: dict[str, Any] = {
        "ContactID": item.contact_id,
        "ContactNumber": item.number,
        "ContactStatus": "ACTIVE",
        "Name": item.name,
        "IsCustomer": True,
    }
    if item.email:
        view["EmailAddress"] = item.email
    return _ok(view)


def _contact_ref(item: Contact) -> dict[str, Any]:
    return {"ContactID": item.contact_id, "ContactNumber": item.number, "Name": item.name}


def document(item: Document) -> dict[str, Any]:
    invoice = item.kind == "ACCREC"
    view: dict[str, Any] = {
        "Type": item.kind,
        "InvoiceID" if invoice else "CreditNoteID": item.document_id,
        "InvoiceNumber" if invoice else "CreditNoteNumber": item.number,
        "Reference": item.reference,
        "Contact": _contact_ref(item.contact),
        "Date": ms_date(item.issued),
        "DateString": f"{item.issued.isoformat()}T00:00:00",
        "Status": item.status,
        "LineAmountTypes": item.amount_types,
        "LineItems": [
            {
                "Description": line.description,
                "Quantity": line.quantity,
                "UnitAmount": line.unit_amount,
                "AccountCode": line.account_code,
                "TaxType": line.tax_type,
                "TaxAmount": line.tax_amount,
                "LineAmount": line.line_amount,
            }
            for line in item.lines
        ],
        "SubTotal": item.sub_total,
        "TotalTax": item.total_tax,
        "Total": item.total,
        "CurrencyCode": item.currency,
    }
    if invoice:
        if item.due is not None:
            view["DueDate"] = ms_date(item.due)
            view["DueDateString"] = f"{item.due.isoformat()}T00:00:00"
        view |= {"AmountDue": item.amount_due, "AmountPaid": item.paid}
        view["AmountCredited"] = item.credited
    else:
        view["RemainingCredit"] = item.remaining_credit
    return _ok(view)


def payment(item: Payment) -> dict[str, Any]:
    return _ok(
        {
            "PaymentID": item.payment_id,
            "Date": ms_date(item.paid_on),
            "Amount": item.amount,
            "Reference": item.reference,
            "Status": "AUTHORISED",
            "PaymentType": "ARCREDITPAYMENT" if item.invoice.kind != "ACCREC" else "ACCRECPAYMENT",
            "Account": {"Code": item.account_code},
            "Invoice": {
                "InvoiceID": item.invoice.document_id,
                "InvoiceNumber": item.invoice.number,
                "Contact": _contact_ref(item.invoice.contact),
            },
        }
    )


def allocation(item: Allocation) -> dict[str, Any]:
    return _ok(
        {
            "AllocationID": item.allocation_id,
            "Amount": item.amount,
            "Date": ms_date(item.allocated_on),
            "Invoice": {
                "InvoiceID": item.invoice.document_id,
                "InvoiceNumber": item.invoice.number,
            },
            "CreditNote": {
                "CreditNoteID": item.credit_note.document_id,
                "CreditNoteNumber": item.credit_note.number,
            },
        }
    )
