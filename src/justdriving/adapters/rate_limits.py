"""A provider's rate limit kept on our side, so that callers pace themselves instead of
collecting 429s: at most `concurrent` calls in flight and `per_window` in any rolling
`window`, per key (a Xero tenant, an SMS account).

The provider counts a call when it arrives, somewhere between our start and its answer, so a
call counts here from its start until `window` (plus `margin`) after its answer: however
the network's latency varies, no `per_window + 1` calls can arrive within one window.

One limiter is shared by every thread of a process that calls the same provider account.
Other processes are not seen: their calls show up as 429 answers, which `pause` turns into a
wait for every thread of this one (for SMS, SMS_RATE_LIMIT_STORAGE shares the count across
processes instead: `shared_rate_limits`). Xero's limits (accounting.xero.limits) and the SMS pacing
(sms.pacing) are both this limiter with their own numbers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from attrs import define, field


class CallPacer(Protocol):
    """What a paced sender needs of a limiter: this one (one process) or the shared one
    (`shared_rate_limits`, every process on the same Redis)."""

    def call(self, key: str) -> AbstractContextManager[None]:
        """Hold a slot for the duration of one call; blocks until one is free."""
        ...

    def pause(self, key: str, seconds: float) -> None:
        """The provider said to wait `seconds` before the next call for `key`."""
        ...


@define
class _Key:
    in_flight: int = 0
    ends: deque[float] = field(factory=deque)  # answers still counting, oldest first
    paused_until: float = 0.0
    waits: int = 0  # how many times a caller had to sleep for the window or a pause


class RollingWindowLimiter:
    """Thread-safe pacing per key. `call(key)` blocks until a call may start.

    A call counts against the window while in flight and for `window + margin` seconds after
    it ends (see the module docstring); `margin` is slack for a provider that counts
    differently. `concurrent=None` leaves the calls in flight unlimited.
    `monotonic` and `sleep` are injectable, so tests and benchmarks run on a simulated clock;
    waiting for a free concurrency slot uses a condition variable (another thread's call ends).
    """

    def __init__(
        self,
        *,
        per_window: int,
        window: float,
        concurrent: int | None = None,
        margin: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (concurrent is not None and concurrent < 1) or per_window < 1 or window <= 0:
            raise ValueError("limits must be positive")
        if margin < 0:
            raise ValueError("the margin must not be negative")
        self.concurrent, self.per_window = concurrent, per_window
        self.window, self.margin = window, margin
        self._span = window + margin
        self._monotonic, self._sleep = monotonic, sleep
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._keys: dict[str, _Key] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(concurrent={self.concurrent}, per_window={self.per_window}, "
            f"window={self.window}, margin={self.margin})"
        )

    @contextmanager
    def call(self, key: str) -> Iterator[None]:
        """Hold one of the key's slots for the duration of one call to the provider."""
        self._acquire(key)
        try:
            yield
        finally:
            with self._lock:
                state = self._keys[key]
                state.in_flight -= 1
                state.ends.append(self._monotonic())
                self._released.notify_all()

    def pause(self, key: str, seconds: float) -> None:
        """The provider said to wait (429, Retry-After): no call for this key starts before."""
        with self._lock:
            state = self._keys.setdefault(key, _Key())
            state.paused_until = max(state.paused_until, self._monotonic() + seconds)

    def waits(self, key: str) -> int:
        """How often callers slept for this key's window or a pause (for reports)."""
        with self._lock:
            return self._keys.get(key, _Key()).waits

    def _acquire(self, key: str) -> None:
        with self._lock:
            state = self._keys.setdefault(key, _Key())
            while True:
                now = self._monotonic()
                while state.ends and state.ends[0] + self._span <= now:
                    state.ends.popleft()
                delay = self._delay(state, now)
                if delay > 0:
                    state.waits += 1
                    self._lock.release()
                    try:
                        self._sleep(delay)
                    finally:
                        self._lock.acquire()
                elif self._full(state):
                    self._released.wait()  # every counted call is still in flight
                else:
                    state.in_flight += 1
                    return

    def _full(self, state: _Key) -> bool:
        if self.concurrent is not None and state.in_flight >= self.concurrent:
            return True
        return state.in_flight + len(state.ends) >= self.per_window

    def _delay(self, state: _Key, now: float) -> float:
        """Seconds until the window (or a pause) lets one more call start; 0 when only calls
        in flight stand in the way (their end is not known yet)."""
        delay = state.paused_until - now
        if state.ends and state.in_flight + len(state.ends) >= self.per_window:
            delay = max(delay, state.ends[0] + self._span - now)
        return delay
