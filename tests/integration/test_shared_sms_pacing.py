"""SMS_RATE_LIMIT_STORAGE: one SMS rate limit held by several processes together, counted in
Redis. Two limiters stand for two worker processes (each its own connection pool and its own
threads); what the provider sees is what counts: the start of every send it receives."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from justdriving.adapters.memory import FakeSmsSender
from justdriving.adapters.shared_rate_limits import SharedWindowLimiter
from justdriving.adapters.sms.factory import sms_limiter
from justdriving.adapters.sms.pacing import PacedSmsSender
from justdriving.config import Settings
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from local_services import redis_url

SOFIE = PhoneNumber("+4520123456")
PER_SECOND = 8
SENDS = 3 * PER_SECOND


class ProviderClock(FakeSmsSender):
    """The provider: notes the wall-clock time each send arrives (shared by both processes)."""

    def __init__(self) -> None:
        super().__init__(name="provider")
        self.arrivals: list[float] = []
        self._lock = threading.Lock()

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        with self._lock:
            self.arrivals.append(time.time())
            return super().send(to, message)


def _busiest(arrivals: list[float], span: float) -> int:
    ordered = sorted(arrivals)
    return max(sum(1 for t in ordered if start <= t < start + span) for start in ordered)


def test_two_processes_together_keep_to_one_limit() -> None:
    url = redis_url()
    provider = ProviderClock()
    key = f"twilio-{uuid.uuid4().hex}"  # a fresh window for this run
    processes = [
        PacedSmsSender(provider, SharedWindowLimiter(url, per_window=PER_SECOND), key=key)
        for _ in range(2)
    ]
    errors: list[BaseException] = []

    def relay_thread(sender: PacedSmsSender, first: int) -> None:
        try:
            for n in range(first, SENDS, 4):
                sender.send(SOFIE, SmsMessage(body="Lektion i morgen kl. 10", reference=f"m{n}"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=relay_thread, args=(processes[n % 2], n)) for n in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    took = time.monotonic() - began

    assert not errors, errors
    assert sorted(m.reference for _, m, _ in provider.sent) == sorted(f"m{n}" for n in range(SENDS))
    # Each process alone would let PER_SECOND through a second: together, twice as many.
    # (A little under a second, for the moment between a slot and the provider's arrival.)
    assert _busiest(provider.arrivals, 0.8) <= PER_SECOND
    assert took >= (SENDS // PER_SECOND - 1) * 0.9  # three seconds' worth: two full waits


def test_without_redis_no_sms_goes_out_unpaced() -> None:
    provider = FakeSmsSender()
    limiter = SharedWindowLimiter(
        "redis://127.0.0.1:1/0", per_window=5, storage_options={"socket_connect_timeout": 1}
    )
    sender = PacedSmsSender(provider, limiter, key="twilio")

    with pytest.raises(ProviderUnavailable, match="storage cannot be reached"):
        sender.send(SOFIE, SmsMessage(body="Lektion i morgen", reference="m1"))

    assert provider.sent == []


def test_the_settings_choose_the_shared_limiter() -> None:
    url = redis_url()
    shared = Settings.from_env(
        {"SMS_RATE_LIMIT": "9", "SMS_RATE_LIMIT_STORAGE": url}, env_file=None
    )
    alone = Settings.from_env({"SMS_RATE_LIMIT": "9"}, env_file=None)

    assert isinstance(sms_limiter(shared), SharedWindowLimiter)
    assert not isinstance(sms_limiter(alone), SharedWindowLimiter)
    assert sms_limiter(Settings.from_env({}, env_file=None)) is None
