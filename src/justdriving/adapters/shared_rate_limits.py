"""A provider's rate limit held across processes and machines: at most `per_window` calls
start in any rolling `window` seconds per key, counted in shared storage (Redis) by the
`limits` library's moving window, so four relay processes together keep to what one
provider account allows instead of each keeping to it alone.

The in-process `RollingWindowLimiter` counts a call until `window` after its answer, which
covers the network's latency; a shared count cannot know when another process's call ended,
so it counts starts. Configure the provider's limit with the latency in mind (a provider that
allows 10 a second is safely paced at 9).

When the storage cannot be reached, no call starts: the caller gets ProviderUnavailable (the
relay retries the message later; nothing is sent unpaced, nothing is lost).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from justdriving.domain.errors import ProviderUnavailable

NAMESPACE = "justdriving-pacing"


class SharedWindowLimiter:
    """Pacing per key shared by every process that uses the same `storage_uri`.

    `call(key)` blocks until a call may start. `pause(key, seconds)` (a 429 with Retry-After
    that got through anyway) holds this process's callers; the other processes see their own
    429s. The shared window runs on the wall clock (seconds since the epoch, as `limits` keeps
    it), so the machines sharing it need synchronised clocks; `sleep` is injectable.
    """

    def __init__(
        self,
        storage_uri: str,
        *,
        per_window: int,
        window: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        if per_window < 1 or window < 1:
            raise ValueError("limits must be positive")
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.per_window, self.window = per_window, window
        self._item = RateLimitItemPerSecond(per_window, window)
        self._storage = storage_from_string(storage_uri, **(storage_options or {}))
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until: dict[str, float] = {}
        self._waits: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(per_window={self.per_window}, window={self.window})"

    @contextmanager
    def call(self, key: str) -> Iterator[None]:
        """Wait for one of the key's slots in the shared window, then run the call."""
        self._acquire(key)
        yield

    def pause(self, key: str, seconds: float) -> None:
        """The provider said to wait: no call for this key starts here before then."""
        with self._lock:
            until = time.monotonic() + seconds
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def waits(self, key: str) -> int:
        """How often callers slept for the window or a pause (for reports)."""
        with self._lock:
            return self._waits.get(key, 0)

    def _acquire(self, key: str) -> None:
        while True:
            with self._lock:
                delay = self._paused_until.get(key, 0.0) - time.monotonic()
            if delay <= 0:
                if self._hit(key):
                    return
                delay = self._until_free(key)
            with self._lock:
                self._waits[key] = self._waits.get(key, 0) + 1
            self._sleep(delay)

    def _hit(self, key: str) -> bool:
        try:
            return bool(self._strategy.hit(self._item, NAMESPACE, key))
        except Exception as error:  # the storage's client raises its own errors
            raise ProviderUnavailable(
                "rate limiter", f"the shared rate limit's storage cannot be reached ({error})"
            ) from error

    def _until_free(self, key: str) -> float:
        """Seconds until the oldest call in the window leaves it (at least 10 ms)."""
        try:
            stats = self._strategy.get_window_stats(self._item, NAMESPACE, key)
        except Exception as error:
            raise ProviderUnavailable(
                "rate limiter", f"the shared rate limit's storage cannot be reached ({error})"
            ) from error
        return max(float(stats.reset_time) - time.time(), 0.01)
