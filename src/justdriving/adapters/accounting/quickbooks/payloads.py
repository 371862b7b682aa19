"""QuickBooks Online payloads: our accounting documents as QBO entities, queries, and faults.

Mapping decisions (see the QuickBooks adapter's docstring for why):
- Customer.DisplayName is "<name> (<our record id>)": unique as QuickBooks requires, and the
  record id suffix finds the customer again after a rename.
- Every transaction carries PrivateNote "justdriving:<record id>", so a document found by
  DocNumber (or a payment by date) is known to be ours.
- A line's account_code is the QuickBooks Item id (QuickBooks books income through the item's
  account) and its vat_code the TaxCode id; one invoice is all VAT-inclusive or all exclusive.
- Amounts are JSON numbers made from Money's exact decimal; answers are read with Decimal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.money import Money, currency_exponent

MAX_DISPLAY_NAME = 500
MAX_DOC_NUMBER = 21
MAX_REQUEST_ID = 50
MARKER = "justdriving:"
_FORBIDDEN_IN_NAMES = str.maketrans({":": " ", "\t": " ", "\n": " ", "\r": " "})


def request_id(operation: str, key: str) -> str:
    """The requestid for our idempotency key: stable across retries, distinct per operation."""
    value = f"{operation}-{key}"
    if len(value) <= MAX_REQUEST_ID:
        return value
    return hashlib.sha256(value.encode()).hexdigest()[:MAX_REQUEST_ID]


def marker(record_id: str) -> str:
    return f"{MARKER}{record_id}"


def is_ours(entity: dict[str, Any], record_id: str) -> bool:
    return str(entity.get("PrivateNote") or "").strip() == marker(record_id)


def display_suffix(record_id: str) -> str:
    """What ends our customer's DisplayName: " (<record id>)"."""
    return f" ({record_id})".translate(_FORBIDDEN_IN_NAMES)


def display_name(contact: AccountingContact) -> str:
    suffix = display_suffix(contact.record_id)
    name = without_forbidden(contact.name)
    return name[: MAX_DISPLAY_NAME - len(suffix)] + suffix


def without_forbidden(name: str) -> str:
    """A name QuickBooks takes: no colon (it separates a sub-customer from its parent), tab or
    line break, and single spaces."""
    return " ".join(name.translate(_FORBIDDEN_IN_NAMES).split())


def query(entity: str, where: str, value: str, *, like_suffix: bool = False) -> str:
    """One QBO query; `like_suffix` matches values ending in `value`."""
    # QBO's query language escapes quotes with a backslash; entity and field are our constants.
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    if like_suffix:
        # QuickBooks' query language, not SQL; entity and field are ours, the value escaped.
        return f"select * from {entity} where {where} LIKE '%{escaped}'"  # noqa: S608 # nosec B608
    return f"select * from {entity} where {where} = '{escaped}' MAXRESULTS 1000"  # noqa: S608 # nosec B608


def amount(money: Money) -> Decimal:
    """A JSON number for QBO: Money's exact decimal, written by exact_json (never a float)."""
    return money.to_decimal()


def money(value: Any, currency: str) -> Money:
    """Money from a QBO number (read with parse_float=Decimal), rounded to the currency."""
    decimal = value if isinstance(value, Decimal) else Decimal(str(value or 0))
    unit = Decimal(1).scaleb(-currency_exponent(currency))
    return Money.parse(decimal.quantize(unit, rounding=ROUND_HALF_UP), currency)


def local_date(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).date().isoformat()


def customer(contact: AccountingContact, existing: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "DisplayName": display_name(contact),
        "Notes": marker(contact.record_id),
    }
    if contact.email:
        body["PrimaryEmailAddr"] = {"Address": contact.email}
    if contact.phone:
        body["PrimaryPhone"] = {"FreeFormNumber": contact.phone}
    if contact.address:
        address = contact.address
        body["BillAddr"] = {
            "Line1": address.street,
            "PostalCode": address.postcode,
            "City": address.city,
            "Country": address.country,
        }
    return _versioned(body, existing)


def lines_problem(lines: Sequence[AccountingLine], currency: str, what: str) -> str | None:
    """Why QuickBooks cannot take these lines as one document, or None."""
    if not lines:
        return f"{what} needs at least one line"
    for line in lines:
        if line.quantity < 1 or line.unit_amount.currency != currency:
            return f"line {line.description!r} has a bad quantity or currency"
        if not line.account_code or not line.vat_code:
            return f"line {line.description!r} needs an item (account code) and a tax code"
    if len({line.vat_inclusive for line in lines}) > 1:
        return f"QuickBooks needs all lines of {what} VAT-inclusive or all exclusive"
    return None


