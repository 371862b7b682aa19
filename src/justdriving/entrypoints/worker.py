"""The thread worker: runs the periodic jobs (entrypoints/schedule.py) round after round until
told to stop, the relay in a loop of its own beside them.

The relay's loop is never held up by a slow schedule (reminders among many bookings, say), and
rests only briefly when nothing is due (RELAY_IDLE_SLEEP, with jitter so that relays do not
poll in step), so a burst is picked up at once by every relay. A deployment runs the schedules
in one place: one `justdriving worker`, and as many `justdriving worker --relay-only` beside it
as the outbox needs.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Sequence

from attrs import define, field

from justdriving.application import Application
from justdriving.entrypoints.schedule import DISPATCH, PeriodicJob, periodic_jobs

RELAY_IDLE_SLEEP = 0.2  # seconds, on average, between looks at an empty outbox
STOP_CHECK = 0.05  # seconds: how soon a resting loop notices it was told to stop


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
    ACCOUNTING_SYNC_ENABLED is false). `jobs` replaces that list (`schedule.scheduled`).
    `run` relays in a loop of its own, resting `relay_idle_sleep` (± half, at random) when
    nothing was due; `tick` and `round` run every job once, the relay among them."""

    def __init__(
        self,
        app: Application,
        *,
        idle_sleep: float = 1.0,
        schedule_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        accounting_sync_every: float | None = None,
        jobs: Sequence[PeriodicJob] | None = None,
        relay_idle_sleep: float = RELAY_IDLE_SLEEP,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._app = app
        self._idle_sleep, self._relay_idle_sleep = idle_sleep, relay_idle_sleep
        self._jitter = jitter
        self._monotonic = monotonic
        if jobs is None:
            jobs = periodic_jobs(
                reminders_every=schedule_every, accounting_every=accounting_sync_every
            )
        self.jobs = tuple(jobs)
        self._ticked = self.jobs  # what `tick` runs: while `run` relays apart, the others
        self._next_run = dict.fromkeys((job.name for job in self.jobs), 0.0)
        self.stopping = threading.Event()

    def run(self) -> None:
        """Until `stopping` is set: the relay in a thread of its own, the other jobs here; an
        error in either stops both and is raised here."""
        relaying = tuple(job for job in self.jobs if job.name == DISPATCH)
        others = tuple(job for job in self.jobs if job.name != DISPATCH)
        if not relaying or not others:
            self._loop(self.tick, self._idle_sleep if others else self._relay_idle_sleep)
            return
        halt = threading.Event()
        failed: list[BaseException] = []

        def relay() -> None:
            try:
                self._loop(lambda: self.round(relaying).busy, self._relay_idle_sleep, halt)
            except BaseException as error:
                failed.append(error)
                halt.set()  # the schedules stop at once too: no worker runs without its relay

        thread = threading.Thread(target=relay, name="relay", daemon=True)
        self._ticked = others
        thread.start()
        try:
            self._loop(self.tick, self._idle_sleep, halt, failed)
        finally:
            halt.set()
            thread.join()
            self._ticked = self.jobs
        if failed:
            raise failed[0]

    def _loop(
        self,
        tick: Callable[[], bool],
        rest: float,
        halt: threading.Event | None = None,
        failed: list[BaseException] | None = None,
    ) -> None:
        while not self.stopping.is_set() and not (halt is not None and halt.is_set()):
            if failed:
                return
            if not tick():
                self._rest(rest * (0.5 + self._jitter()), halt)

    def _rest(self, seconds: float, halt: threading.Event | None) -> None:
        """Sleep `seconds`, ending early when told to stop. Short sleeps, not a timed
        Event.wait: that wait hangs under libfaketime (see .ci/run), which would stop the
        worker's loops in the night run of the suite."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and not (halt is not None and halt.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, STOP_CHECK))

    def tick(self) -> bool:
        """One round; True when a job had work (so the next round starts at once)."""
        return self.round(self._ticked).busy

    def round(self, jobs: Sequence[PeriodicJob] | None = None) -> Round:
        """One round: each job (of `jobs`; all by default) that is due, in the order of the
        list."""
        done = Round()
        for job in self.jobs if jobs is None else jobs:
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
