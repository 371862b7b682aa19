"""Several relays at once send every message exactly once.

Four relays on PostgreSQL (two on SQLite, which lets one writer in at a time but must be just
as correct), each a separate Relay with its own worker id, thread and engine (connection pool),
work through 2,000 outbox messages with a thread-safe recording sender; once one row at a time
each, once eight rows in flight each (RELAY_IN_FLIGHT=8).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Database
from integration_support import (
    NOW,
    RecordingEmailSender,
    RecordingSmsSender,
    message_statuses,
    outbox_statuses,
    queue_announcements,
)

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.errors import ConcurrencyConflict
from justdriving.domain.messages import MessageStatus
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from justdriving.relay.engine import Relay, RelayPolicy, RelayReport

RELAYS = {"postgresql": 4, "sqlite": 2}
STUDENTS, ANNOUNCEMENTS = 200, 5  # an SMS and an email each: 2,000 messages
BATCH = 20
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _queue(database: Database) -> set[str]:
    clock = FrozenClock(NOW)
    app = Application(
        uow=database.uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    return set(queue_announcements(database.uow, clock, app, STUDENTS, ANNOUNCEMENTS))


def _due(uow: SqlUnitOfWorkFactory) -> bool:
    with uow() as unit:
        return bool(unit.outbox.due(datetime.now(UTC), 1))


@pytest.mark.parametrize("in_flight", [1, 8])
def test_concurrent_relays_send_every_message_exactly_once(
    database: Database, figures: Callable[[str], None], in_flight: int
) -> None:
    queued_at = time.monotonic()
    message_ids = _queue(database)
    queueing = time.monotonic() - queued_at
    assert len(message_ids) >= 2000
    sms, email = RecordingSmsSender(), RecordingEmailSender()
    count = RELAYS[database.backend]
    relay_uow = {f"relay_{n}": SqlUnitOfWorkFactory(database.new_engine()) for n in range(count)}
    relays = [
        Relay(
            relay_uow[f"relay_{n}"],
            SystemClock(),
            sms=sms,
            email=email,
            renderer=MemoryTemplateRenderer(),
            gateways=MemoryGatewayRegistry({}),
            policy=RelayPolicy(batch=BATCH, in_flight=in_flight),
            worker=f"relay_{n}",
        )
        for n in range(count)
    ]
    totals = [RelayReport() for _ in relays]
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def work(relay: Relay, total: RelayReport) -> None:
        """Relay until nothing is due any more. A round that claims nothing (another relay
        was claiming the same rows) is no reason to stop while rows are still due."""
        try:
            start.wait()
            while True:
                report = relay.run_once()
                total.claimed += report.claimed
                total.sent += report.sent
                total.errors += report.errors
                if not report.claimed and not _due(relay_uow[relay.worker]):
                    return
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(relays, totals, strict=True)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - began

    sent = sms.references + email.references
    figures(
        f"{count} relays, {in_flight} in flight each, {len(message_ids)} messages "
        f"(queued in {queueing:.1f} s) relayed in "
        f"{elapsed:.1f} s; sent per relay "
        f"{[t.sent for t in totals]}; references sent twice or more: "
        f"{sum(1 for n in sent.values() if n > 1)}"
    )
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert set(sent) == message_ids
    assert max(sent.values()) == 1, [key for key, n in sent.items() if n > 1][:10]
    assert sum(t.sent for t in totals) == len(message_ids)
    assert all(t.errors == [] for t in totals)
    assert outbox_statuses(database.uow) == {OutboxStatus.SENT: len(message_ids)}
    assert message_statuses(database.uow, message_ids) == {MessageStatus.SENT: len(message_ids)}


def test_a_claim_never_takes_rows_another_worker_claimed_meanwhile(database: Database) -> None:
    """Two workers claim at the same moment: the first has read the due rows and not yet
    committed its claim when the second claims and commits. Either may wait for the other,
    get fewer rows, or lose the race with ConcurrencyConflict (and hold nothing), but no row
    may end up in both claims: the two workers would both send it."""
    with database.uow() as uow:
        for n in range(4):
            uow.outbox.add(
                OutboxMessage(
                    id=f"obx_{n}",
                    kind=OutboxKind.SEND_SMS,
                    school_id="sch_1",
                    payload={"message_id": f"msg_{n}"},
                    idempotency_key=f"msg_{n}",
                    created_at=T0 + timedelta(seconds=n),
                )
            )
        uow.commit()
    second_uow = SqlUnitOfWorkFactory(database.new_engine())
    lease = timedelta(minutes=5)
    claims: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with second_uow() as uow:
                claims["relay_2"] = [m.id for m in uow.outbox.claim("relay_2", T0, lease, 10)]
                uow.commit()
        except ConcurrencyConflict:
            claims["relay_2"] = []
        except BaseException as error:
            failures.append(error)

    with database.uow() as first:
        claims["relay_1"] = [m.id for m in first.outbox.claim("relay_1", T0, lease, 2)]
        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)  # it may be waiting for us (one writer at a time): let it wait
        try:
            first.commit()
        except ConcurrencyConflict:
            claims["relay_1"] = []
    other.join(15)

    assert not failures, failures
    assert not other.is_alive()
    assert claims["relay_1"] or claims["relay_2"], "one of them must get the rows"
    assert not set(claims["relay_1"]) & set(claims["relay_2"]), claims
    with database.uow() as uow:
        owners = {row.id: row.claimed_by for row in uow.outbox.list()}
    for worker, ids in claims.items():
        assert all(owners[id] == worker for id in ids), (worker, claims, owners)
