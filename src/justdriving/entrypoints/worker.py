"""The worker: relays the outbox and runs the schedules, until told to stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from attrs import define, field

from justdriving.domain.errors import JustDrivingError
from justdriving.domain.services.application import Application
from justdriving.domain.services.relay import RelayReport

log = logging.getLogger("justdriving.worker")


@define
class Round:
    """What one round of the worker did."""

    lesson_reminders: int = 0
    overdue_reminders: int = 0
    inbox_applied: int = 0
    relay: RelayReport = field(factory=RelayReport)
    accounting: list[str] = field(factory=list)  # a line per school the sync pushed to

    def summary(self) -> str:
        """One line for a person: `relayed 2 (2 sent, 0 to retry, 0 dead, 0 deferred); ...`."""
        relay = self.relay
        parts = [
            f"relayed {relay.claimed} outbox row(s) ({relay.sent} sent, {relay.retried} to "
            f"retry, {relay.dead} dead, {relay.deferred} deferred)",
            f"applied {self.inbox_applied} webhook(s) from the inbox",
            f"queued {self.lesson_reminders} lesson and {self.overdue_reminders} overdue "
            "reminder(s)",
            *self.accounting,
        ]
        return "; ".join(parts)


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
        return self.round().relay.claimed > 0

    def round(self) -> Round:
        """One round: reminders and the accounting sync when due, the inbox, the relay."""
        done = Round()
        if self._monotonic() >= self._next_schedule:
            self._next_schedule = self._monotonic() + self._schedule_every
            reminders = self._app.send_reminders()
            done.lesson_reminders = reminders.lessons
            done.overdue_reminders = reminders.overdue_invoices
            if reminders.lessons or reminders.overdue_invoices:
                log.info(
                    "reminders queued: %d lesson, %d overdue invoice",
                    reminders.lessons,
                    reminders.overdue_invoices,
                )
        done.accounting = self._sync_accounting_when_due()
        done.inbox_applied = self._app.apply_inbox()
        report = done.relay = self._app.relay_outbox()
        if report.claimed:
            log.info(
                "relay: %d sent, %d to retry, %d dead, %d deferred",
                report.sent,
                report.retried,
                report.dead,
                report.deferred,
            )
        return done

    def _sync_accounting_when_due(self) -> list[str]:
        every = self._accounting_sync_every
        if every is None or self._monotonic() < self._next_accounting_sync:
            return []
        self._next_accounting_sync = self._monotonic() + every
        try:
            runs = self._app.sync_all_accounting()
        except JustDrivingError as error:  # bad credentials, say: the relay goes on
            log.error("accounting sync failed: %s", error)
            return [f"accounting sync failed: {error}"]
        lines = []
        for run in runs:
            if run.pushed or run.failures or run.stopped_early:
                line = (
                    f"accounting sync of {run.school_id}: {run.pushed} pushed, {run.skipped} "
                    f"skipped, {run.failed} failed"
                    + (f"; stopped early: {run.stopped_early}" if run.stopped_early else "")
                )
                log.info("%s", line)
                lines.append(line)
        return lines

    def stop_on_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
