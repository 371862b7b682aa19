"""Documents as an accounting system sees them, mapped from invoices, payments and credit notes."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from justdriving.domain.money import Money


@frozen
class AccountingContact:
    record_id: str
    name: str
    email: str | None = None


@frozen
class AccountingLine:
    description: str
    quantity: int
    unit_amount: Money
    account_code: str
    vat_code: str
    vat_inclusive: bool


@frozen
class AccountingInvoice:
    record_id: str
    number: str
    contact_id: str
    issued_at: datetime
    due_at: datetime
    currency: str
    lines: tuple[AccountingLine, ...]


@frozen
class AccountingCreditNote:
    record_id: str
    number: str
    contact_id: str
    invoice_external_id: str
    issued_at: datetime
    currency: str
    lines: tuple[AccountingLine, ...]


@frozen
class AccountingPayment:
    record_id: str
    invoice_external_id: str
    amount: Money
    paid_at: datetime
    reference: str


@frozen
class PushResult:
    """Per record: the external id on success, or the provider's reason for refusing it."""

    record_id: str
    external_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.external_id is not None and self.error is None
