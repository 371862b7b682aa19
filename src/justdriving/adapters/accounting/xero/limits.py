"""Xero's per-organisation call limits kept on our side, so that a sync paces itself instead of
collecting 429s: at most 5 calls in flight and 60 started in any rolling minute, per tenant.

One XeroRateLimiter is shared by every client (and thread) that calls the same organisations
from this process. Other processes calling the same organisation are not seen: their calls
show up as 429 answers, which `pause` turns into a wait for every thread of this one.
The daily limit (5,000) is not paced here: a sync that reaches it stops (ProviderUnavailable
with provider_code "daily_limit") and resumes on its next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from justdriving.adapters.rate_limits import RollingWindowLimiter

CONCURRENT = 5
PER_MINUTE = 60
WINDOW = 60.0
# A call counts against the minute from its start until WINDOW + MARGIN after Xero's answer
# (rate_limits); the margin is slack for Xero's own clock and counting.
MARGIN = 0.5


class XeroRateLimiter(RollingWindowLimiter):
    """The rolling-window limiter with Xero's numbers; keys are tenant ids."""

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
        super().__init__(
            concurrent=concurrent,
            per_window=per_minute,
            window=window,
            margin=margin,
            monotonic=monotonic,
            sleep=sleep,
        )

    @property
    def per_minute(self) -> int:
        return self.per_window

    def __repr__(self) -> str:
        return f"XeroRateLimiter(concurrent={self.concurrent}, per_minute={self.per_minute})"
