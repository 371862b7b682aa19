"""A frozen clock that tests move by hand (the real one is adapters/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from justdriving.domain.errors import InvalidInput


def _aware_utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidInput("a clock keeps timezone-aware times only")
    return moment.astimezone(UTC)


class FrozenClock:
    """Stands still at `now` until told otherwise; refuses naive datetimes."""

    def __init__(self, now: datetime) -> None:
        self._now = _aware_utc(now)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> datetime:
        """Move forward (or back, with a negative delta) and return the new time."""
        self._now = self._now + by
        return self._now

    def set(self, now: datetime) -> datetime:
        self._now = _aware_utc(now)
        return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
