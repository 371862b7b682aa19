"""The QuickBooks pacer: 10 calls a second, 500 a minute, 40 batches a minute, held by a 429."""

from __future__ import annotations

import pytest

from justdriving.adapters.accounting.quickbooks.limits import RequestPacer, SlidingWindow


class Ticker:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.seconds += seconds


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


def calls(pacer: RequestPacer, n: int, *, batch: bool) -> None:
    for _ in range(n):
        with pacer.call(batch=batch):
            pass


def test_a_window_frees_a_slot_when_the_oldest_event_is_a_period_old() -> None:
    window = SlidingWindow(2, 1.0)
    window.record(10.0)
    window.record(10.5)
    assert window.wait(10.6) == pytest.approx(0.4)
    assert window.wait(11.0) == 0.0


def test_ten_calls_a_second_go_at_once_and_the_eleventh_waits(ticker: Ticker) -> None:
    pacer = RequestPacer(monotonic=ticker, sleep=ticker.sleep)
    calls(pacer, 10, batch=False)
    assert ticker.slept == []
    calls(pacer, 1, batch=False)
    assert ticker.slept == [1.0]


def test_five_hundred_calls_a_minute_at_most(ticker: Ticker) -> None:
    pacer = RequestPacer(monotonic=ticker, sleep=ticker.sleep, per_second=1000)
    calls(pacer, 501, batch=False)
    assert ticker.seconds == 60.0


def test_forty_batches_a_minute_at_most(ticker: Ticker) -> None:
    pacer = RequestPacer(monotonic=ticker, sleep=ticker.sleep)
    calls(pacer, 41, batch=True)
    assert ticker.seconds == 60.0
    calls(pacer, 9, batch=False)  # other calls count against the general windows only
    assert ticker.seconds == 60.0


def test_a_hold_delays_every_next_call(ticker: Ticker) -> None:
    pacer = RequestPacer(monotonic=ticker, sleep=ticker.sleep)
    pacer.hold(5)
    calls(pacer, 1, batch=False)
    assert ticker.slept == [5.0]
