"""An accounting system in memory: upserts by record id, idempotent batches, per-record errors."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from attrs import define

from justdriving.adapters.memory.failures import FailureQueue
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    PushResult,
)
from justdriving.domain.errors import ProviderRejected


class _Record(Protocol):
    @property
    def record_id(self) -> str: ...


T = TypeVar("T", bound=_Record)


@define
class Booked(Generic[T]):
    """A record as the accounting system holds it, under the id it gave it."""

    external_id: str
    record: T


class FakeAccountingClient:
    """Keeps `.contacts`, `.invoices`, `.payments`, `.credit_notes` by our record id.

    Pushing a record id again updates it under the same external id; the same idempotency key
    with the same batch replays the first results; another batch under a used key is refused.
    """

    def __init__(self, name: str = "fake", max_batch: int = 50) -> None:
        self.name, self.max_batch = name, max_batch
        self.contacts: dict[str, Booked[AccountingContact]] = {}
        self.invoices: dict[str, Booked[AccountingInvoice]] = {}
        self.payments: dict[str, Booked[AccountingPayment]] = {}
        self.credit_notes: dict[str, Booked[AccountingCreditNote]] = {}
        self.calls: list[tuple[str, str]] = []
        self._failures = FailureQueue()
        self._replies: dict[str, tuple[object, list[PushResult]]] = {}
        self._ids = itertools.count(1)

    def fail_next(self, error: Exception) -> None:
        self._failures.push(error)

    def upsert_contacts(
        self, contacts: Sequence[AccountingContact], idempotency_key: str
    ) -> list[PushResult]:
        return self._push("contacts", contacts, idempotency_key, self.contacts, _contact_problem)

    def push_invoices(
        self, invoices: Sequence[AccountingInvoice], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "invoices", invoices, idempotency_key, self.invoices, self._invoice_problem
        )

    def push_payments(
        self, payments: Sequence[AccountingPayment], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "payments", payments, idempotency_key, self.payments, self._payment_problem
        )

    def push_credit_notes(
        self, credit_notes: Sequence[AccountingCreditNote], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "credit_notes", credit_notes, idempotency_key, self.credit_notes, self._note_problem
        )

    def _push(
        self,
        operation: str,
        batch: Sequence[T],
        key: str,
        book: dict[str, Booked[T]],
        problem: Callable[[T], str | None],
    ) -> list[PushResult]:
        self.calls.append((operation, key))
        late = self._failures.take()
        if len(batch) > self.max_batch:
            raise ProviderRejected(
                self.name, f"at most {self.max_batch} records per request", provider_code="batch"
            )
        fingerprint = (operation, tuple(batch))
        if key in self._replies:
            if self._replies[key][0] != fingerprint:
                raise ProviderRejected(
                    self.name, "idempotency key reused for another batch", provider_code="key"
                )
            results = list(self._replies[key][1])
        else:
            results = [self._book(operation, record, book, problem(record)) for record in batch]
            self._replies[key] = (fingerprint, results)
        if late is not None:
            raise late
        return results

    def _book(
        self, operation: str, record: T, book: dict[str, Booked[T]], problem: str | None
    ) -> PushResult:
        if problem is not None:
            return PushResult(record.record_id, error=problem)
        existing = book.get(record.record_id)
        external_id = existing.external_id if existing else f"fake_{operation}_{next(self._ids)}"
        book[record.record_id] = Booked(external_id, record)
        return PushResult(record.record_id, external_id=external_id)

    def _invoice(self, external_id: str) -> AccountingInvoice | None:
        found = (b.record for b in self.invoices.values() if b.external_id == external_id)
        return next(found, None)

    def _invoice_problem(self, invoice: AccountingInvoice) -> str | None:
        taken = any(
            b.record.number == invoice.number and id != invoice.record_id
            for id, b in self.invoices.items()
        )
        if taken:
            return f"invoice number {invoice.number} is already used"
        return _lines_problem(invoice.lines, invoice.currency, "an invoice")

    def _payment_problem(self, payment: AccountingPayment) -> str | None:
        invoice = self._invoice(payment.invoice_external_id)
        if invoice is None:
            return f"no invoice {payment.invoice_external_id}"
        if payment.amount.currency != invoice.currency or not payment.amount.is_positive:
            return f"a payment of {payment.amount} does not fit an invoice in {invoice.currency}"
        return None

    def _note_problem(self, note: AccountingCreditNote) -> str | None:
        if self._invoice(note.invoice_external_id) is None:
            return f"no invoice {note.invoice_external_id}"
        return _lines_problem(note.lines, note.currency, "a credit note")


def _contact_problem(contact: AccountingContact) -> str | None:
    return None if contact.name.strip() else "a contact needs a name"


def _lines_problem(lines: Sequence[AccountingLine], currency: str, what: str) -> str | None:
    if not lines:
        return f"{what} needs at least one line"
    for line in lines:
        if line.quantity < 1 or line.unit_amount.currency != currency:
            return f"line {line.description!r} has a bad quantity or currency"
        if not line.account_code or not line.vat_code:
            return f"line {line.description!r} needs an account code and a VAT code"
    return None
