"""Xero's per-organisation call limits as the simulator enforces them, exactly, and what it saw.

Per tenant: 5 calls in progress at once, 60 calls started in any rolling 60 seconds, 5,000 in
any rolling 24 hours (times from the simulator's clock). A call over a limit is answered 429
with `X-Rate-Limit-Problem` (concurrent, minute or day) and `Retry-After` (whole seconds until
the limit lets a call through), and is not counted as a call. Every answer carries
X-MinLimit-Remaining and X-DayLimit-Remaining, as Xero's do.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Callable

from attrs import define, field

MINUTE = 60.0
DAY = 24 * 3600.0


@define
class Throttle:
    problem: str  # concurrent, minute, day
    retry_after: int


@define
class _Tenant:
    in_flight: int = 0
    minute: deque[float] = field(factory=deque)
    day: deque[float] = field(factory=deque)


class Quota:
    """Admits or throttles each call; counts calls per minute, peak concurrency and 429s."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        concurrent: int = 5,
        per_minute: int = 60,
        per_day: int = 5000,
    ) -> None:
        self.concurrent, self.per_minute, self.per_day = concurrent, per_minute, per_day
        self._clock = clock
        self._lock = threading.Lock()
        self._tenants: dict[str, _Tenant] = {}
        self.calls = 0  # admitted
        self.calls_by_minute: Counter[int] = Counter()  # minute of the clock -> admitted calls
        self.busiest_minute = 0  # most calls admitted in any rolling 60 s
        self.max_concurrency = 0
        self.throttled: Counter[str] = Counter()  # problem -> 429s served

    def admit(self, tenant_id: str) -> Throttle | None:
        """Start a call, or say why not. An admitted call must be `finish`ed."""
        with self._lock:
            tenant = self._tenants.setdefault(tenant_id, _Tenant())
            now = self._clock()
            _expire(tenant.minute, now - MINUTE)
            _expire(tenant.day, now - DAY)
            throttle = self._throttle(tenant, now)
            if throttle is not None:
                self.throttled[throttle.problem] += 1
                return throttle
            tenant.in_flight += 1
            tenant.minute.append(now)
            tenant.day.append(now)
            self.calls += 1
            self.calls_by_minute[int(now // MINUTE)] += 1
            self.busiest_minute = max(self.busiest_minute, len(tenant.minute))
            self.max_concurrency = max(self.max_concurrency, tenant.in_flight)
            return None

    def finish(self, tenant_id: str) -> None:
        with self._lock:
            self._tenants[tenant_id].in_flight -= 1

    def remaining(self, tenant_id: str) -> dict[str, str]:
        with self._lock:
            tenant = self._tenants.get(tenant_id, _Tenant())
            return {
                "X-MinLimit-Remaining": str(max(0, self.per_minute - len(tenant.minute))),
                "X-DayLimit-Remaining": str(max(0, self.per_day - len(tenant.day))),
            }

    @property
    def throttled_total(self) -> int:
        with self._lock:
            return sum(self.throttled.values())

    def _throttle(self, tenant: _Tenant, now: float) -> Throttle | None:
        if len(tenant.day) >= self.per_day:
            return Throttle("day", _whole(tenant.day[0] + DAY - now))
        if len(tenant.minute) >= self.per_minute:
            return Throttle("minute", _whole(tenant.minute[0] + MINUTE - now))
        if tenant.in_flight >= self.concurrent:
            return Throttle("concurrent", 1)
        return None


def _expire(starts: deque[float], before: float) -> None:
    # A call started at t counts during [t, t + window).
    while starts and starts[0] <= before:
        starts.popleft()


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))
