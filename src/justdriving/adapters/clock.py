"""The system's clock, in UTC: what production runs on (tests use memory.FrozenClock)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
