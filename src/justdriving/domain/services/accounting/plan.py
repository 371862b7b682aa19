"""Which records a sync run looks at, in which order, and how it recognises what it pushed.

A run looks at the documents dated inside its window, at every record whose last push failed,
at every contact the accounting system holds (a student renamed since), and at what those need
that the accounting system does not hold yet (an invoice's contact, a payment's invoice).
Unchanged records are then skipped by their fingerprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial

from justdriving.domain.accounting import (
    AccountingContact,
    SyncRecord,
    SyncStatus,
)
from justdriving.domain.services.accounting.documents import (
    Candidate,
    Kind,
    Plan,
    References,
    SchoolBooks,
    Wanted,
    accounting_credit_note,
    accounting_invoice,
    accounting_payment,
    issued_at,
)


def plan(
    books: SchoolBooks,
    records: Mapping[str, SyncRecord],
    provider: str,
    since: datetime | None,
    only: Wanted | None = None,
) -> Plan:
    """The run's candidates per kind, oldest document first (so documents added after a crash
    land in later batches, and a replayed batch keeps its idempotency key). With `only`, just
    those records (whatever their date) and what they need that is not synced yet."""
    chosen = _Selection(books, records, provider, since, only)
    return {
        Kind.CONTACT: [
            Candidate(Kind.CONTACT, c, partial(_contact, books, c)) for c in chosen.contacts
        ],
        Kind.INVOICE: [
            Candidate(
                Kind.INVOICE,
                i.id,
                partial(accounting_invoice, books, i),
                ((Kind.CONTACT, books.contact_id(i.student_id)),),
            )
            for i in chosen.invoices
        ],
        Kind.PAYMENT: [
            Candidate(
                Kind.PAYMENT,
                p.payment.id,
                partial(accounting_payment, p),
                ((Kind.INVOICE, p.invoice_id),),
            )
            for p in chosen.payments
        ],
        Kind.CREDIT_NOTE: [
            Candidate(
                Kind.CREDIT_NOTE,
                n.id,
                partial(accounting_credit_note, books, n),
                ((Kind.CONTACT, books.contact_id(n.student_id)), (Kind.INVOICE, n.invoice_id)),
            )
            for n in chosen.credit_notes
        ],
    }


class _Selection:
    """The documents in the window or failed before, and what they need that is not synced."""

    def __init__(
        self,
        books: SchoolBooks,
        records: Mapping[str, SyncRecord],
        provider: str,
        since: datetime | None,
        only: Wanted | None = None,
    ) -> None:
        self._records, self._provider, self._since = records, provider, since
        self._only = None if only is None else frozenset(only)
        self.payments = [
            p for p in books.payments if self._wanted(Kind.PAYMENT, p.payment.id, p.paid_at)
        ]
        self.credit_notes = [
            n for n in books.credit_notes if self._wanted(Kind.CREDIT_NOTE, n.id, n.issued_at)
        ]
        needed = {p.invoice_id for p in self.payments} | {n.invoice_id for n in self.credit_notes}
        self.invoices = [
            i
            for i in books.invoices
            if self._wanted(Kind.INVOICE, i.id, issued_at(i))
            or (i.id in needed and self._status(Kind.INVOICE, i.id) is not SyncStatus.SYNCED)
        ]
        self.contacts = self._contacts(books)

    def _contacts(self, books: SchoolBooks) -> list[str]:
        """Those of the chosen documents, in the order of their first one; then failed ones."""
        dated = sorted(
            [(issued_at(i), books.contact_id(i.student_id)) for i in self.invoices]
            + [(n.issued_at, books.contact_id(n.student_id)) for n in self.credit_notes]
        )
        contacts = list(dict.fromkeys(contact_id for _, contact_id in dated))
        if self._only is not None:
            # A contact named on its own (a student's new details) is updated once it is in
            # the books; it arrives there with the student's first document, not before.
            named = [
                c
                for c in map(books.contact_id, books.students)
                if self._named(Kind.CONTACT, c) and self._status(Kind.CONTACT, c) is not None
            ]
            return list(dict.fromkeys(contacts + sorted(named)))
        # Failed contacts are tried again; those in the books are looked at too, so a student's
        # new details reach the books without a new document (unchanged ones are
        # skipped by their fingerprint, without a call).
        held = {c for c in map(books.contact_id, books.students) if self._status(Kind.CONTACT, c)}
        return contacts + sorted(held - set(contacts))

    def _status(self, kind: Kind, record_id: str) -> SyncStatus | None:
        record = self._records.get(SyncRecord.key(self._provider, kind, record_id))
        return None if record is None else record.status

    def _named(self, kind: Kind, record_id: str) -> bool:
        return self._only is not None and (kind, record_id) in self._only

    def _wanted(self, kind: Kind, record_id: str, dated: datetime) -> bool:
        if self._only is not None:
            return self._named(kind, record_id)
        failed = self._status(kind, record_id) is SyncStatus.FAILED
        return failed or self._since is None or dated >= self._since


def _contact(books: SchoolBooks, contact_id: str, _: References) -> AccountingContact:
    return books.contact(contact_id)
