"""Simulated time for the Xero simulator, the rate limiter and the accounting benchmark.

    time = SimulatedTime(datetime(2025, 3, 14, tzinfo=UTC))
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    with XeroSimulator(clock=time.now) as xero: ...

Nothing moves it but `advance` and `sleep`. Used from one thread, `sleep(s)` simply advances
`s` seconds. Used from several, each thread that takes part registers (`taking_part`, or all at
once with `run_together`) and time advances only when every registered thread is asleep, to the
earliest wake-up. That is discrete-event simulation: a minute of rate-limit waiting takes no
real time, and no thread is overtaken while it is still working (an HTTP call in progress is
work, done in real time at one simulated instant).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class SimulatedTime:
    """A clock and a `sleep` that advance virtual seconds; thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime(2025, 1, 1, tzinfo=UTC)
        if self.start.utcoffset() is None:
            raise ValueError("simulated time starts at a timezone-aware datetime")
        self._elapsed = 0.0
        self._changed = threading.Condition()
        self._members: set[int] = set()
        self._wakeups: Counter[float] = Counter()
        self.slept = 0.0  # virtual seconds spent in sleep(), summed over threads

    def __repr__(self) -> str:
        return f"SimulatedTime({self.now().isoformat()})"

    def monotonic(self) -> float:
        with self._changed:
            return self._elapsed

    def now(self) -> datetime:
        with self._changed:
            return self.start + timedelta(seconds=self._elapsed)

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (waking any sleeper whose time has come)."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._changed:
            self._elapsed += seconds
            self._changed.notify_all()

    @contextmanager
    def taking_part(self) -> Iterator[None]:
        """The current thread's sleeps now wait for the others (see the module docstring)."""
        me = threading.get_ident()
        with self._changed:
            self._members.add(me)
        try:
            yield
        finally:
            with self._changed:
                self._members.discard(me)
                self._step()

    def run_together(self, work: Sequence[Callable[[], object]]) -> None:
        """Run each function in a thread of its own, all taking part from the same instant;
        return when all are done, raising the first error any of them raised."""
        ready = threading.Barrier(len(work) + 1)
        errors: list[BaseException] = []

        def run(function: Callable[[], object]) -> None:
            with self.taking_part():
                ready.wait()
                try:
                    function()
                except BaseException as error:  # handed to the caller
                    errors.append(error)

        threads = [threading.Thread(target=run, args=(function,)) for function in work]
        with self.taking_part():  # time stands still until every thread has joined in
            for thread in threads:
                thread.start()
            ready.wait()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._changed:
            self.slept += seconds
            if threading.get_ident() not in self._members:
                self._elapsed += seconds
                self._changed.notify_all()
                return
            wake = self._elapsed + seconds
            self._wakeups[wake] += 1
            try:
                self._step()
                while self._elapsed < wake:
                    self._changed.wait()
            finally:
                self._wakeups[wake] -= 1
                if not self._wakeups[wake]:
                    del self._wakeups[wake]

    def _step(self) -> None:
        """If every member sleeps and none is due yet, jump to the earliest wake-up."""
        asleep = sum(self._wakeups.values())
        if not self._wakeups or asleep < len(self._members):
            return
        earliest = min(self._wakeups)
        if earliest > self._elapsed:
            self._elapsed = earliest
            self._changed.notify_all()
