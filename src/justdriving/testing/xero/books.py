"""The simulated Xero organisation's books: contacts, ACCREC invoices, payments, credit notes
and allocations (their records in records.py), with Xero's per-element validation (the
simulator owns the lock).

Each `save_*` takes one element of a request as Xero receives it and returns the element Xero
answers with: the stored document, or the element echoed with `ValidationErrors`. Matching is by
ContactNumber, InvoiceNumber and CreditNoteNumber, so a second POST of a number updates the
document (an assumption about Xero that our adapter relies on, stated in the report).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from attrs import define, field

from justdriving.testing.xero import views
from justdriving.testing.xero.records import (
    Allocation,
    Contact,
    Document,
    Line,
    Payment,
    Refused,
    date_of,
    decimal,
    items,
    same_name,
    text,
)

CENT = Decimal("0.01")
DEFAULT_ACCOUNTS = {"200": "REVENUE", "1000": "REVENUE", "260": "REVENUE", "090": "BANK"}
DEFAULT_TAX_TYPES = {
    "U25": Decimal(25),
    "OUTPUT": Decimal(25),
    "EXEMPTOUTPUT": Decimal(0),
    "NONE": Decimal(0),
}


@define
class Books:
    accounts: Mapping[str, str] = field(factory=lambda: dict(DEFAULT_ACCOUNTS))
    tax_types: Mapping[str, Decimal] = field(factory=lambda: dict(DEFAULT_TAX_TYPES))
    contacts: dict[str, Contact] = field(factory=dict)  # by ContactID
    invoices: dict[str, Document] = field(factory=dict)  # by InvoiceID
    credit_notes: dict[str, Document] = field(factory=dict)  # by CreditNoteID
    payments: dict[str, Payment] = field(factory=dict)
    allocations: dict[str, Allocation] = field(factory=dict)

    # Contacts.

    def save_contact(self, element: Mapping[str, Any]) -> dict[str, Any]:
        return _answer(element, "ContactID", lambda: views.contact(self._contact(element)))

    def _contact(self, element: Mapping[str, Any]) -> Contact:
        number, name = text(element, "ContactNumber"), text(element, "Name")
        if not name:
            raise Refused("The contact name must be provided.")
        found = self.contact_by_number(number) if number else None
        # Xero: "The contact name must be unique across all active contacts" (every contact
        # here is active); compared as Xero's lookups compare names, ignoring case and the
        # spaces around it.
        clash = [c for c in self.contacts.values() if same_name(c.name, name) and c is not found]
        if clash:
            raise Refused(
                f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )
        email = text(element, "EmailAddress") or None
        if found is None:
            found = Contact(str(uuid.uuid4()), number, name, email)
            self.contacts[found.contact_id] = found
        found.name, found.email = name, email
        return found

    def contact_by_number(self, number: str) -> Contact | None:
        return next((c for c in self.contacts.values() if c.number == number), None)

    # Invoices and credit notes.

    def save_document(self, kind: str, element: Mapping[str, Any]) -> dict[str, Any]:
        id_field = "InvoiceID" if kind == "ACCREC" else "CreditNoteID"
        return _answer(element, id_field, lambda: views.document(self._document(kind, element)))

    def _document(self, kind: str, element: Mapping[str, Any]) -> Document:
        number_field = "InvoiceNumber" if kind == "ACCREC" else "CreditNoteNumber"
        book = self.invoices if kind == "ACCREC" else self.credit_notes
        if element.get("Type") != kind:
            raise Refused(f"Type must be {kind}; the simulator keeps sales documents only.")
        number = text(element, number_field)
        if not number:
            raise Refused(f"{number_field} is required (the simulator does not number documents).")
        found = next((d for d in book.values() if d.number == number), None)
        if found is not None and found.content == element:
            return found  # the same document again: nothing changes
        if found is not None and (found.paid or found.credited or found.allocated):
            raise Refused("This document cannot be edited as it has a payment or credit allocated.")
        document = self._parse_document(kind, number, element, found)
        book[document.document_id] = document
        return document

    def _parse_document(
        self, kind: str, number: str, element: Mapping[str, Any], found: Document | None
    ) -> Document:
        problems: list[str] = []
        contact = self._document_contact(element, problems)
        amount_types = text(element, "LineAmountTypes") or "Exclusive"
        if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
            problems.append(f"LineAmountTypes {amount_types} is not valid.")
        lines = [self._line(item, amount_types, problems) for item in items(element)]
        if not lines and element.get("Status") == "AUTHORISED":
            problems.append("At least one line item is required to approve a document.")
        issued = date_of(element, "Date", problems)
        due = date_of(element, "DueDate", problems) if kind == "ACCREC" else None
        currency = text(element, "CurrencyCode")
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            problems.append(f"The currency code {currency!r} is not valid.")
        if problems or contact is None or issued is None:
            raise Refused(*problems)
        document = Document(
            found.document_id if found else str(uuid.uuid4()), kind, number, contact, issued,
            due, currency, amount_types, lines, text(element, "Reference"), content=element,
        )  # fmt: skip
        if document.total < 0:
            raise Refused("The document total cannot be negative.")
        return document

    def _document_contact(self, element: Mapping[str, Any], problems: list[str]) -> Contact | None:
        given = element.get("Contact")
        reference = given if isinstance(given, Mapping) else {}
        contact_id = text(reference, "ContactID")
        number = text(reference, "ContactNumber")
        contact = self.contacts.get(contact_id) if contact_id else None
        contact = contact or (self.contact_by_number(number) if number else None)
        if contact is None:
            problems.append(f"The contact {contact_id or number or '(none)'} could not be found.")
        return contact

    def _line(self, item: Mapping[str, Any], amount_types: str, problems: list[str]) -> Line:
        quantity = decimal(item.get("Quantity", 1), "Quantity", problems)
        unit = decimal(item.get("UnitAmount"), "UnitAmount", problems)
        code, tax_type = text(item, "AccountCode"), text(item, "TaxType")
        if self.accounts.get(code) != "REVENUE":
            problems.append(f"Account code '{code}' is not a valid code for this document.")
        rate = self.tax_types.get(tax_type)
        if rate is None:
            problems.append(f"The TaxType code '{tax_type}' does not exist or cannot be used.")
        amount = (quantity * unit).quantize(CENT, ROUND_HALF_UP)
        share = (rate or Decimal(0)) / 100
        if amount_types == "Inclusive":
            tax = amount - (amount / (1 + share)).quantize(CENT, ROUND_HALF_UP)
        elif amount_types == "Exclusive":
            tax = (amount * share).quantize(CENT, ROUND_HALF_UP)
        else:
            tax = Decimal(0)
        description = text(item, "Description")
        return Line(description, quantity, unit, code, tax_type, amount, tax)

    # Payments and allocations.

    def save_payment(self, element: Mapping[str, Any], today: date) -> dict[str, Any]:
        return _answer(element, "PaymentID", lambda: views.payment(self._payment(element, today)))

    def _payment(self, element: Mapping[str, Any], today: date) -> Payment:
        if isinstance(element.get("CreditNote"), Mapping):
            return self._refund(element, today)
        problems: list[str] = []
        invoice = self._invoice_of(element, problems)
        account = element.get("Account")
        code = text(account, "Code") if isinstance(account, Mapping) else ""
        if self.accounts.get(code) != "BANK":
            problems.append(
                "Payments can only be made to BANK accounts or accounts with "
                f"'Enable payments to this account' turned on ({code or 'no account'})."
            )
        amount = decimal(element.get("Amount"), "Amount", problems)
        paid_on = date_of(element, "Date", problems) or today
        if invoice is not None and invoice.status not in ("AUTHORISED", "PAID"):
            problems.append(f"The invoice is {invoice.status}; it cannot take a payment.")
        elif invoice is not None and amount > invoice.amount_due:
            problems.append("Payment amount exceeds the amount outstanding on this document.")
        if amount <= 0:
            problems.append("The payment amount must be greater than zero.")
        if problems or invoice is None:
            raise Refused(*problems)
        payment = Payment(
            str(uuid.uuid4()), invoice, code, paid_on, amount, text(element, "Reference")
        )
        self.payments[payment.payment_id] = payment
        invoice.paid += amount
        invoice.status = "PAID" if invoice.amount_due == 0 else invoice.status
        return payment

    def _refund(self, element: Mapping[str, Any], today: date) -> Payment:
        """Money paid back on a credit note (Xero: a payment with a CreditNote, from a bank
        account); it uses up the note's credit as an allocation would."""
        problems: list[str] = []
        given = element["CreditNote"]
        note = self.credit_notes.get(text(given, "CreditNoteID").lower())
        if note is None:
            problems.append("Credit note could not be found.")
        account = element.get("Account")
        code = text(account, "Code") if isinstance(account, Mapping) else ""
        if self.accounts.get(code) != "BANK":
            problems.append(f"Refunds can only be made from BANK accounts ({code or 'none'}).")
        amount = decimal(element.get("Amount"), "Amount", problems)
        if amount <= 0:
            problems.append("The payment amount must be greater than zero.")
        if note is not None and amount > note.remaining_credit:
            problems.append("Payment amount exceeds the amount outstanding on this document.")
        if problems or note is None:
            raise Refused(*problems)
        paid_on = date_of(element, "Date", problems) or today
        refund = Payment(str(uuid.uuid4()), note, code, paid_on, amount, text(element, "Reference"))
        self.payments[refund.payment_id] = refund
        note.allocated += amount
        return refund

    def _invoice_of(self, element: Mapping[str, Any], problems: list[str]) -> Document | None:
        given = element.get("Invoice")
        invoice_id = text(given, "InvoiceID") if isinstance(given, Mapping) else ""
        invoice = self.invoices.get(invoice_id.lower())
        if invoice is None:
            problems.append(f"Invoice {invoice_id or '(none)'} could not be found.")
        return invoice

    def allocate(self, note: Document, element: Mapping[str, Any], today: date) -> dict[str, Any]:
        return _answer(
            element,
            "AllocationID",
            lambda: views.allocation(self._allocation(note, element, today)),
        )

    def _allocation(self, note: Document, element: Mapping[str, Any], today: date) -> Allocation:
        problems: list[str] = []
        invoice = self._invoice_of(element, problems)
        amount = decimal(element.get("Amount"), "Amount", problems)
        on = date_of(element, "Date", problems) or today
        if amount <= 0:
            problems.append("The amount allocated must be greater than zero.")
        if amount > note.remaining_credit:
            problems.append("The amount allocated exceeds the credit remaining on the credit note.")
        if invoice is not None:
            if invoice.contact is not note.contact or invoice.currency != note.currency:
                problems.append(
                    "The credit note and the invoice need the same contact and currency."
                )
            if amount > invoice.amount_due:
                problems.append("The amount allocated exceeds the amount due on the invoice.")
        if problems or invoice is None:
            raise Refused(*problems)
        allocation = Allocation(str(uuid.uuid4()), note, invoice, amount, on)
        self.allocations[allocation.allocation_id] = allocation
        note.allocated += amount
        invoice.credited += amount
        note.status = "PAID" if note.remaining_credit == 0 else note.status
        invoice.status = "PAID" if invoice.amount_due == 0 else invoice.status
        return allocation


def _answer(
    element: Mapping[str, Any], id_field: str, work: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    try:
        return work()
    except Refused as refused:
        return views.refused(element, id_field, refused.messages)
