"""Xero's per-organisation call limits kept on our side, so that a sync paces itself instead of
collecting 429s: at most 5 calls in flight and 60 started in any rolling minute, per tenant.

One XeroRateLimiter is shared by every client (and thread) that calls the same organisations
from this process. Other processes calling the same organisation are not seen: their calls
show up as 429 answers, which `pause` turns into a wait for every thread of this one.
The daily limit (5,000) is not paced here: a sync that reaches it stops (ProviderUnavailable
with provider_code "daily_limit") and resumes on its next run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from attrs import define, field

CONCURRENT = 5
PER_MINUTE = 60
WINDOW = 60.0
# A call counts against the minute for WINDOW + MARGIN seconds: our start time and Xero's
# arrival time differ by the network's latency, and a call that arrives 10 ms early is a 429.
MARGIN = 0.5


@define
class _Tenant:
    in_flight: int = 0
    starts: deque[float] = field(factory=deque)
    paused_until: float = 0.0
    waits: int = 0  # how many times a caller had to sleep for the window or a pause


class XeroRateLimiter:
    """Thread-safe pacing per tenant id. `call(tenant)` blocks until a call may start.

    `monotonic` and `sleep` are injectable, so tests and benchmarks run on a simulated clock;
    waiting for a free concurrency slot uses a condition variable (another thread's call ends).
    """

    def __init__(
        self,
        *,
        concurrent: int = CONCURRENT,
        per_minute: int = PER_MINUTE,
        window: float = WINDOW,
        margin: float = MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrent < 1 or per_minute < 1 or window <= 0 or margin < 0:
            raise ValueError("limits must be positive")
        self.concurrent, self.per_minute = concurrent, per_minute
        self._span = window + margin
        self._monotonic, self._sleep = monotonic, sleep
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._tenants: dict[str, _Tenant] = {}

    def __repr__(self) -> str:
        return f"XeroRateLimiter(concurrent={self.concurrent}, per_minute={self.per_minute})"

    @contextmanager
    def call(self, tenant_id: str) -> Iterator[None]:
        """Hold one of the tenant's slots for the duration of one HTTP call."""
        self._acquire(tenant_id)
        try:
            yield
        finally:
            with self._lock:
                self._tenants[tenant_id].in_flight -= 1
                self._released.notify_all()

    def pause(self, tenant_id: str, seconds: float) -> None:
        """Xero said to wait (429, Retry-After): no call to this tenant starts before then."""
        with self._lock:
            tenant = self._tenants.setdefault(tenant_id, _Tenant())
            tenant.paused_until = max(tenant.paused_until, self._monotonic() + seconds)

    def waits(self, tenant_id: str) -> int:
        """How often callers slept for this tenant's minute window or a pause (for reports)."""
        with self._lock:
            return self._tenants.get(tenant_id, _Tenant()).waits

    def _acquire(self, tenant_id: str) -> None:
        with self._lock:
            tenant = self._tenants.setdefault(tenant_id, _Tenant())
            while True:
                now = self._monotonic()
                while tenant.starts and tenant.starts[0] + self._span <= now:
                    tenant.starts.popleft()
                delay = self._delay(tenant, now)
                if delay > 0:
                    tenant.waits += 1
                    self._lock.release()
                    try:
                        self._sleep(delay)
                    finally:
                        self._lock.acquire()
                elif tenant.in_flight >= self.concurrent:
                    self._released.wait()
                else:
                    tenant.in_flight += 1
                    tenant.starts.append(now)
                    return

    def _delay(self, tenant: _Tenant, now: float) -> float:
        """Seconds until the minute window (or a pause) lets one more call start."""
        delay = tenant.paused_until - now
        if len(tenant.starts) >= self.per_minute:
            delay = max(delay, tenant.starts[0] + self._span - now)
        return delay
