"""Moments: timezone-aware times within the years the platform stores and computes with.

Every stored time lies in [1970, 3000) UTC, so adding the spans the domain uses (a lesson, a
package's validity, reminder lead times) never leaves what `datetime` can hold: a time or a
sum outside the range is refused as InvalidInput, never an OverflowError.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from justdriving.domain.errors import InvalidInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive


def check_moment(value: Any, name: str = "a time") -> datetime:
    """`value` if it is an aware datetime in [EARLIEST, LATEST); InvalidInput otherwise."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be a timezone-aware datetime")
    try:
        inside = EARLIEST <= value < LATEST
    except OverflowError:  # an offset that pushes datetime.min/max past what it can hold
        inside = False
    if not inside:
        raise InvalidInput(f"{name} must lie between the years 1970 and 2999")
    return value


def moment(_: object, attribute: Any, value: Any) -> None:
    """attrs validator: an aware datetime within the range."""
    check_moment(value, attribute.name)


def optional_moment(_: object, attribute: Any, value: Any) -> None:
    """attrs validator: None, or an aware datetime within the range."""
    if value is not None:
        check_moment(value, attribute.name)


def shifted(when: datetime, span: timedelta) -> datetime:
    """`when + span`, refused as InvalidInput when it leaves the range (never OverflowError)."""
    check_moment(when)
    if not isinstance(span, timedelta):
        raise InvalidInput("a span of time is a timedelta")
    try:
        result = when + span
    except OverflowError:
        raise InvalidInput("that time lies beyond the years 1970 to 2999") from None
    return check_moment(result)
