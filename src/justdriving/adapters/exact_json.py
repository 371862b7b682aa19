"""JSON with amounts as exact decimal numbers, both ways: Decimal out, Decimal in, never float."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_NUMBER_MARK = "\x00"
_MARKED = re.compile(r'"\\u0000(-?\d+(?:\.\d+)?)"')


def encode(body: Any) -> bytes:
    """JSON with every Decimal as an exact number (json would refuse them, float would round)."""

    def mark(value: object) -> str:
        if isinstance(value, Decimal) and value.is_finite():
            return f"{_NUMBER_MARK}{value:f}"
        raise TypeError(f"cannot send {type(value).__name__} as JSON")

    text = json.dumps(body, default=mark, ensure_ascii=True)
    return _MARKED.sub(r"\1", text).encode()


def decode(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal)
