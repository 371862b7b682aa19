"""Any SmsSender paced by a client-side rate limit (SMS_RATE_LIMIT), so that the relay's
threads wait for a slot instead of collecting 429s from the provider.

One limiter per process is shared by every relay thread (the container builds it once); with
SMS_RATE_LIMIT_STORAGE (Redis) the count is shared by every process and machine as well. A
429 that gets through anyway (another process, a provider limit lower than configured) pauses
every thread of this process for its Retry-After, and the error goes back to the relay, which
retries that message later as it does without pacing.
"""

from __future__ import annotations

from justdriving.adapters.rate_limits import CallPacer, RollingWindowLimiter
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.ports.messaging import SmsSender

WINDOW = 1.0  # SMS_RATE_LIMIT is messages per second
# A send counts from its start until WINDOW after the provider's answer, which covers any
# network latency (rate_limits); no margin is needed on top.
MARGIN = 0.0


def sms_limiter(per_second: int, storage: str | None = None) -> CallPacer:
    """The SMS limiter: `per_second` sends in any rolling second, in this process, or in every
    process sharing `storage` (a Redis URL)."""
    if storage is not None:
        from justdriving.adapters.shared_rate_limits import SharedWindowLimiter

        return SharedWindowLimiter(storage, per_window=per_second, window=int(WINDOW))
    return RollingWindowLimiter(per_window=per_second, window=WINDOW, margin=MARGIN)


class PacedSmsSender:
    """Waits for a slot under `limiter` (for `key`) before each send of `inner`; results and
    errors of `inner` pass through unchanged."""

    def __init__(self, inner: SmsSender, limiter: CallPacer, key: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = limiter
        self.key = key or inner.name

    def __repr__(self) -> str:
        return f"PacedSmsSender({self.inner!r}, {self.limiter!r}, key={self.key!r})"

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        with self.limiter.call(self.key):
            try:
                return self.inner.send(to, message)
            except ProviderUnavailable as error:
                if error.retry_after is not None:  # the provider's rate limit: hold everyone
                    self.limiter.pause(self.key, error.retry_after)
                raise

    def close(self) -> None:
        """Close the inner sender's connections, if it has any."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
