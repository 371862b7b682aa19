"""Stripe's request bodies: application/x-www-form-urlencoded with bracketed nesting.

`metadata[payment_id]=pay_1&line_items[0][quantity]=1` is `{"metadata": {"payment_id": "pay_1"},
"line_items": [{"quantity": "1"}]}`. Values stay strings, as Stripe receives them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    """The body is not a form Stripe would accept."""


def decode_form(body: bytes) -> dict[str, Any]:
    """Nested params from a form body; FormError when a key is not `name[part]…`."""
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as error:
        raise FormError(f"not a form body: {error}") from None
    params: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise FormError(f"invalid parameter name {key!r}")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _put(params, path, value)
    return {key: _listify(value) for key, value in params.items()}


def _put(target: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise FormError(f"parameter {part!r} is both a value and an object")
        target = child
    if isinstance(target.get(path[-1]), dict):
        raise FormError(f"parameter {path[-1]!r} is both a value and an object")
    target[path[-1]] = value


def _listify(node: Any) -> Any:
    """Objects whose keys are 0, 1, 2 … become lists, as Stripe reads them."""
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items
