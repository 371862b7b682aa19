"""PacedSmsSender: any SMS sender behind the client-side rate limit (SMS_RATE_LIMIT). It passes
results and errors through unchanged, holds every send back after a 429 with Retry-After, and
paces a burst to the configured rate. On simulated time."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import FakeSmsSender
from justdriving.adapters.rate_limits import RollingWindowLimiter
from justdriving.adapters.sms.pacing import MARGIN, WINDOW, PacedSmsSender, sms_limiter
from justdriving.domain.errors import (
    JustDrivingError,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.testing.xero.clock import SimulatedTime

SOFIE = PhoneNumber("+4520123456")


def an_sms(n: int = 1) -> SmsMessage:
    return SmsMessage(body="Your lesson is tomorrow at 10:00.", reference=f"msg_{n}")


class TimedSms(FakeSmsSender):
    """The fake sender, also noting the simulated time of every send it receives."""

    def __init__(self, time: SimulatedTime) -> None:
        super().__init__(name="timed")
        self.times: list[float] = []
        self._time = time

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        self.times.append(self._time.monotonic())
        return super().send(to, message)


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime()


@pytest.fixture
def provider(time: SimulatedTime) -> TimedSms:
    return TimedSms(time)


def paced(provider: FakeSmsSender, time: SimulatedTime, per_second: int = 100) -> PacedSmsSender:
    limiter = RollingWindowLimiter(
        per_window=per_second,
        window=WINDOW,
        margin=MARGIN,
        monotonic=time.monotonic,
        sleep=time.sleep,
    )
    return PacedSmsSender(provider, limiter, key="account")


def test_the_paced_sender_is_the_inner_sender_by_name_and_by_receipt(
    provider: TimedSms, time: SimulatedTime
) -> None:
    sender = paced(provider, time)
    receipt = sender.send(SOFIE, an_sms())
    assert sender.name == provider.name == receipt.provider
    assert [(to, message, sent) for to, message, sent in provider.sent] == [
        (SOFIE, an_sms(), receipt)
    ]


@pytest.mark.parametrize(
    "error",
    [
        RecipientSuppressed("timed", "opted out", provider_code="opted_out"),
        ProviderRejected("timed", "not a mobile number", provider_code="21614"),
        ProviderUnavailable("timed", "timed out; may have been sent", possibly_done=True),
        ProviderUnavailable("timed", "could not connect; nothing sent"),
    ],
    ids=["suppressed", "rejected", "possibly-sent", "unreachable"],
)
def test_errors_pass_through_unchanged_and_hold_nothing_back(
    provider: TimedSms, time: SimulatedTime, error: JustDrivingError
) -> None:
    sender = paced(provider, time)
    provider.fail_next(error)
    with pytest.raises(type(error)) as raised:
        sender.send(SOFIE, an_sms(1))
    assert raised.value is error
    sender.send(SOFIE, an_sms(2))
    assert time.monotonic() == 0


def test_a_429_with_retry_after_holds_back_every_send_until_then(
    provider: TimedSms, time: SimulatedTime
) -> None:
    sender = paced(provider, time)
    other_thread = PacedSmsSender(provider, sender.limiter, key="account")  # the same limiter
    throttled = ProviderUnavailable("timed", "rate limited", provider_code="429", retry_after=30)
    provider.fail_next(throttled)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms(1))
    assert raised.value is throttled  # the relay retries the message later, as without pacing
    other_thread.send(SOFIE, an_sms(2))
    assert provider.times[-1] == 30
    assert sender.limiter.waits("account") == 1


def test_a_burst_goes_out_at_the_configured_rate(provider: TimedSms, time: SimulatedTime) -> None:
    sender = paced(provider, time, per_second=100)
    for n in range(250):
        sender.send(SOFIE, an_sms(n))
    span = WINDOW + MARGIN
    assert provider.times[:100] == [0] * 100
    assert provider.times[100:200] == [pytest.approx(span)] * 100
    assert provider.times[200:] == [pytest.approx(2 * span)] * 50
    assert len(provider.sent) == 250


def test_relay_threads_sharing_the_limiter_share_the_rate(time: SimulatedTime) -> None:
    provider = TimedSms(time)
    sender = paced(provider, time, per_second=10)

    def relay(first: int) -> None:
        for n in range(first, first + 15):
            sender.send(SOFIE, an_sms(n))

    time.run_together([lambda first=first: relay(first) for first in (0, 100, 200, 300)])  # type: ignore[misc]
    span = WINDOW + MARGIN
    assert len(provider.times) == 60
    for start in provider.times:
        assert sum(start <= t < start + span for t in provider.times) <= 10
    assert max(provider.times) == pytest.approx(5 * span)  # 60 sends at 10 a window: 6 windows


def test_closing_the_paced_sender_closes_the_inner_one() -> None:
    class Closable(FakeSmsSender):
        closed = False

        def close(self) -> None:
            self.closed = True

    inner = Closable()
    PacedSmsSender(inner, sms_limiter(5)).close()
    assert inner.closed
    PacedSmsSender(FakeSmsSender(), sms_limiter(5)).close()  # nothing to close: fine


def test_the_key_defaults_to_the_providers_name() -> None:
    assert PacedSmsSender(FakeSmsSender(name="twilio"), sms_limiter(5)).key == "twilio"


def test_the_process_limiter_allows_the_rate_per_second_with_the_margin() -> None:
    limiter = sms_limiter(40)
    assert (limiter.per_window, limiter.window, limiter.margin) == (40, WINDOW, MARGIN)
    assert limiter.concurrent is None  # pacing only; the relay's threads bound concurrency
