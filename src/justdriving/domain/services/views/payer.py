"""What the person paying sees, read only: an invoice behind its pay link (signed for it, and
expiring: see the PayLinks port), the checkout a payment belongs to, and (outside production)
the open invoices the landing page links to.

The web views render these; they never open a unit of work themselves.
"""

from __future__ import annotations

from attrs import frozen

from justdriving.domain.errors import NotFound
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.payments import Payment
from justdriving.domain.schools import School
from justdriving.domain.services.arguments import batch_limit
from justdriving.ports.documents import PayLinks
from justdriving.ports.persistence import UnitOfWorkFactory

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


@frozen
class InvoiceToPay:
    invoice: Invoice
    school: School
    link_expired: bool = False  # opened by a pay link past its lifetime: nothing to pay here


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
    def __init__(self, uow: UnitOfWorkFactory, pay_links: PayLinks | None = None) -> None:
        self._uow, self._links = uow, pay_links

    def by_link(self, token: str) -> InvoiceToPay:
        """The invoice a pay link's token was made for, and whether the link has expired;
        NotFound for a token this platform did not make (or a draft's)."""
        opened = self._links.open(token) if self._links is not None else None
        if opened is None:
            raise NotFound("pay link", token[:40])
        found = self.invoice(opened.invoice_id)
        return InvoiceToPay(found.invoice, found.school, link_expired=opened.expired)

    def link_path(self, invoice_id: str) -> str:
        """The path of a fresh pay link for the invoice, on this app (`/pay/<token>`)."""
        if self._links is None:
            raise NotFound("pay link", invoice_id)
        return self._links.path_for(invoice_id)

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
