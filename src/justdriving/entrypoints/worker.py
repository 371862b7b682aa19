"""The thread worker: runs the periodic jobs (entrypoints/schedule.py) round after round,
relaying the outbox among them, until told to stop."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence

from attrs import define, field

from justdriving.application import Application
from justdriving.entrypoints.schedule import PeriodicJob, periodic_jobs


@define
class Round:
    """What one round of the worker did: whether a job found work, and a line per job run."""

    busy: bool = False
    said: list[str] = field(factory=list)

    def summary(self) -> str:
        """One line for a person, the relay's first: `relayed 2 outbox row(s) (...); ...`."""
        lines = sorted(self.said, key=lambda line: not line.startswith("relayed "))
        return "; ".join(lines) or "no job was due"


class Worker:
    """One process: each round runs the jobs that are due, in the order of the list; the relay
    and the inbox every round, reminders every `schedule_every` seconds and the accounting
    reconciliation every `accounting_sync_every` seconds (None: off, as when
    ACCOUNTING_SYNC_ENABLED is false). `jobs` replaces that list (`schedule.scheduled`)."""

    def __init__(
        self,
        app: Application,
        *,
        idle_sleep: float = 1.0,
        schedule_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        accounting_sync_every: float | None = None,
        jobs: Sequence[PeriodicJob] | None = None,
    ) -> None:
        self._app = app
        self._idle_sleep = idle_sleep
        self._monotonic = monotonic
        if jobs is None:
            jobs = periodic_jobs(
                reminders_every=schedule_every, accounting_every=accounting_sync_every
            )
        self.jobs = tuple(jobs)
        self._next_run = dict.fromkeys((job.name for job in self.jobs), 0.0)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            busy = self.tick()
            if not busy:
                self.stopping.wait(self._idle_sleep)

    def tick(self) -> bool:
        """One round; True when a job had work (so the next round starts at once)."""
        return self.round().busy

    def round(self) -> Round:
        """One round: each job that is due, in the order of the list."""
        done = Round()
        for job in self.jobs:
            if self._monotonic() < self._next_run[job.name]:
                continue
            self._next_run[job.name] = self._monotonic() + job.every
            ran = job.run(self._app)
            done.busy = ran.busy or done.busy
            done.said.append(ran.said)
        return done

    def stop_on_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
