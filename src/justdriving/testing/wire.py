"""What every simulator writes on the wire: a reply (status, body, headers), and a request as
the simulator read it. Provider packages add their own constructors and request accessors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from attrs import field, frozen

__all__ = ["ApiReply", "RecordedRequest"]


@frozen
class ApiReply:
    """An HTTP answer: status, body and headers; `retry_after` seconds for a throttled one."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(factory=dict)
    retry_after: float | None = None

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        encode: Callable[[Any], str] = json.dumps,
        **headers: str,
    ) -> ApiReply:
        """`payload` as JSON (through `encode`, for a provider's own number format)."""
        body = encode(payload).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})


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
        """The body as JSON, numbers with a fraction as Decimal; None for no body."""
        return json.loads(self.body, parse_float=Decimal) if self.body else None
