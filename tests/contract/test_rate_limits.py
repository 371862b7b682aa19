"""The rolling-window limiter behind Xero's limits and SMS pacing: whatever the callers do, no
more than `per_window` calls can reach the provider in any rolling window (plus the margin),
however long each call takes to arrive; no more than `concurrent` are in flight; nothing
starts during a pause. All on simulated time."""

from __future__ import annotations

import threading
import time as real_time
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.rate_limits import RollingWindowLimiter
from justdriving.testing.xero.clock import SimulatedTime

KEY = "account-1"


def most_arriving_in_one_span(calls: Sequence[tuple[float, float]], span: float) -> int:
    """The most calls (start, end) that could all arrive at the provider inside one window
    [t, t + span), each arriving at any moment between its start and its end."""
    return max(
        (sum(start < t + span and end >= t for start, end in calls) for _, t in calls),
        default=0,
    )


def most_in_one_span(starts: Sequence[float], span: float) -> int:
    """The most starts inside any half-open interval [t, t + span) of the given length."""
    ordered = sorted(starts)
    most, first = 0, 0
    for last, start in enumerate(ordered):
        while ordered[first] + span <= start:
            first += 1
        most = max(most, last - first + 1)
    return most


limits = st.fixed_dictionaries(
    {
        "per_window": st.integers(1, 6),
        "window": st.sampled_from([0.5, 1.0, 60.0]),
        "margin": st.sampled_from([0.0, 0.1, 0.5]),
    }
)
# One caller's calls: (seconds idle before the call, seconds the call takes, a pause the
# provider asked for in its answer, or None).
calls = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0, 7.0]),
        st.sampled_from([0.0, 0.0, 0.03, 0.4, 2.0]),
        st.none() | st.sampled_from([0.5, 2.0, 30.0]),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(limits=limits, calls=calls)
def test_one_caller_never_gets_more_calls_into_a_window_than_allowed_nor_starts_in_a_pause(
    limits: dict[str, float], calls: list[tuple[float, float, float | None]]
) -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(**limits, monotonic=time.monotonic, sleep=time.sleep)  # type: ignore[arg-type]
    made: list[tuple[float, float]] = []
    paused_until = 0.0
    for idle, duration, pause in calls:
        time.advance(idle)
        with limiter.call(KEY):
            start = time.monotonic()
            assert start >= paused_until
            time.advance(duration)
            if pause is not None:
                limiter.pause(KEY, pause)
                paused_until = max(paused_until, time.monotonic() + pause)
        made.append((start, time.monotonic()))
    span = limits["window"] + limits["margin"]
    assert most_arriving_in_one_span(made, span) <= limits["per_window"]


def test_a_slow_answer_counts_from_when_it_came() -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(
        per_window=1, window=1.0, monotonic=time.monotonic, sleep=time.sleep
    )
    with limiter.call(KEY):
        time.advance(0.3)  # the provider may count the call as late as this
    with limiter.call(KEY):
        assert time.monotonic() == 1.3


def test_a_call_waits_only_as_long_as_the_window_needs() -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(
        per_window=3, window=1.0, margin=0.25, monotonic=time.monotonic, sleep=time.sleep
    )
    starts = []
    for _ in range(7):
        with limiter.call(KEY):
            starts.append(time.monotonic())
    assert starts == [0, 0, 0, 1.25, 1.25, 1.25, 2.5]
    assert limiter.waits(KEY) == 2


# Several callers (threads) sharing one limiter: each call holds its slot for real work at one
# simulated instant, so that threads overlap and the concurrency limit is what holds them back.
@settings(max_examples=40, deadline=None)
@given(
    limits=limits,
    concurrent=st.none() | st.integers(1, 3),
    callers=st.lists(
        st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.7, 3.0]), min_size=1, max_size=8),
        min_size=1,
        max_size=5,
    ),
)
def test_threads_sharing_a_limiter_stay_inside_the_window_and_the_concurrency_limit(
    limits: dict[str, float], concurrent: int | None, callers: list[list[float]]
) -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(
        **limits,  # type: ignore[arg-type]
        concurrent=concurrent,
        monotonic=time.monotonic,
        sleep=time.sleep,
    )
    lock = threading.Lock()
    starts: list[float] = []
    in_flight, peak = 0, 0

    def caller(idles: list[float]) -> None:
        nonlocal in_flight, peak
        for idle in idles:
            time.sleep(idle)
            with limiter.call(KEY):
                with lock:
                    starts.append(time.monotonic())
                    in_flight += 1
                    peak = max(peak, in_flight)
                real_time.sleep(0.001)  # the provider call: real work, no simulated time
                with lock:
                    in_flight -= 1

    time.run_together([lambda idles=idles: caller(idles) for idles in callers])  # type: ignore[misc]
    assert len(starts) == sum(len(idles) for idles in callers)
    assert most_in_one_span(starts, limits["window"] + limits["margin"]) <= limits["per_window"]
    if concurrent is not None:
        assert peak <= concurrent


def test_keys_are_paced_apart() -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(
        per_window=1, window=1.0, monotonic=time.monotonic, sleep=time.sleep
    )
    with limiter.call("a"), limiter.call("b"):
        pass
    assert time.monotonic() == 0
    assert limiter.waits("a") == limiter.waits("b") == 0


def test_a_pause_for_one_key_holds_back_only_that_key() -> None:
    time = SimulatedTime()
    limiter = RollingWindowLimiter(
        per_window=10, window=1.0, monotonic=time.monotonic, sleep=time.sleep
    )
    limiter.pause("a", 5)
    with limiter.call("b"):
        assert time.monotonic() == 0
    with limiter.call("a"):
        assert time.monotonic() == 5


@pytest.mark.parametrize(
    "limits",
    [
        {"per_window": 0, "window": 1.0},
        {"per_window": 1, "window": 0.0},
        {"per_window": 1, "window": 1.0, "concurrent": 0},
    ],
)
def test_the_limiter_refuses_limits_that_let_nothing_through(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RollingWindowLimiter(**limits)  # type: ignore[arg-type]


def test_the_limiter_refuses_a_negative_margin() -> None:
    with pytest.raises(ValueError, match="margin"):
        RollingWindowLimiter(per_window=1, window=1.0, margin=-0.1)
