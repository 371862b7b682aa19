"""Xero's rate limits: the XeroRateLimiter's pacing, the adapter's answer to a 429 (minute: wait
and send the same request again; day: stop cleanly), and the simulated clock they run on."""

from __future__ import annotations

import threading
import time as real_time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.limits import MARGIN, XeroRateLimiter
from justdriving.domain.accounting import AccountingContact
from justdriving.domain.errors import ProviderUnavailable
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator

START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
TENANT = "tenant-1"


def student(n: int) -> AccountingContact:
    return AccountingContact(f"stu_{n}", f"Student {n}")


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime(START)


def adapter_for(
    xero: XeroSimulator, time: SimulatedTime, limiter: XeroRateLimiter
) -> XeroAccountingClient:
    return XeroAccountingClient(
        xero.client_id,
        xero.client_secret,
        xero.tenant_id,
        RecordingGrants(xero.grant()),
        api_base=xero.base_url,
        identity_base=xero.base_url,
        clock=time.now,
        limiter=limiter,
    )


# The adapter and Xero's 429s.


@pytest.fixture
def strict_xero(time: SimulatedTime) -> Iterator[XeroSimulator]:
    """Two calls a minute and three a day, so that a test reaches both limits quickly."""
    with XeroSimulator(clock=time.now, per_minute=2, per_day=3) as simulator:
        yield simulator


def test_a_minute_limit_is_waited_out_and_the_same_request_sent_again(
    strict_xero: XeroSimulator, time: SimulatedTime
) -> None:
    # Our limiter believes in 60 a minute (another process shares the organisation, say).
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    adapter = adapter_for(strict_xero, time, limiter)
    adapter.upsert_contacts([student(1)], "key_1")
    time.advance(10)
    adapter.upsert_contacts([student(2)], "key_2")
    [result] = adapter.upsert_contacts([student(3)], "key_3")
    assert result.ok
    third = strict_xero.requests_to("/Contacts")[2:]
    assert [r.idempotency_key for r in third] == ["key_3", "key_3"]
    assert strict_xero.quota.throttled["minute"] == 1
    # Retry-After was 50 s (the first call leaves the window at 60 s); nothing sooner was sent.
    assert (third[1].at - third[0].at).total_seconds() == 50
    assert strict_xero.count("contacts") == 3


def test_a_day_limit_stops_with_the_time_to_xeros_reset(
    strict_xero: XeroSimulator, time: SimulatedTime
) -> None:
    adapter = adapter_for(strict_xero, time, XeroRateLimiter(monotonic=time.monotonic))
    for n in range(3):
        adapter.upsert_contacts([student(n)], f"key_{n}")
        time.advance(60)
    with pytest.raises(ProviderUnavailable) as stopped:
        adapter.upsert_contacts([student(9)], "key_9")
    assert stopped.value.provider_code == "daily_limit"
    assert stopped.value.retry_after == 24 * 3600 - 180
    assert not stopped.value.possibly_done
    assert len(strict_xero.requests_to("/Contacts")) == 4  # not retried in-process


def test_a_minute_limit_that_does_not_lift_gives_up_with_retry_after(
    time: SimulatedTime,
) -> None:
    frozen = SimulatedTime(START)  # Xero's clock: its window never moves on
    with XeroSimulator(clock=frozen.now, per_minute=1) as xero:
        limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
        adapter = adapter_for(xero, frozen, limiter)
        adapter.upsert_contacts([student(1)], "key_1")
        with pytest.raises(ProviderUnavailable) as stopped:
            adapter.upsert_contacts([student(2)], "key_2")
    assert stopped.value.provider_code == "minute_limit"
    assert stopped.value.retry_after == 60
    assert xero.quota.throttled["minute"] == 5


# The limiter.


def test_the_sixty_first_call_waits_for_the_first_to_leave_the_minute(
    time: SimulatedTime,
) -> None:
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    starts = []
    for _ in range(61):
        with limiter.call(TENANT):
            starts.append(time.monotonic())
        time.advance(0.5)
    assert starts[59] == 29.5
    assert starts[60] == 60 + MARGIN  # not at 30: the first call counts until then
    assert limiter.waits(TENANT) == 1


def test_tenants_are_paced_apart(time: SimulatedTime) -> None:
    limiter = XeroRateLimiter(per_minute=1, monotonic=time.monotonic, sleep=time.sleep)
    with limiter.call("a"), limiter.call("b"):
        pass
    assert time.monotonic() == 0


def test_a_pause_holds_back_every_call_to_the_tenant(time: SimulatedTime) -> None:
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    limiter.pause(TENANT, 30)
    with limiter.call(TENANT):
        assert time.monotonic() == 30


def test_at_most_five_calls_are_in_flight(time: SimulatedTime) -> None:
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    in_flight, peak, lock = 0, 0, threading.Lock()

    def call() -> None:
        nonlocal in_flight, peak
        with limiter.call(TENANT):
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            real_time.sleep(0.02)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 5


def test_the_limiter_refuses_nonsense_limits() -> None:
    with pytest.raises(ValueError, match="positive"):
        XeroRateLimiter(concurrent=0)


# Simulated time.


def test_a_lone_sleeper_moves_time_by_itself(time: SimulatedTime) -> None:
    time.sleep(90)
    assert time.now() == START.replace(minute=1, second=30)
    assert time.slept == 90


def test_threads_taking_part_wake_in_order_of_their_sleeps(time: SimulatedTime) -> None:
    woke: list[tuple[str, float]] = []

    def sleeper(name: str, seconds: float) -> None:
        time.sleep(seconds)
        woke.append((name, time.monotonic()))
        time.sleep(seconds)
        woke.append((name, time.monotonic()))

    time.run_together([lambda: sleeper("a", 30), lambda: sleeper("b", 45)])
    assert woke == [("a", 30), ("b", 45), ("a", 60), ("b", 90)]


def test_time_waits_for_a_thread_that_is_still_working(time: SimulatedTime) -> None:
    seen: list[float] = []

    def worker() -> None:
        real_time.sleep(0.05)  # real work, at one simulated instant
        seen.append(time.monotonic())

    time.run_together([worker, lambda: time.sleep(60)])
    assert seen == [0]
    assert time.monotonic() == 60


def test_an_error_in_a_thread_reaches_the_caller(time: SimulatedTime) -> None:
    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        time.run_together([fail, lambda: time.sleep(5)])
    assert time.monotonic() == 5
