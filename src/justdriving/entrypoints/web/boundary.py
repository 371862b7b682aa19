"""What every request to justdriving's routes must be before a view sees it, and what input
that still breaks a parser or the database answers (400, never a 5xx).

`check_request` (a `before_request` of the blueprint) refuses, with 400 and before anything is
parsed or stored:
- a NUL character anywhere in the path or the query string, and in the body (raw, `%00` or a
  JSON `\\u0000`): PostgreSQL cannot store one in text;
- a body nested deeper than MAX_DEPTH brackets (JSON parsers recurse, and fail on deep input).

Provider callbacks (`/webhook/...`) are the exception for the body: their receivers verify the
signature first and bound what they parse after (`adapters/webhooks/bounds.py`), so a signed
event that can never be used is kept as rejected and acknowledged — a 400 would have the
provider deliver it again for days.

`register_malformed_input` maps what a parser or the database still raises on hostile input
that passed the checks (a signed event with an id longer than its column, a timestamp beyond
any date, nesting inside a header) to 400 `malformed_input`: the transaction is rolled back, so
nothing is stored, and a provider stops retrying an event that can never be taken.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from flask import Blueprint, Response, request

from justdriving.entrypoints.web.errors import error_body
from justdriving.entrypoints.web.webhook_routes import WEBHOOK_BLUEPRINT

log = logging.getLogger("justdriving.web")

MAX_DEPTH: Final = 64
_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NUL_IN_BODY: Final = re.compile(rb"\x00|\\u0000|%00", re.IGNORECASE)
_JSON_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET: Final = bytes(b for b in range(256) if b not in b"[]{}")


def check_request() -> Response | None:
    if "\x00" in request.path or b"%00" in request.query_string.lower():
        return error_body("malformed_input", "the request holds a NUL character", 400)
    if request.method in _WITH_BODY and not _provider_callback():
        body = request.get_data(cache=True)  # the view reads it again from the cache
        if _NUL_IN_BODY.search(body):
            return error_body("malformed_input", "the body holds a NUL character", 400)
        if too_deep(body):
            return error_body(
                "malformed_input", f"the body is nested deeper than {MAX_DEPTH} levels", 400
            )
    return None


def _provider_callback() -> bool:
    return (request.blueprint or "").endswith(WEBHOOK_BLUEPRINT)


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether `body` opens more than `limit` brackets at once (outside JSON strings)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def malformed_input(error: Exception) -> Response:
    log.warning("malformed input on %s %s: %s", request.method, request.path, type(error).__name__)
    return error_body("malformed_input", "the request holds a value that cannot be taken", 400)


def register_malformed_input(blueprint: Blueprint, *, sql: bool = True) -> None:
    """`sql`: the app stores in a SQL database, whose driver may refuse a value (DataError);
    without one SQLAlchemy is not imported at all."""
    blueprint.before_request(check_request)
    kinds: list[type[Exception]] = [RecursionError, OverflowError]
    if sql:
        from sqlalchemy.exc import DataError

        kinds.append(DataError)
    for kind in kinds:
        blueprint.register_error_handler(kind, malformed_input)
