"""An outbox row queued for a provider call: waiting for its first attempt, keyed as asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_queued_call_is_pending_and_due_at_once_under_its_own_key() -> None:
    row = OutboxMessage.queued(
        "sch_1", OutboxKind.CAPTURE_PAYMENT, {"payment_id": "pay_1"}, "capture-pay_1", NOW
    )

    assert (row.status, row.kind, row.school_id) == (
        OutboxStatus.PENDING,
        OutboxKind.CAPTURE_PAYMENT,
        "sch_1",
    )
    assert (row.idempotency_key, dict(row.payload)) == ("capture-pay_1", {"payment_id": "pay_1"})
    assert row.due(NOW)


def test_a_call_queued_for_later_waits_until_then() -> None:
    later = NOW + timedelta(days=3)

    row = OutboxMessage.queued(
        "sch_1", OutboxKind.CHARGE_CUSTOMER, {}, "charge-1", NOW, not_before=later
    )

    assert not row.due(later - timedelta(seconds=1))
    assert row.due(later)


def test_each_queued_call_is_a_row_of_its_own() -> None:
    first = OutboxMessage.queued("sch_1", OutboxKind.REFUND_PAYMENT, {}, "re_1", NOW)
    second = OutboxMessage.queued("sch_1", OutboxKind.REFUND_PAYMENT, {}, "re_1", NOW)

    assert first.id != second.id
