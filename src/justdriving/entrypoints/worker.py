"""The worker: relays the outbox and runs the schedules, until told to stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from justdriving.domain.errors import JustDrivingError
from justdriving.domain.services.application import Application

log = logging.getLogger("justdriving.worker")


class Worker:
    """One process: relay whenever there is work, reminders every `schedule_every` seconds,
    and the accounting sync of every school every `accounting_sync_every` seconds (None: off,
    as when ACCOUNTING_SYNC_ENABLED is false)."""

    def __init__(
        self,
        app: Application,
        *,
        idle_sleep: float = 1.0,
        schedule_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        accounting_sync_every: float | None = None,
    ) -> None:
        self._app = app
        self._idle_sleep = idle_sleep
        self._schedule_every = schedule_every
        self._monotonic = monotonic
        self._next_schedule = 0.0
        self._accounting_sync_every = accounting_sync_every
        self._next_accounting_sync = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            busy = self.tick()
            if not busy:
                self.stopping.wait(self._idle_sleep)

    def tick(self) -> bool:
        """One round; True when the relay had work (so the next round starts at once)."""
        if self._monotonic() >= self._next_schedule:
            self._next_schedule = self._monotonic() + self._schedule_every
            reminders = self._app.send_reminders()
            if reminders.lessons or reminders.overdue_invoices:
                log.info(
                    "reminders queued: %d lesson, %d overdue invoice",
                    reminders.lessons,
                    reminders.overdue_invoices,
                )
        self._sync_accounting_when_due()
        self._app.apply_inbox()
        report = self._app.relay_outbox()
        if report.claimed:
            log.info(
                "relay: %d sent, %d to retry, %d dead, %d deferred",
                report.sent,
                report.retried,
                report.dead,
                report.deferred,
            )
        return report.claimed > 0

    def _sync_accounting_when_due(self) -> None:
        every = self._accounting_sync_every
        if every is None or self._monotonic() < self._next_accounting_sync:
            return
        self._next_accounting_sync = self._monotonic() + every
        try:
            runs = self._app.sync_all_accounting()
        except JustDrivingError as error:  # bad credentials, say: the relay goes on
            log.error("accounting sync failed: %s", error)
            return
        for run in runs:
            if run.pushed or run.failures or run.stopped_early:
                log.info(
                    "accounting sync of %s: %d pushed, %d skipped, %d failed%s",
                    run.school_id,
                    run.pushed,
                    run.skipped,
                    run.failed,
                    f"; stopped early: {run.stopped_early}" if run.stopped_early else "",
                )

    def stop_on_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
