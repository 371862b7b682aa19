"""The Celery driver (QUEUE_BACKEND=celery): the periodic jobs and the relay as tasks on Redis
or RabbitMQ.

``make_celery(settings, application)`` builds the Celery app; ``celery_app(settings)`` is the
one `justdriving celery` runs. Nothing happens at import time and only the entrypoints import
this module, so ``import justdriving`` never imports Celery.

Tasks: one per periodic job of ``entrypoints/schedule.py`` (named after it), and the beat
schedule is generated from that same list, so a Celery deployment does everything the thread
worker does:
    ``justdriving.reminders``  queues the reminders that are due.
    ``justdriving.accounting.reconcile``  (ACCOUNTING_SYNC_ENABLED) queues for the accounting
        push whatever is not in the books yet.
    ``justdriving.inbox``  applies the webhooks the web processes stored.
    ``justdriving.relay.dispatch``  the relay job, Celery's way: claims a batch of due outbox
        rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, each row leased to the claimant) and
        enqueues one ``justdriving.relay.one`` per row; a full batch enqueues the next dispatch
        behind them, so claiming keeps pace with the workers.
    ``justdriving.relay.one(outbox_id, claimant)``  prepares, sends and records that row (an
        SMS, an email, a payment call, an accounting push), if `claimant` still holds it: a
        row already sent, or whose lease ran out and was claimed by someone else, is left
        alone. Every attempt uses the row's idempotency key.

Run exactly one beat per deployment: a second sends nothing twice (claims, and reminders
decided in the database under optimistic versions, see to that) but doubles the polling and
the conflicts.

Delivery is at least once: tasks are acknowledged late and given back when a worker dies, so a
task may run again. A second ``relay.one`` finds the row sent or no longer held and does
nothing; a dispatch run twice claims only rows nobody holds. A ``relay.one`` message older than
``task_expires`` is dropped unrun: its row's lease runs out and the next dispatch claims it anew.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Celery

from justdriving.application import Application
from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.entrypoints.schedule import (
    ACCOUNTING,
    AGENDAS,
    CARD_EXPIRY,
    DEPOSIT_HOLDS,
    DISPATCH,
    INBOX,
    PLANS,
    REMINDERS,
    STAFF_ALERTS,
    STAFF_ALERTS_EVERY,
    PeriodicJob,
    scheduled,
)
from justdriving.relay.engine import RelayReport

__all__ = [
    "ACCOUNTING",
    "AGENDAS",
    "CARD_EXPIRY",
    "DEPOSIT_HOLDS",
    "DISPATCH",
    "INBOX",
    "PLANS",
    "RELAY_ONE",
    "REMINDERS",
    "STAFF_ALERTS",
    "celery_app",
    "make_celery",
]

RELAY_ONE = "justdriving.relay.one"

log = logging.getLogger("justdriving.celery")


class PerProcess:
    """The Application, built on first use in each process.

    A prefork child builds its own after the fork, so no database connection crosses a fork;
    threads of one process share it (the application is thread-safe)."""

    def __init__(self, build: Callable[[], Application]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._built: tuple[int, Application] | None = None

    def __call__(self) -> Application:
        with self._lock:
            pid = os.getpid()
            if self._built is None or self._built[0] != pid:
                self._built = (pid, self._build())
            return self._built[1]


def make_celery(
    settings: Settings,
    application: Callable[[Settings], Application],
    *,
    dispatch_every: float = 5.0,
    reminders_every: float = 60.0,
    alerts_every: float = STAFF_ALERTS_EVERY,
    batch: int = 100,
    task_expires: float = 60.0,
    queue: str = "justdriving",
) -> Celery:
    """The Celery app for `settings` (broker CELERY_BROKER_URL).

    Beat runs every periodic job of `settings` (`schedule.scheduled`): the relay's dispatch
    every `dispatch_every` seconds, reminders every `reminders_every`, staff alert digests every
    `alerts_every`.
    `application(settings)` is called once per worker process, on the first task. Keep
    `task_expires` (seconds) well below the relay's lease (120 s), so that a task still waiting
    when its lease runs out is dropped rather than run against a row that may be claimed again.
    """
    jobs = scheduled(
        settings,
        relay_every=dispatch_every,
        reminders_every=reminders_every,
        alerts_every=alerts_every,
    )
    if not settings.celery_broker_url:
        raise ConfigurationError(
            "cannot start Celery", ["CELERY_BROKER_URL is not set (QUEUE_BACKEND=celery)"]
        )
    app = Celery("justdriving", set_as_current=False)
    app.conf.update(
        broker_url=settings.celery_broker_url,
        broker_connection_retry_on_startup=True,
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A lost broker connection gives unacknowledged tasks back; stop running them here.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            job.name: {
                "task": job.name,
                "schedule": timedelta(seconds=job.every),
                "options": {"expires": job.every},
            }
            for job in jobs
        },
    )
    current = PerProcess(lambda: application(settings))

    def dispatch() -> int:
        relay = current().relay
        claimed = relay.claim(batch)
        with app.producer_or_acquire() as producer:
            for outbox_id in claimed:
                app.send_task(
                    RELAY_ONE,
                    args=(outbox_id, relay.worker),
                    expires=task_expires,
                    producer=producer,
                )
            if len(claimed) >= batch:  # more may be due: claim again once these are queued
                app.send_task(DISPATCH, expires=task_expires, producer=producer)
        if claimed:
            log.info("dispatched %d outbox rows claimed by %s", len(claimed), relay.worker)
        return len(claimed)

    def relay_one(outbox_id: str, claimant: str) -> dict[str, int]:
        report = RelayReport()
        current().relay.relay(outbox_id, report, claimant=claimant)
        for error in report.errors:
            log.warning("relay: %s", error)
        return {
            "sent": report.sent,
            "retried": report.retried,
            "dead": report.dead,
            "deferred": report.deferred,
        }

    task: Callable[..., Any] = app.task
    task(name=RELAY_ONE, shared=False)(relay_one)  # shared tasks would reach every app made later
    for job in jobs:
        run = dispatch if job.name == DISPATCH else _periodic(job, current)
        task(name=job.name, shared=False)(run)
    return app


def _periodic(job: PeriodicJob, current: Callable[[], Application]) -> Callable[[], bool]:
    def run() -> bool:
        return job.run(current()).busy

    return run


def celery_app(settings: Settings | None = None) -> Celery:
    """The Celery app for QUEUE_BACKEND=celery (`justdriving celery worker`): each worker
    process bootstraps the application once, on its first task."""
    from justdriving.container import bootstrap

    return make_celery(settings or Settings.from_env(), bootstrap)