def invoice(
    document: AccountingInvoice,
    customer_id: str,
    timezone: ZoneInfo,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    body = _sales_document(document.number, document.record_id, document.currency, customer_id)
    body["TxnDate"] = local_date(document.issued_at, timezone)
    body["DueDate"] = local_date(document.due_at, timezone)
    body.update(_sales_lines(document.lines))
    return _versioned(body, existing)


def credit_memo(
    document: AccountingCreditNote,
    customer_id: str,
    timezone: ZoneInfo,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    body = _sales_document(document.number, document.record_id, document.currency, customer_id)
    body["TxnDate"] = local_date(document.issued_at, timezone)
    body.update(_sales_lines(document.lines))
    return _versioned(body, existing)


def payment(
    record: AccountingPayment,
    customer_id: str,
    applied: Money,
    timezone: ZoneInfo,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """A Payment of the whole amount, `applied` of it to the invoice (the rest stays as the
    customer's credit, as an overpayment should)."""
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "CurrencyRef": {"value": record.amount.currency},
        "TotalAmt": amount(record.amount),
        "TxnDate": local_date(record.paid_at, timezone),
        "PaymentRefNum": record.reference[:MAX_DOC_NUMBER],
        "PrivateNote": marker(record.record_id),
        "Line": _linked(applied, record.invoice_external_id, "Invoice"),
    }
    return _versioned(body, existing)


def credit_application(
    customer_id: str, invoice_id: str, memo: dict[str, Any], applied: Money, note_id: str
) -> dict[str, Any]:
    """A zero Payment that applies `applied` of a credit memo to an invoice (how QBO does it),
    dated as the memo."""
    return {
        "CustomerRef": {"value": customer_id},
        "CurrencyRef": {"value": applied.currency},
        "TotalAmt": 0,
        "TxnDate": memo.get("TxnDate"),
        "PrivateNote": f"{marker(note_id)} applied",
        "Line": _linked(applied, invoice_id, "Invoice")
        + _linked(applied, memo["Id"], "CreditMemo"),
    }


def line_total(lines: Sequence[AccountingLine], currency: str) -> Money:
    """Sum of quantity x unit amount: the gross of VAT-inclusive lines, the net of others."""
    result = Money.zero(currency)
    for line in lines:
        result = result + line.unit_amount * line.quantity
    return result


def fault_text(fault: Any) -> str:
    """ "Message (code): Detail" of each error in a QBO Fault."""
    errors = fault.get("Error") if isinstance(fault, dict) else None
    if not isinstance(errors, list) or not errors:
        return "QuickBooks refused the record"
    parts = []
    for error in errors:
        if isinstance(error, dict):
            detail = f": {error['Detail']}" if error.get("Detail") else ""
            parts.append(f"{error.get('Message', 'error')} ({error.get('code', '?')}){detail}")
    return "; ".join(parts) or "QuickBooks refused the record"


def _sales_document(number: str, record_id: str, currency: str, customer_id: str) -> dict[str, Any]:
    return {
        "DocNumber": number,
        "CustomerRef": {"value": customer_id},
        "CurrencyRef": {"value": currency},
        "PrivateNote": marker(record_id),
    }


def _sales_lines(lines: Sequence[AccountingLine]) -> dict[str, Any]:
    inclusive = lines[0].vat_inclusive
    rows = []
    for line in lines:
        line_amount = amount(line.unit_amount * line.quantity)
        detail: dict[str, Any] = {
            "ItemRef": {"value": line.account_code},
            "Qty": line.quantity,
            "UnitPrice": amount(line.unit_amount),
            "TaxCodeRef": {"value": line.vat_code},
        }
        if inclusive:
            detail["TaxInclusiveAmt"] = line_amount
        rows.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": line_amount,
                "Description": line.description,
                "SalesItemLineDetail": detail,
            }
        )
    return {"GlobalTaxCalculation": "TaxInclusive" if inclusive else "TaxExcluded", "Line": rows}


def _linked(applied: Money, txn_id: str, txn_type: str) -> list[dict[str, Any]]:
    if not applied.is_positive:
        return []
    return [{"Amount": amount(applied), "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}]


def _versioned(body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    if existing is None:
        return body
    return {**body, "Id": existing["Id"], "SyncToken": existing["SyncToken"], "sparse": True}
