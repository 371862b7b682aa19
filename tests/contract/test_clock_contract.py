"""Clocks: 'now' is always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.domain.errors import InvalidInput
from justdriving.ports.clock import Clock


def test_now_is_timezone_aware_and_in_utc(clock: Clock) -> None:
    now = clock.now()
    assert now.utcoffset() == timedelta(0)
    assert now.tzinfo is UTC


def test_now_never_goes_backwards_by_itself(clock: Clock) -> None:
    first = clock.now()
    assert clock.now() >= first


def test_a_frozen_clock_stands_still_until_advanced_or_set() -> None:
    start = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    clock = FrozenClock(start)
    assert clock.now() == clock.now() == start
    assert clock.advance(timedelta(minutes=5)) == start + timedelta(minutes=5)
    assert clock.now() == start + timedelta(minutes=5)
    clock.set(start - timedelta(days=1))
    assert clock.now() == start - timedelta(days=1)


def test_a_frozen_clock_keeps_other_offsets_as_the_same_instant_in_utc() -> None:
    copenhagen = datetime(2025, 3, 14, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    clock = FrozenClock(copenhagen)
    assert clock.now() == copenhagen
    assert clock.now().tzinfo is UTC


def test_a_frozen_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidInput):
        FrozenClock(datetime(2025, 3, 14, 9, 0))
    clock = FrozenClock(datetime(2025, 3, 14, 9, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput):
        clock.set(datetime(2025, 3, 14, 9, 0))
