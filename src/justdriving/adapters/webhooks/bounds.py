"""Bounds on everything a webhook request carries, checked at the boundary.

No provider sends a body over MAX_BODY_BYTES, JSON nested deeper than MAX_DEPTH, a NUL or a
control character in an id, or an id longer than MAX_ID_LENGTH: such input is refused before it
can reach a parser's recursion, an integer conversion or a database column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from justdriving.domain.errors import MalformedWebhook

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ID_LENGTH = 200
MAX_TEXT_LENGTH = 4000
MAX_HEADERS = 100
MAX_HEADER_LENGTH = 8192
MAX_PATH_LENGTH = 2048
MAX_DIGITS = 12  # a Unix time in seconds until the year 33658; "9" * 20 is not one


def check_request(path: str, body: bytes, headers: Mapping[str, str]) -> None:
    """MalformedWebhook unless the request is within every bound."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedWebhook(f"the body is over {MAX_BODY_BYTES} bytes")
    if len(path) > MAX_PATH_LENGTH or "\x00" in path:
        raise MalformedWebhook("the path is too long or holds a NUL")
    if len(headers) > MAX_HEADERS:
        raise MalformedWebhook(f"more than {MAX_HEADERS} headers")
    for name, value in headers.items():
        if len(name) + len(value) > MAX_HEADER_LENGTH or "\x00" in value:
            raise MalformedWebhook("a header is too long or holds a NUL")


def load_json(body: bytes | str) -> Any:
    """The JSON document, no deeper than MAX_DEPTH; MalformedWebhook otherwise."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise MalformedWebhook("the body is not JSON within the nesting bound") from None
    if depth(document) > MAX_DEPTH:
        raise MalformedWebhook(f"the JSON is nested deeper than {MAX_DEPTH}")
    return document


def depth(document: Any) -> int:
    """How deeply lists and objects nest (a scalar is 0), without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in children)
    return deepest


def unix_digits(value: str) -> int:
    """A Unix time given as ASCII digits, at most MAX_DIGITS of them."""
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_DIGITS:
        raise MalformedWebhook("not a Unix time")
    return int(value)


def check_id(name: str, value: str | None) -> None:
    if value is None:
        return
    if len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise MalformedWebhook(f"{name} is over {MAX_ID_LENGTH} characters or not printable")


def check_text(name: str, value: Any) -> None:
    """Any text kept from a request: bounded, and no NUL (PostgreSQL stores none)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH or "\x00" in value:
            raise MalformedWebhook(f"{name} is over {MAX_TEXT_LENGTH} characters or holds a NUL")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(name, key)
            check_text(name, item)
    elif isinstance(value, list):
        for item in value:
            check_text(name, item)
