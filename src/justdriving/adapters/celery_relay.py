"""The relay on Celery (QUEUE_BACKEND=celery): outbox work as tasks on Redis or RabbitMQ.

``make_celery(settings, application)`` builds the Celery app. Nothing happens at import time and
only the composition root imports this module, so ``import justdriving`` never imports Celery.

Tasks
    ``justdriving.relay.dispatch``  claims a batch of due outbox rows through the application's
        Relay (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, each row leased to the claimant) and
        enqueues one ``justdriving.relay.one`` per row; a full batch enqueues the next dispatch
        behind them, so claiming keeps pace with the workers.
    ``justdriving.relay.one(outbox_id, claimant)``  prepares, sends and records that row, if
        `claimant` still holds it: a row already sent, or whose lease ran out and was claimed
        by someone else, is left alone. Every attempt uses the row's idempotency key.
    ``justdriving.reminders``  queues the reminders that are due.

Celery beat runs ``dispatch`` every few seconds and ``reminders`` every minute. Run exactly one
beat per deployment: a second sends nothing twice (claims, and reminders decided in the database
under optimistic versions, see to that) but doubles the polling and the conflicts.

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

from justdriving.config import Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.services.application import Application
from justdriving.domain.services.relay import RelayReport

__all__ = ["DISPATCH", "RELAY_ONE", "REMINDERS", "make_celery"]

DISPATCH = "justdriving.relay.dispatch"
RELAY_ONE = "justdriving.relay.one"
REMINDERS = "justdriving.reminders"

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
    batch: int = 100,
    task_expires: float = 60.0,
    queue: str = "justdriving",
) -> Celery:
    """The Celery app for `settings` (broker CELERY_BROKER_URL).

    `application(settings)` is called once per worker process, on the first task. Keep
    `task_expires` (seconds) well below the relay's lease (120 s), so that a task still waiting
    when its lease runs out is dropped rather than run against a row that may be claimed again.
    """
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
            "relay-dispatch": {
                "task": DISPATCH,
                "schedule": timedelta(seconds=dispatch_every),
                "options": {"expires": dispatch_every},
            },
            "reminders": {
                "task": REMINDERS,
                "schedule": timedelta(seconds=reminders_every),
                "options": {"expires": reminders_every},
            },
        },
    )
    current = PerProcess(lambda: application(settings))

    def dispatch() -> int:
        current().apply_inbox()  # webhooks stored by the web processes, applied here
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

    def reminders() -> dict[str, int]:
        report = current().send_reminders()
        if report.lessons or report.overdue_invoices:
            log.info(
                "reminders queued: %d lesson, %d overdue invoice",
                report.lessons,
                report.overdue_invoices,
            )
        return {"lessons": report.lessons, "overdue_invoices": report.overdue_invoices}

    task: Callable[..., Any] = app.task
    for name, run in ((DISPATCH, dispatch), (RELAY_ONE, relay_one), (REMINDERS, reminders)):
        task(name=name, shared=False)(run)  # shared tasks would reach every app made later
    return app
