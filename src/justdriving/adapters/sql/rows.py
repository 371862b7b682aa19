"""How each aggregate becomes a row and back: a versioned document, with the columns it is
looked up by (the outbox and inbox: outbox_rows.py; sealed secrets: sealed_rows.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from attrs import frozen
from sqlalchemy import Table

from justdriving.adapters.sql import tables
from justdriving.adapters.sql.mapping import from_document, to_document
from justdriving.domain.accounting import SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, BookingType
from justdriving.domain.delivery import Suppression
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering
from justdriving.domain.messages import OutboundMessage
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.saved_methods import PaymentCustomer
from justdriving.domain.schools import School
from justdriving.domain.staff_alerts import StaffAlert

T = TypeVar("T")


def _as_is(row: Mapping[str, Any]) -> dict[str, Any]:
    return dict(row)


def _never(_row: Mapping[str, Any]) -> bool:
    return False


@frozen
class RowMapper(Generic[T]):
    """`to_row` gives every column but the id and the optimistic version, which the session
    keeps (and copies onto records that have a `version` attribute).

    What the database holds may differ from the row (grants' tokens are encrypted): `seal`
    turns a row into the values written, `unseal` the values read into a row, and `stale` says
    whether values read are to be written again even unchanged. Changes are found by comparing
    rows, so a value encrypted afresh at each write is no change."""

    table: Table
    kind: str
    to_row: Callable[[T], dict[str, Any]]
    from_row: Callable[[Mapping[str, Any]], T]
    seal: Callable[[Mapping[str, Any]], dict[str, Any]] = _as_is
    unseal: Callable[[Mapping[str, Any]], dict[str, Any]] = _as_is
    stale: Callable[[Mapping[str, Any]], bool] = _never


def _document_mapper(
    table: Table, kind: str, cls: type[T], columns: Callable[[T], dict[str, Any]] = lambda _: {}
) -> RowMapper[T]:
    def to_row(item: T) -> dict[str, Any]:
        document = to_document(item)
        document.pop("id", None)
        document.pop("version", None)
        return {"document": document, **columns(item)}

    def from_row(row: Mapping[str, Any]) -> T:
        return from_document({**row["document"], "id": row["id"], "version": row["version"]}, cls)

    return RowMapper(table, kind, to_row, from_row)


def _school(item: Any) -> dict[str, Any]:
    return {"school_id": item.school_id}


def _student(item: Any) -> dict[str, Any]:
    return {"school_id": item.school_id, "student_id": item.student_id}


SCHOOLS = _document_mapper(
    tables.schools,
    "school",
    School,
    lambda s: {
        "connected_account_id": s.connected_account.account_id if s.connected_account else None
    },
)
TEACHERS = _document_mapper(tables.teachers, "teacher", Teacher, _school)
STUDENTS = _document_mapper(tables.students, "student", Student, _school)
BOOKING_TYPES = _document_mapper(tables.booking_types, "booking type", BookingType, _school)
BOOKINGS = _document_mapper(
    tables.bookings,
    "booking",
    Booking,
    lambda b: {
        "school_id": b.school_id,
        "teacher_id": b.teacher_id,
        "starts_at": b.slot.start,
        "ends_at": b.slot.end,
        "status": b.status.value,
        "sms_reminder_start": b.awaiting_reminder("sms"),
        "email_reminder_start": b.awaiting_reminder("email"),
    },
)
PACKAGES = _document_mapper(tables.packages, "package", LessonPackage, _student)
INVOICES = _document_mapper(
    tables.invoices,
    "invoice",
    Invoice,
    lambda i: {
        **_student(i),
        "booking_id": i.booking_id,
        "number": i.number,
        "status": i.status.value,
        "due_at": i.due_at,
        "issued_at": i.issued_at,
    },
)
CREDIT_NOTES = _document_mapper(
    tables.credit_notes,
    "credit note",
    CreditNote,
    lambda c: {**_student(c), "invoice_id": c.invoice_id, "number": c.number},
)
NUMBERING = _document_mapper(tables.numbering, "invoice numbering", InvoiceNumbering)
PAYMENTS = _document_mapper(
    tables.payments,
    "payment",
    Payment,
    lambda p: {
        **_student(p),
        "provider": p.provider,
        "provider_payment_id": p.provider_payment_id,
        "provider_alias": p.provider_alias,
        "status": p.status.value,
        "created_at": p.created_at,
    },
)
REFUNDS = _document_mapper(
    tables.refunds,
    "refund",
    Refund,
    lambda r: {
        **_student(r),
        "payment_id": r.payment_id,
        "provider_refund_id": r.provider_refund_id,
    },
)
PAYMENT_CUSTOMERS = _document_mapper(
    tables.payment_customers, "payment customer", PaymentCustomer, _student
)
PAYMENT_PLANS = _document_mapper(
    tables.payment_plans,
    "payment plan",
    PaymentPlan,
    lambda p: {**_student(p), "next_due_at": p.next_due_at},
)
DEPOSITS = _document_mapper(
    tables.deposits,
    "deposit",
    Deposit,
    lambda d: {"booking_id": d.booking_id, "payment_id": d.payment_id},
)
DISPUTES = _document_mapper(
    tables.disputes,
    "dispute",
    Dispute,
    lambda d: {
        "provider_dispute_id": d.provider_dispute_id,
        "school_id": d.school_id,
        "opened_at": d.opened_at,
    },
)
MESSAGES = _document_mapper(
    tables.messages,
    "message",
    OutboundMessage,
    lambda m: {
        "school_id": m.school_id,
        "provider": m.provider,
        "provider_message_id": m.provider_message_id,
        "channel": m.channel.value,
        "recipient": str(m.recipient).lower(),
        "created_at": m.created_at,
        "sent_at": m.sent_at,
    },
)


SUPPRESSIONS = _document_mapper(
    tables.suppressions,
    "suppression",
    Suppression,
    lambda s: {
        "channel": s.channel.value,
        "address": s.address.lower(),
        "school_id": s.school_id,
        "active": s.active,
    },
)
STAFF_ALERTS = _document_mapper(
    tables.staff_alerts,
    "staff alert",
    StaffAlert,
    lambda a: {"school_id": a.school_id, "pending": a.pending, "created_at": a.created_at},
)
SYNC_RECORDS = _document_mapper(
    tables.sync_records,
    "sync record",
    SyncRecord,
    lambda r: {"provider": r.provider, "school_id": r.school_id},
)
SYNC_RUNS = _document_mapper(
    tables.sync_runs,
    "sync run",
    SyncRun,
    lambda r: {"provider": r.provider, "school_id": r.school_id, "started_at": r.started_at},
)
