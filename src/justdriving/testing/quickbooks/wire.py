"""The QuickBooks simulator's HTTP side: recorded requests, JSON answers and Faults, what
the server calls with each request, and the sliding windows that make it answer 429 the way
QuickBooks throttles a company."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from attrs import frozen

from justdriving.testing import wire
from justdriving.testing.local_server import Serve
from justdriving.testing.wire import ApiReply

if TYPE_CHECKING:
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator


@frozen
class RecordedRequest(wire.RecordedRequest):
    @property
    def request_id(self) -> str | None:
        return self.param("requestid")


def answer(status: int, payload: Any, **headers: str) -> ApiReply:
    """JSON as QuickBooks writes it: amounts as plain numbers."""
    return ApiReply.json_text(status, _dumps(payload), **headers)


def fault(status: int, code: str, message: str, kind: str, **headers: str) -> ApiReply:
    """QuickBooks' Fault envelope."""
    error = {"Message": message, "Detail": message, "code": code}
    return answer(status, {"Fault": {"Error": [error], "type": kind}}, **headers)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, default=_number)


def _number(value: object) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class Windows:
    """Sliding windows of admitted calls: (limit, seconds) pairs."""

    def __init__(self, *limits: tuple[int, float]) -> None:
        self._limits = limits
        self._calls: deque[float] = deque()

    def wait(self, now: float) -> float:
        """0 when one more call fits now, else the seconds until it does."""
        longest = max(seconds for _, seconds in self._limits)
        while self._calls and self._calls[0] <= now - longest:
            self._calls.popleft()
        waits = [0.0]
        for limit, seconds in self._limits:
            recent = [t for t in self._calls if t > now - seconds]
            if len(recent) >= limit:
                waits.append(recent[-limit] + seconds - now)
        return max(waits)

    def admit(self, now: float) -> None:
        self._calls.append(now)


def serve(simulator: QuickBooksSimulator) -> Serve:
    """What the simulator's server calls with each request."""

    def answer(
        method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply:
        return simulator.handle(RecordedRequest(method, path, query, headers, body))

    return answer
