"""What a provider's rate limit asks for: the Retry-After header, in seconds."""

from __future__ import annotations

import math


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After given as delta-seconds; an HTTP date or garbage gives None, and the relay
    falls back to its own backoff rather than trusting a clock it cannot compare."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
