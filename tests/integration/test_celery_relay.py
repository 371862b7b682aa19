"""The relay on Celery against the local Redis: a real worker (in a thread) relays the outbox of
a real database; every message goes out exactly once, and a redelivered task sends nothing."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from click.testing import CliRunner
from sqlalchemy import create_engine, text

import waiting
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.schools import AccountMapping, InvoiceService, MessageType, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.steps.messages import queue_message
from justdriving.entrypoints.celery_app import (
    ACCOUNTING,
    AGENDAS,
    CARD_EXPIRY,
    DEPOSIT_HOLDS,
    DISPATCH,
    INBOX,
    PLANS,
    RELAY_ONE,
    REMINDERS,
    STAFF_ALERTS,
    PerProcess,
    make_celery,
)
from justdriving.entrypoints.cli import main
from justdriving.entrypoints.schedule import scheduled
from justdriving.entrypoints.worker import Worker
from local_services import POSTGRES_ADMIN_URL, postgres_url, redis_url
from memory_app import memory_application

pytestmark = pytest.mark.services

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MESSAGES = 100  # announcements, each by SMS and by email: 200 outbox rows
BATCH = 50  # so that one dispatch leads to four, chained
WAIT = 20.0


@frozen
class Relayed:
    app: Application
    sms: FakeSmsSender
    email: FakeEmailSender

    def references(self) -> list[str]:
        return [m.reference for _, m, _ in self.sms.sent] + [
            m.reference for _, m, _ in self.email.sent
        ]

    def statuses(self) -> Counter[OutboxStatus]:
        with self.app.uow() as uow:
            return Counter(row.status for row in uow.outbox.list())

    def queue(self, count: int) -> list[str]:
        """An announcement to each of `count` students, by SMS and email; their message ids.
        One student each and no quiet hours: the delivery policy's throttle and night-time
        deferral are not what these tests are about."""
        school = self.app.register_school(
            "Køreskolen Vest", currency="DKK", settings=SchoolSettings(quiet_hours=None)
        )
        students = [
            self.app.add_student(
                school.id, f"Elev {n}", phone=f"2012{n:04d}", email=f"elev{n}@example.dk"
            )
            for n in range(count)
        ]
        ids: list[str] = []
        with self.app.uow() as uow:
            for number, student in enumerate(students):
                queued = queue_message(
                    uow,
                    uow.schools.get(school.id),
                    uow.students.get(student.id),
                    MessageType.ANNOUNCEMENT,
                    {"message": f"news number {number}"},
                    self.app.clock.now(),
                )
                ids += [message.id for message in queued]
            uow.commit()
        return ids


wait_for = partial(waiting.wait_for, timeout=WAIT)


# --------------------------------------------------------------------------------------------
# a database of our own, a worker of our own


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database used by this test alone (PostgreSQL: created and dropped here)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'celery.db'}"
        return
    base = postgres_url()  # skips (or fails in CI) without PostgreSQL
    name = f"justdriving_celery_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def relayed(database_url: str) -> Iterator[Relayed]:
    engine = make_engine(database_url)
    upgrade(engine)
    sms, email = FakeSmsSender(), FakeEmailSender()
    app = Application(
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake")}),
        sms=sms,
        email=email,
        renderer=MemoryTemplateRenderer(),
    )
    yield Relayed(app, sms, email)
    engine.dispose()


@pytest.fixture
def finished() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """(task name, args) of every task the worker has finished, in order."""
    from celery.signals import task_postrun

    done: list[tuple[str, tuple[Any, ...]]] = []
    lock = threading.Lock()

    def record(sender: Any = None, args: Any = (), **_: Any) -> None:
        with lock:
            done.append((sender.name, tuple(args or ())))

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


@pytest.fixture
def celery_app(relayed: Relayed, database_url: str) -> Iterator[Any]:
    """A Celery app on the local Redis (DB 15), on a queue no other test run shares, with a
    worker in a thread: four threads on PostgreSQL, one on SQLite (a single writer)."""
    from celery.contrib.testing.worker import start_worker

    queue = f"justdriving-test-{uuid.uuid4().hex[:12]}"
    celery = make_celery(
        Settings(celery_broker_url=redis_url()),
        lambda _settings: relayed.app,
        batch=BATCH,
        queue=queue,
    )
    celery.conf.worker_hijack_root_logger = False
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    threads = database_url.startswith("postgresql")
    try:
        with start_worker(
            celery,
            pool="threads" if threads else "solo",
            concurrency=4 if threads else 1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            yield celery
    finally:
        import redis

        broker = redis.Redis.from_url(redis_url())
        for key in broker.scan_iter(f"*{queue}*"):  # the queue and kombu's bindings of it
            broker.delete(key)
        broker.close()
        root.setLevel(level)
        root.handlers[:] = handlers


# --------------------------------------------------------------------------------------------


def test_every_message_is_sent_exactly_once(relayed: Relayed, celery_app: Any) -> None:
    expected = relayed.queue(MESSAGES)
    assert len(expected) == 2 * MESSAGES

    # Two dispatches at once: they claim different rows (SKIP LOCKED on PostgreSQL).
    celery_app.send_task(DISPATCH)
    celery_app.send_task(DISPATCH)

    wait_for(lambda: len(relayed.references()) >= len(expected), "every message to be sent")
    wait_for(
        lambda: relayed.statuses() == Counter({OutboxStatus.SENT: len(expected)}),
        "every outbox row to be recorded as sent",
    )
    time.sleep(0.3)  # room for a stray second send to show up
    sent = Counter(relayed.references())
    assert sorted(sent) == sorted(expected)
    assert [ref for ref, times in sent.items() if times > 1] == []


def test_a_redelivered_relay_task_sends_nothing_more(
    relayed: Relayed, celery_app: Any, finished: list[tuple[str, tuple[Any, ...]]]
) -> None:
    expected = relayed.queue(1)  # one SMS, one email
    claimed = relayed.app.relay.claim(10)  # what a dispatch does
    claimant = relayed.app.relay.worker
    assert len(claimed) == 2

    def relay_all() -> None:
        for outbox_id in claimed:
            celery_app.send_task(RELAY_ONE, args=(outbox_id, claimant))

    relay_all()
    wait_for(lambda: len(finished) == 2, "the first deliveries to finish")
    relay_all()  # the broker hands the same tasks out again (a worker was lost before the ack)
    wait_for(lambda: len(finished) == 4, "the redeliveries to finish")

    assert sorted(relayed.references()) == sorted(expected)
    assert relayed.statuses() == Counter({OutboxStatus.SENT: 2})
    assert [name for name, _ in finished] == [RELAY_ONE] * 4


def test_a_relay_task_leaves_a_row_alone_that_it_does_not_hold(
    relayed: Relayed, celery_app: Any, finished: list[tuple[str, tuple[Any, ...]]]
) -> None:
    relayed.queue(1)
    claimed = relayed.app.relay.claim(10)

    for outbox_id in claimed:  # e.g. a task that waited until its lease ran out and was taken
        celery_app.send_task(RELAY_ONE, args=(outbox_id, "relay_someone_else"))
    wait_for(lambda: len(finished) == len(claimed), "the tasks to finish")

    assert relayed.references() == []
    assert relayed.statuses() == Counter({OutboxStatus.IN_FLIGHT: 2})


def test_the_reminders_task_runs_on_the_worker(
    relayed: Relayed, celery_app: Any, finished: list[tuple[str, tuple[Any, ...]]]
) -> None:
    celery_app.send_task(REMINDERS)
    wait_for(lambda: [name for name, _ in finished] == [REMINDERS], "the reminders task")


# --------------------------------------------------------------------------------------------
# beat: every periodic job of the thread worker, on a real worker


@frozen
class Books:
    """An application that pushes to the (fake) books, and one on the same database that
    does not (as before ACCOUNTING_SYNC_ENABLED was switched on)."""

    app: Application
    before: Application
    accounting: FakeAccountingClient

    def invoice(self, app: Application, name: str) -> str:
        """An issued invoice to a new student of the school; its id."""
        with self.app.uow() as uow:
            [school] = uow.schools.list()
        student = app.add_student(school.id, name, email=f"{name.lower()}@example.dk")
        line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
        draft = app.draft_invoice(school.id, student.id, [line])
        return app.issue_invoice(school.id, draft.id).id


@pytest.fixture
def books(database_url: str) -> Iterator[Books]:
    engine = make_engine(database_url)
    upgrade(engine)
    accounting = FakeAccountingClient()

    def application(push: bool) -> Application:
        return Application(
            uow=SqlUnitOfWorkFactory(engine),
            clock=SystemClock(),
            gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake")}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
            accounting=accounting,
            accounting_push=push,
        )

    app = application(push=True)
    accounts = {InvoiceService.LESSON: AccountMapping("1000", "U25")}
    app.register_school(
        "Køreskolen Nord", currency="DKK", settings=SchoolSettings(account_map=accounts)
    )
    yield Books(app, application(push=False), accounting)
    engine.dispose()


def test_a_worker_with_beat_runs_every_periodic_job_including_the_accounting_push(
    books: Books, database_url: str, finished: list[tuple[str, tuple[Any, ...]]]
) -> None:
    """Beat's schedule, made from the thread worker's list, driven in-process against a real
    worker on Redis: every periodic job runs; an issued invoice is pushed by the relay, and one
    issued before the push was on is queued by the reconciliation and pushed too."""
    from celery.beat import EmbeddedService, Scheduler
    from celery.contrib.testing.worker import start_worker

    earlier = books.invoice(books.before, "Anna")  # not queued: no push then
    queue = f"justdriving-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        celery_broker_url=redis_url(), accounting_sync_enabled=True, accounting_sync_interval=2
    )
    celery = make_celery(
        settings,
        lambda _settings: books.app,
        dispatch_every=0.5,
        reminders_every=1,
        alerts_every=1,
        queue=queue,
    )
    celery.conf.worker_hijack_root_logger = False
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    threads = database_url.startswith("postgresql")
    beat = EmbeddedService(celery, thread=True, scheduler_cls=Scheduler)
    try:
        with start_worker(
            celery,
            pool="threads" if threads else "solo",
            concurrency=2 if threads else 1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=15,
        ):
            beat.start()
            issued = books.invoice(books.app, "Bo")  # queued by its reaction

            wait_for(
                lambda: {earlier, issued} <= set(books.accounting.invoices),
                "both invoices to reach the books",
                timeout=60,
            )
            every_job = {
                REMINDERS,
                AGENDAS,
                STAFF_ALERTS,
                INBOX,
                ACCOUNTING,
                DISPATCH,
                RELAY_ONE,
            }
            wait_for(
                lambda: every_job <= {name for name, _ in finished},
                "every periodic job to run",
                timeout=60,
            )
    finally:
        beat.stop()
        import redis

        broker = redis.Redis.from_url(redis_url())
        for key in broker.scan_iter(f"*{queue}*"):
            broker.delete(key)
        broker.close()
        root.setLevel(level)
        root.handlers[:] = handlers

    assert len(books.accounting.contacts) == 2
    with books.app.uow() as uow:
        pushes = [r for r in uow.outbox.list() if r.kind is OutboxKind.PUSH_ACCOUNTING]
    assert {r.status for r in pushes} == {OutboxStatus.SENT}
    assert celery.conf.beat_schedule.keys() == {job.name for job in scheduled(settings)}


# --------------------------------------------------------------------------------------------
# the app itself: no broker needed


def test_the_app_acknowledges_late_and_schedules_every_periodic_job_of_the_worker() -> None:
    settings = Settings(
        celery_broker_url="redis://127.0.0.1:6379/15",
        accounting_sync_enabled=True,
        accounting_sync_interval=600,
    )
    celery = make_celery(
        settings,
        lambda _settings: pytest.fail("built on the first task only"),
        dispatch_every=3,
        reminders_every=90,
    )
    conf = celery.conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost) == (True, True)
    assert conf.worker_prefetch_multiplier == 1
    assert (conf.task_serializer, list(conf.accept_content)) == ("json", ["json"])
    schedule = {
        entry["task"]: entry["schedule"].total_seconds() for entry in conf.beat_schedule.values()
    }
    assert schedule == {
        DISPATCH: 3,
        INBOX: 3,
        REMINDERS: 90,
        AGENDAS: 90,
        STAFF_ALERTS: 300,
        PLANS: 90,
        CARD_EXPIRY: 6 * 3600,
        DEPOSIT_HOLDS: 90,
        ACCOUNTING: 600,
    }
    worker_jobs = Worker(memory_application(FrozenClock(NOW)), jobs=scheduled(settings)).jobs
    assert set(schedule) == {job.name for job in worker_jobs}  # the thread worker's, all of them
    every = {DISPATCH, RELAY_ONE, INBOX, REMINDERS, AGENDAS, STAFF_ALERTS, ACCOUNTING}
    assert every <= set(celery.tasks.keys())


def test_without_accounting_sync_beat_schedules_no_reconciliation() -> None:
    celery = make_celery(
        Settings(celery_broker_url="redis://127.0.0.1:6379/15"),
        lambda _settings: pytest.fail("never built"),
    )
    assert ACCOUNTING not in {entry["task"] for entry in celery.conf.beat_schedule.values()}


def test_the_app_needs_a_broker_url() -> None:
    with pytest.raises(ConfigurationError, match="CELERY_BROKER_URL"):
        make_celery(Settings(), lambda _settings: pytest.fail("never built"))


def test_importing_justdriving_imports_no_celery() -> None:
    code = "import sys, justdriving, justdriving.container; print('celery' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_each_worker_process_builds_its_own_application(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []

    def build() -> Any:
        built.append(object())
        return built[-1]

    current = PerProcess(build)
    assert current() is current() is built[0]
    monkeypatch.setattr("os.getpid", lambda: -1)  # as in a prefork child, after the fork
    assert current() is built[1]
    assert len(built) == 2


def test_the_in_process_worker_points_to_celery_when_the_backend_is_celery(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["worker", "--once"], env={"QUEUE_BACKEND": "celery"})
    assert result.exit_code == 2
    assert "justdriving celery worker --beat" in result.output
    assert not (tmp_path / "justdriving.db").exists()
