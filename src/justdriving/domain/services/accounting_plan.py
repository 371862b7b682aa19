"""Which records a sync run looks at, in which order, and how it recognises what it pushed.

A run looks at the documents dated inside its window, at every record whose last push failed,
and at what those need that the accounting system does not hold yet (an invoice's contact, a
payment's invoice). Unchanged records are then skipped by their fingerprint.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import attrs
from attrs import frozen

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    SyncRecord,
    SyncStatus,
)
from justdriving.domain.services.accounting_documents import (
    References,
    SchoolBooks,
    accounting_credit_note,
    accounting_invoice,
    accounting_payment,
    issued_at,
)

Payload = AccountingContact | AccountingInvoice | AccountingPayment | AccountingCreditNote


class Kind(enum.StrEnum):
    """In the order a run pushes them: what a record needs is pushed before it."""

    CONTACT = "contact"
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


@frozen
class Candidate:
    """One of our records a run considers, how to build what it sends, and what it needs."""

    kind: Kind
    record_id: str
    build: Callable[[References], Payload]
    needs: tuple[tuple[Kind, str], ...] = ()


Plan = dict[Kind, list[Candidate]]


def plan(
    books: SchoolBooks,
    records: Mapping[str, SyncRecord],
    provider: str,
    since: datetime | None,
) -> Plan:
    """The run's candidates per kind, oldest document first (so documents added after a crash
    land in later batches, and a replayed batch keeps its idempotency key)."""

    def status(kind: Kind, record_id: str) -> SyncStatus | None:
        record = records.get(SyncRecord.key(provider, kind, record_id))
        return None if record is None else record.status

    def wanted(kind: Kind, record_id: str, dated: datetime) -> bool:
        failed = status(kind, record_id) is SyncStatus.FAILED
        return failed or since is None or dated >= since

    payments = [p for p in books.payments if wanted(Kind.PAYMENT, p.payment.id, p.paid_at)]
    notes = [n for n in books.credit_notes if wanted(Kind.CREDIT_NOTE, n.id, n.issued_at)]
    needed = {p.invoice_id for p in payments} | {n.invoice_id for n in notes}
    invoices = [
        i
        for i in books.invoices
        if wanted(Kind.INVOICE, i.id, issued_at(i))
        or (i.id in needed and status(Kind.INVOICE, i.id) is not SyncStatus.SYNCED)
    ]
    dated = sorted(
        [(issued_at(i), books.contact_id(i.student_id)) for i in invoices]
        + [(n.issued_at, books.contact_id(n.student_id)) for n in notes]
    )
    contacts = list(dict.fromkeys(contact_id for _, contact_id in dated))
    contacts += sorted(
        c
        for c in {books.contact_id(s) for s in books.students}
        if c not in contacts and status(Kind.CONTACT, c) is SyncStatus.FAILED
    )
    return {
        Kind.CONTACT: [Candidate(Kind.CONTACT, c, partial(_contact, books, c)) for c in contacts],
        Kind.INVOICE: [
            Candidate(
                Kind.INVOICE,
                i.id,
                partial(accounting_invoice, books, i),
                ((Kind.CONTACT, books.contact_id(i.student_id)),),
            )
            for i in invoices
        ],
        Kind.PAYMENT: [
            Candidate(
                Kind.PAYMENT,
                p.payment.id,
                partial(accounting_payment, p),
                ((Kind.INVOICE, p.invoice_id),),
            )
            for p in payments
        ],
        Kind.CREDIT_NOTE: [
            Candidate(
                Kind.CREDIT_NOTE,
                n.id,
                partial(accounting_credit_note, books, n),
                ((Kind.CONTACT, books.contact_id(n.student_id)), (Kind.INVOICE, n.invoice_id)),
            )
            for n in notes
        ],
    }


def _contact(books: SchoolBooks, contact_id: str, _: References) -> AccountingContact:
    return books.contact(contact_id)


def fingerprint(payload: Payload) -> str:
    """A stable hash of what would be sent: equal payloads, equal fingerprints, whatever the
    time zone object a database handed back."""
    document = attrs.asdict(payload, value_serializer=_plain)
    text = json.dumps([type(payload).__name__, document], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(_: Any, __: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def batch_key(provider: str, kind: Kind, entries: Sequence[tuple[str, str | None, str]]) -> str:
    """The idempotency key of a batch of (record id, fingerprint last pushed, fingerprint now).

    A retry after a crash rebuilds the same batch, so it sends the same key and the provider
    replays its answer. The previous fingerprint is in it so that a record changed and then
    changed back is pushed again rather than answered from the provider's memory.
    At most 43 characters (QuickBooks takes 50 in `requestid`)."""
    lines = [provider, kind.value, *(f"{r}:{old or '-'}:{new}" for r, old, new in entries)]
    return "jd-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:40]
