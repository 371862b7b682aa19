"""A slowdown on wrong guesses of a shared secret (OPS_TOKEN, API_TOKEN).

Each client address may present a wrong token MAX_FAILURES times within WINDOW; after that it
is answered 429 with Retry-After, without its token being compared, until its oldest failure
leaves the window. A right token clears the address's record. The count is per process (each
gunicorn worker keeps its own, so an address gets at most MAX_FAILURES times workers guesses a
window) and bounded in memory: beyond MAX_ADDRESSES, the address seen least recently is
forgotten. The client address is `request.remote_addr`, after TRUSTED_PROXY_HOPS' ProxyFix.

With the strength production requires of the tokens, guessing is hopeless anyway; this keeps
a scanner from trying, and makes a wrong-token storm visible as 429s.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Final

from flask import Response

from justdriving.entrypoints.web.errors import error_body
from justdriving.ports.clock import Clock

MAX_FAILURES: Final = 10
WINDOW: Final = timedelta(minutes=15)
MAX_ADDRESSES: Final = 10_000


class WrongGuesses:
    def __init__(
        self,
        clock: Clock,
        *,
        limit: int = MAX_FAILURES,
        window: timedelta = WINDOW,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self._clock, self._limit, self._window = clock, limit, window
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()  # the views run on many threads

    def wait(self, address: str) -> int:
        """Seconds `address` must wait before it may guess again; 0 when it may now."""
        now = self._clock.now()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self._limit:
                return 0
            remaining = (failures[0] + self._window - now).total_seconds()
            return max(1, math.ceil(remaining))

    def failed(self, address: str) -> None:
        now = self._clock.now()
        with self._lock:
            self._recent(address, now).append(now)
            self._failures.move_to_end(address)
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] + self._window <= now:
            failures.popleft()
        return failures


def too_many_guesses(wait: int) -> Response:
    answer = error_body(
        "too_many_attempts", f"too many wrong tokens from this address: retry in {wait} s", 429
    )
    answer.headers["Retry-After"] = str(wait)
    return answer
