"""A circuit breaker per provider: after repeated failures, stop calling it for a cool-down."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from justdriving.ports.clock import Clock


class CircuitBreaker:
    """Closed until `threshold` failures in a row; then open for `cooldown`; then one trial
    call decides (half-open). State is per process: each worker protects its own calls, and
    the relay's concurrent sends share it."""

    def __init__(
        self, clock: Clock, *, threshold: int = 5, cooldown: timedelta = timedelta(seconds=60)
    ) -> None:
        self._clock = clock
        self._threshold = threshold
        self._cooldown = cooldown
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def open_until(self, provider: str) -> datetime | None:
        """When calls may resume, or None when calls are allowed now."""
        until = self._open_until.get(provider)
        if until is None or until <= self._clock.now():
            return None
        return until

    def failed(self, provider: str) -> None:
        with self._lock:
            failures = self._failures.get(provider, 0) + 1
            self._failures[provider] = failures
            if failures >= self._threshold:
                self._open_until[provider] = self._clock.now() + self._cooldown

    def succeeded(self, provider: str) -> None:
        with self._lock:
            self._failures.pop(provider, None)
            self._open_until.pop(provider, None)
