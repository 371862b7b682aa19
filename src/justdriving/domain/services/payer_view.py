"""What the person paying sees, read only: an invoice behind its pay link, the checkout a
payment belongs to, and (outside production) the open invoices the landing page links to.

The web views render these; they never open a unit of work themselves.
"""

from __future__ import annotations

from attrs import frozen

from justdriving.domain.errors import NotFound
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.payments import Payment
from justdriving.domain.schools import School
from justdriving.domain.services.arguments import batch_limit
from justdriving.ports.persistence import UnitOfWorkFactory

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


@frozen
class InvoiceToPay:
    invoice: Invoice
    school: School


@frozen
class CheckoutToPay:
    payment: Payment
    invoice: Invoice | None  # a deposit's payment has none
    school: School


@frozen
class OpenInvoice:
    invoice: Invoice
    school_name: str
    student_name: str


class PayerView:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def invoice(self, invoice_id: str) -> InvoiceToPay:
        """An issued invoice and its school; NotFound for a draft (it has no pay link)."""
        with self._uow() as uow:
            invoice = uow.invoices.find(invoice_id)
            if invoice is None or invoice.number is None:
                raise NotFound("invoice", invoice_id)
            return InvoiceToPay(invoice, uow.schools.get(invoice.school_id))

    def checkout(self, provider: str, provider_payment_id: str) -> CheckoutToPay:
        """The payment a provider's checkout belongs to, with its invoice and school."""
        with self._uow() as uow:
            payment = uow.payments.by_provider_ref(provider, provider_payment_id)
            if payment is None:
                raise NotFound("checkout", provider_payment_id)
            invoice = uow.invoices.find(payment.invoice_id) if payment.invoice_id else None
            return CheckoutToPay(payment, invoice, uow.schools.get(payment.school_id))

    def open_invoices(self, limit: int) -> list[OpenInvoice]:
        """Up to `limit` unpaid issued invoices of every school, newest first."""
        with self._uow() as uow:
            found = uow.invoices.recent(batch_limit(limit), statuses=[s.value for s in PAYABLE])
            schools = {s.id: s.name for s in uow.schools.list()}
            return [
                OpenInvoice(
                    invoice,
                    schools.get(invoice.school_id, ""),
                    uow.students.get(invoice.student_id).name,
                )
                for invoice in found
            ]
