"""The schema: each aggregate as a JSON document plus the columns its queries need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.sql.schema import SchemaItem

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite stores no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def _aggregate(name: str, *columns: SchemaItem, **kwargs: Any) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(64), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("document", JSON, nullable=False),
        *columns,
        **kwargs,
    )


schools = _aggregate(
    "schools",
    Column("connected_account_id", String(255)),
    UniqueConstraint("connected_account_id", name="uq_schools_connected_account"),
)
teachers = _aggregate("teachers", Column("school_id", String(64), nullable=False, index=True))
students = _aggregate("students", Column("school_id", String(64), nullable=False, index=True))
booking_types = _aggregate(
    "booking_types", Column("school_id", String(64), nullable=False, index=True)
)
bookings = _aggregate(
    "bookings",
    Column("school_id", String(64), nullable=False),
    Column("teacher_id", String(64), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    # The start of a lesson still awaiting its reminder on the channel, else NULL
    # (Booking.awaiting_reminder): the reminders look up what is due by these, and the partial
    # indexes hold only the lessons awaiting one, so a worker's tick costs what it finds.
    Column("sms_reminder_start", UtcDateTime),
    Column("email_reminder_start", UtcDateTime),
    Index("ix_bookings_teacher_time", "teacher_id", "starts_at"),
    Index("ix_bookings_starts_at", "starts_at"),
    Index(
        "ix_bookings_sms_reminder",
        "sms_reminder_start",
        postgresql_where=text("sms_reminder_start IS NOT NULL"),
        sqlite_where=text("sms_reminder_start IS NOT NULL"),
    ),
    Index(
        "ix_bookings_email_reminder",
        "email_reminder_start",
        postgresql_where=text("email_reminder_start IS NOT NULL"),
        sqlite_where=text("email_reminder_start IS NOT NULL"),
    ),
)
packages = _aggregate(
    "packages",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Index("ix_packages_student", "school_id", "student_id"),
)
invoices = _aggregate(
    "invoices",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("booking_id", String(64), index=True),
    Column("number", String(32)),
    Column("status", String(16), nullable=False),
    Column("due_at", UtcDateTime),
    Column("issued_at", UtcDateTime),
    UniqueConstraint("school_id", "number", name="uq_invoices_number"),
    Index("ix_invoices_student", "school_id", "student_id"),
    Index("ix_invoices_overdue", "status", "due_at"),
    Index("ix_invoices_issued_at", "issued_at"),
)
credit_notes = _aggregate(
    "credit_notes",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("invoice_id", String(64), nullable=False, index=True),
    Column("number", String(32), nullable=False),
    UniqueConstraint("school_id", "number", name="uq_credit_notes_number"),
    Index("ix_credit_notes_student", "school_id", "student_id"),
)
numbering = _aggregate("numbering")
payments = _aggregate(
    "payments",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("provider", String(32)),
    Column("provider_payment_id", String(255)),
    Column("provider_alias", String(255)),
    Column("status", String(32)),
    Column("created_at", UtcDateTime),
    UniqueConstraint("provider", "provider_payment_id", name="uq_payments_provider_ref"),
    Index("ix_payments_provider_alias", "provider", "provider_alias"),
    Index("ix_payments_student", "school_id", "student_id"),
    Index("ix_payments_created_at", "created_at"),
)
refunds = _aggregate(
    "refunds",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("payment_id", String(64), nullable=False, index=True),
    Column("provider_refund_id", String(255), unique=True),
    Index("ix_refunds_student", "school_id", "student_id"),
)
payment_customers = _aggregate(
    "payment_customers",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Index("ix_payment_customers_student", "school_id", "student_id"),
)
payment_plans = _aggregate(
    "payment_plans",
    Column("school_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=False),
    Column("next_due_at", UtcDateTime),
    Index("ix_payment_plans_student", "school_id", "student_id"),
    Index("ix_payment_plans_next_due_at", "next_due_at"),
)
deposits = _aggregate(
    "deposits",
    Column("booking_id", String(64), nullable=False, unique=True),
    Column("payment_id", String(64), nullable=False, unique=True),
)
disputes = _aggregate(
    "disputes",
    Column("provider_dispute_id", String(255), unique=True),
    Column("school_id", String(64)),
    Column("opened_at", UtcDateTime),
    Index("ix_disputes_opened_at", "opened_at"),
)
messages = _aggregate(
    "messages",
    Column("school_id", String(64), nullable=False, index=True),
    Column("provider", String(32)),
    Column("provider_message_id", String(255)),
    Column("channel", String(8), nullable=False, server_default="sms"),
    Column("recipient", String(320), nullable=False, server_default=""),
    Column("created_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Index("ix_messages_provider_ref", "provider", "provider_message_id"),
    Index("ix_messages_recipient", "channel", "recipient", "sent_at"),
    Index("ix_messages_created_at", "created_at"),
)

suppressions = _aggregate(
    "suppressions",
    Column("channel", String(8), nullable=False),
    Column("address", String(320), nullable=False),
    Column("school_id", String(64)),
    Column("active", Boolean, nullable=False),
    Index("ix_suppressions_address", "channel", "address"),
)
staff_alerts = _aggregate(
    "staff_alerts",
    Column("school_id", String(64), nullable=False),
    Column("pending", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_staff_alerts_pending", "pending", "created_at"),
)
sync_records = _aggregate(
    "sync_records",
    Column("provider", String(32), nullable=False),
    Column("school_id", String(64), nullable=False),
    Index("ix_sync_records_school", "provider", "school_id"),
)
sync_runs = _aggregate(
    "sync_runs",
    Column("provider", String(32), nullable=False),
    Column("school_id", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Index("ix_sync_runs_school", "provider", "school_id", "started_at"),
)

grants = _aggregate("grants")
gateway_credentials = _aggregate(
    "gateway_credentials", Column("school_id", String(64), nullable=False, index=True)
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("kind", String(32), nullable=False),
    Column("school_id", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("lease_until", UtcDateTime),
    Column("claimed_by", String(64)),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("provider", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("processed_at", UtcDateTime),
    Column("lease_until", UtcDateTime),
    Column("claimed_by", String(64)),
    UniqueConstraint("provider", "event_id", name="uq_inbox_provider_event"),
    Index("ix_inbox_status", "status"),
    Index("ix_inbox_received_at", "received_at"),
)

# Signature tokens a provider must never send twice (Mailgun's `token`), seen by every process.
webhook_tokens = Table(
    "webhook_tokens",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("token", String(128), primary_key=True),
    Column("event_id", String(255), nullable=False),
    Column("keep_until", UtcDateTime, nullable=False),
    Index("ix_webhook_tokens_keep_until", "keep_until"),
)
