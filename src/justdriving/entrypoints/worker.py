"""The worker: relays the outbox and runs the schedules, until told to stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from justdriving.domain.services.application import Application

log = logging.getLogger("justdriving.worker")


class Worker:
    """One process: relay whenever there is work, reminders every `schedule_every` seconds."""

    def __init__(
        self,
        app: Application,
        *,
        idle_sleep: float = 1.0,
        schedule_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._idle_sleep = idle_sleep
        self._schedule_every = schedule_every
        self._monotonic = monotonic
        self._next_schedule = 0.0
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

    def stop_on_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
