"""Helpers shared by the integration tests and the relay worker they start.

- `ProviderServer`: a local HTTP "SMS/e-mail provider" that records every request's idempotency
  key (and the worker incarnation that sent it) and answers 200, optionally after a delay.
- `HttpSmsSender` / `HttpEmailSender`: the messaging ports over HTTP to that server, with our
  message reference as the `Idempotency-Key` header.
- `RecordingSmsSender` / `RecordingEmailSender`: thread-safe in-process senders that count.
- `build_world`, `queue_announcements`: a school and the messages to relay.
- `snapshot`: the full contents of every table, to compare before and after.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import frozen
from sqlalchemy import Engine, select

from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.sql.tables import metadata
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.bookings import BookingType, CancellationPolicy, FeeTier
from justdriving.domain.errors import ProviderRejected, ProviderUnavailable
from justdriving.domain.messages import EmailMessage, MessageStatus, SendReceipt, SmsMessage
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.people import PhoneNumber, Student, Teacher
from justdriving.domain.schools import MessageType, School, SchoolSettings
from justdriving.domain.services.steps.messages import queue_message

# Monday 3 March 2025, 10:00 in Copenhagen.
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INCARNATION_HEADER = "X-Worker-Incarnation"

LATE_POLICY = CancellationPolicy(
    free_until_hours=24,
    tiers=(FeeTier(within_hours=24, percent=50), FeeTier(within_hours=2, percent=100)),
)


def dkk(text: str) -> Money:
    return Money.parse(text, "DKK")


# The provider -----------------------------------------------------------------------------


@frozen
class ProviderRequest:
    path: str
    key: str
    incarnation: str
    body: bytes


class ProviderServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) in a background thread.

    Records each request once its body has been read in full, then waits `latency` seconds and
    answers 200 with a provider message id. Use as a context manager.
    """

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[ProviderRequest] = []
        self._lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender was killed mid-request: nothing arrived
                    self.close_connection = True
                    return
                request = ProviderRequest(
                    self.path,
                    self.headers.get("Idempotency-Key", ""),
                    self.headers.get(INCARNATION_HEADER, ""),
                    body,
                )
                with server._lock:
                    server.requests.append(request)
                    answer = f"prov_{next(server._ids)}"
                if server.latency:
                    time.sleep(server.latency)
                payload = json.dumps({"id": answer}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 128
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def seen(self) -> list[ProviderRequest]:
        with self._lock:
            return list(self.requests)

    def keys(self) -> Counter[str]:
        return Counter(request.key for request in self.seen())


def _post(
    url: str, provider: str, key: str, payload: Mapping[str, Any], headers: dict[str, str]
) -> SendReceipt:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key, **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, str] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            raise ProviderUnavailable(provider, f"HTTP {error.code}") from error
        raise ProviderRejected(provider, f"HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ProviderUnavailable(provider, "no answer", possibly_done=True) from error
    return SendReceipt(provider, answer["id"])


class HttpSmsSender:
    """SmsSender over HTTP: POST {base}/sms, our message reference as the idempotency key."""

    name = "http"

    def __init__(self, base_url: str, headers: Mapping[str, str] | None = None) -> None:
        self._url, self._headers = base_url + "/sms", dict(headers or {})

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        payload = {"to": str(to), "body": message.body, "reference": message.reference}
        return _post(self._url, self.name, message.reference, payload, self._headers)


class HttpEmailSender:
    """EmailSender over HTTP: POST {base}/email, our message reference as the idempotency key."""

    name = "http"

    def __init__(self, base_url: str, headers: Mapping[str, str] | None = None) -> None:
        self._url, self._headers = base_url + "/email", dict(headers or {})

    def send(self, message: EmailMessage) -> SendReceipt:
        payload = {
            "to": str(message.to),
            "subject": message.subject,
            "text": message.text,
            "reference": message.reference,
        }
        return _post(self._url, self.name, message.reference, payload, self._headers)


class RecordingSmsSender:
    """Counts the references it is asked to send; safe to share between threads."""

    name = "recording"

    def __init__(self) -> None:
        self.references: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _record(self, reference: str) -> SendReceipt:
        with self._lock:
            self.references[reference] += 1
            count = sum(self.references.values())
        return SendReceipt(self.name, f"rec_{count}")

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        return self._record(message.reference)


class RecordingEmailSender(RecordingSmsSender):
    def send(self, message: EmailMessage) -> SendReceipt:  # type: ignore[override]
        return self._record(message.reference)


# The world --------------------------------------------------------------------------------


@frozen
class World:
    """One school with a teacher, a student (phone and email) and a 45-minute lesson."""

    school: School
    teacher: Teacher
    student: Student
    lesson: BookingType


def build_world(app: Application, name: str = "Køreskolen Øst") -> World:
    school = app.register_school(
        name,
        currency="DKK",
        timezone="Europe/Copenhagen",
        phone_region="DK",
        vat_number="DK12345678",
        settings=SchoolSettings(),
    )
    teacher = app.add_teacher(school.id, "Lars Lærer", phone="+45 30 11 22 33")
    student = app.add_student(
        school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
    )
    lesson = app.add_booking_type(
        school.id,
        "Køretime",
        duration=timedelta(minutes=45),
        price=dkk("500.00"),
        deposit=dkk("100.00"),
        policy=LATE_POLICY,
    )
    return World(school, teacher, student, lesson)


def queue_announcements(
    uow: SqlUnitOfWorkFactory, clock: FrozenClock, app: Application, students: int, each: int = 1
) -> list[str]:
    """`students` students of a new school, each sent `each` announcements by SMS and email:
    2 * students * each messages (and outbox rows). Returns the message ids."""
    # No quiet hours: these tests are about the relay, not the delivery policy's night rules.
    school = app.register_school(
        "Relay Køreskole", vat_number="DK87654321", settings=SchoolSettings(quiet_hours=None)
    )
    people = [
        app.add_student(
            school.id, f"Elev {n}", phone=f"2012{n % 10000:04d}", email=f"elev{n}@example.dk"
        )
        for n in range(students)
    ]
    ids: list[str] = []
    for round in range(each):
        with uow() as unit:
            stored = unit.schools.get(school.id)
            for person in people:
                context = {"message": f"Nyhed {round} til {person.name}"}
                queued = queue_message(
                    unit, stored, person, MessageType.ANNOUNCEMENT, context, clock.now()
                )
                ids += [message.id for message in queued]
            unit.commit()
    return ids


def outbox_statuses(uow: SqlUnitOfWorkFactory) -> Counter[OutboxStatus]:
    with uow() as unit:
        return Counter(row.status for row in unit.outbox.list())


def message_statuses(uow: SqlUnitOfWorkFactory, ids: set[str]) -> Counter[MessageStatus]:
    """The status of each of the messages `ids` (read a school at a time, not one by one)."""
    with uow() as unit:
        schools = {row.school_id for row in unit.outbox.list()}
        found = [m for school in schools for m in unit.messages.for_school(school)]
    assert {m.id for m in found} >= ids
    return Counter(m.status for m in found if m.id in ids)


# Table contents ---------------------------------------------------------------------------

Snapshot = dict[str, dict[str, tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table, by primary key (the whole row as a tuple of plain values)."""
    found: Snapshot = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            key = next(iter(table.primary_key.columns)).name
            rows = connection.execute(select(table)).mappings()
            found[table.name] = {
                str(row[key]): tuple(
                    json.dumps(v, sort_keys=True, default=str) for v in row.values()
                )
                for row in rows
            }
    return found


def changes(before: Snapshot, after: Snapshot) -> dict[str, tuple[int, int, int]]:
    """Per table with a difference: (rows inserted, rows updated, rows deleted)."""
    found: dict[str, tuple[int, int, int]] = {}
    for table, rows in after.items():
        old = before.get(table, {})
        inserted = sum(1 for id in rows if id not in old)
        updated = sum(1 for id, row in rows.items() if id in old and old[id] != row)
        deleted = sum(1 for id in old if id not in rows)
        if inserted or updated or deleted:
            found[table] = (inserted, updated, deleted)
    return found


def iter_new(before: Snapshot, after: Snapshot, table: str) -> Iterator[str]:
    return (id for id in after[table] if id not in before.get(table, {}))
