"""The QuickBooks simulator's HTTP side: recorded requests, answers, a request handler class,
and the sliding windows that make it answer 429 the way QuickBooks throttles a company."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from attrs import field, frozen

from justdriving.testing.local_server import KeptAliveHandler

if TYPE_CHECKING:
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator


@frozen
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = parse_qs(self.query).get(name)
        return values[0] if values else None

    @property
    def request_id(self) -> str | None:
        return self.param("requestid")

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal) if self.body else None


@frozen
class Answer:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Answer:
        content = json.dumps(payload, default=_number).encode()
        return cls(status, content, {"Content-Type": "application/json", **headers})

    @classmethod
    def fault(cls, status: int, code: str, message: str, kind: str, **headers: str) -> Answer:
        error = {"Message": message, "Detail": message, "code": code}
        return cls.json(status, {"Fault": {"Error": [error], "type": kind}}, **headers)


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


def handler(simulator: QuickBooksSimulator) -> type[KeptAliveHandler]:
    class Handler(KeptAliveHandler):
        def serve(
            self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
        ) -> Answer:
            return simulator.handle(RecordedRequest(method, path, query, headers, body))

    return Handler
