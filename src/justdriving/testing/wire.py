"""What every simulator writes on the wire: a reply (status, body, headers), and a request as
the simulator read it. Provider packages add their own constructors and request accessors."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from attrs import field, frozen

__all__ = ["ApiReply", "Delivery", "InjectedFailures", "RecordedRequest"]

# A webhook delivery as a simulator builds it: the body and the signed headers.
Delivery = tuple[bytes, dict[str, str]]


@frozen
class ApiReply:
    """An HTTP answer: status, body and headers; `retry_after` seconds for a throttled one."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(factory=dict)
    retry_after: float | None = None

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> ApiReply:
        """`payload` as JSON."""
        return cls.json_text(status, json.dumps(payload), **headers)

    @classmethod
    def json_text(cls, status: int, text: str, **headers: str) -> ApiReply:
        """JSON a provider's own encoder wrote (its number format)."""
        return cls(status, text.encode(), {"Content-Type": "application/json", **headers})


@frozen
class RecordedRequest:
    """A request as a simulator read it, kept for the test's assertions."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def params(self) -> dict[str, str]:
        """The query string, the last value of each name."""
        return {name: values[-1] for name, values in parse_qs(self.query).items()}

    def param(self, name: str) -> str | None:
        """The first value of `name` in the query string."""
        values = parse_qs(self.query).get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The body as JSON, numbers with a fraction as Decimal (ValueError if it is not JSON)."""
        return json.loads(self.body, parse_float=Decimal)


class InjectedFailures:
    """The failures a test queued for the next requests, in order: an error answer, or a lost
    answer (the request is served, then the connection dropped before the reply)."""

    def __init__(self) -> None:
        self._queue: deque[ApiReply | None] = deque()

    def fail(self, status: int, payload: Any, retry_after: float | None = None) -> None:
        """The next request is answered `status` with `payload` (JSON), nothing served."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self._queue.append(ApiReply.json(status, payload, **headers))

    def lose(self) -> None:
        self._queue.append(None)

    def answer(
        self, serve: Callable[[], ApiReply], heard: Callable[[int], None]
    ) -> ApiReply | None:
        """The next queued failure, or what `serve` answers (None: lost on the way back);
        `heard` is told the status either way."""
        lose = False
        if self._queue:
            injected = self._queue.popleft()
            if injected is not None:
                heard(injected.status)
                return injected
            lose = True
        reply = serve()
        heard(reply.status)
        return None if lose else reply
