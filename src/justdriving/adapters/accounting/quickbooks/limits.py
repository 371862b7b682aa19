"""Pacing for QuickBooks Online: stay under its per-company limits instead of collecting 429s.

QuickBooks allows, per company (realm), 500 requests a minute, 10 a second and 10 at once,
and 40 calls a minute to the batch endpoint. The pacer keeps sliding windows of the calls this
process made and sleeps until the next call fits; a 429 (another process used the budget)
holds every call back for the Retry-After the server gave.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

PER_SECOND = 10
PER_MINUTE = 500
BATCHES_PER_MINUTE = 40
CONCURRENT = 10


class SlidingWindow:
    """At most `limit` events in any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self._events: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self._events[0] + self.period - now

    def record(self, now: float) -> None:
        self._events.append(now)


class RequestPacer:
    """Waits before each call until every window has room; thread-safe."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        per_second: int = PER_SECOND,
        per_minute: int = PER_MINUTE,
        batches_per_minute: int = BATCHES_PER_MINUTE,
        concurrent: int = CONCURRENT,
    ) -> None:
        self._monotonic, self._sleep = monotonic, sleep
        self._every = (SlidingWindow(per_second, 1.0), SlidingWindow(per_minute, 60.0))
        self._batches = SlidingWindow(batches_per_minute, 60.0)
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._held_until = 0.0

    def hold(self, seconds: float) -> None:
        """No call starts for `seconds` from now (the server answered 429)."""
        with self._lock:
            self._held_until = max(self._held_until, self._monotonic() + seconds)

    @contextmanager
    def call(self, *, batch: bool) -> Iterator[None]:
        """One call: waits for a window slot and one of the concurrent slots."""
        with self._slots:
            self._admit(batch)
            yield

    def _admit(self, batch: bool) -> None:
        while True:
            with self._lock:
                now = self._monotonic()
                windows = (*self._every, self._batches) if batch else self._every
                wait = max(self._held_until - now, *(w.wait(now) for w in windows))
                if wait <= 0:
                    for window in windows:
                        window.record(now)
                    return
            self._sleep(wait)
