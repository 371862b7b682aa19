"""The PayPal simulator's catalogue of errors, taken from PayPal's own OpenAPI documents.

fixtures/errors.json is written by scripts/paypal_error_catalogue.py from the Orders v2
and Payments v2 documents (tests/specs/paypal/, Apache-2.0): for each HTTP status the error
`name` and `message` PayPal answers with, for each operation the detail `issue`s it may answer
and each issue's `description`, and the `status_details.reason`s a capture, refund or
authorization may carry. A test checks the file against the documents.

    body(422, "INSTRUMENT_DECLINED")   # {"name": "UNPROCESSABLE_ENTITY", "message": ..., ...}
    issues("POST /v2/checkout/orders/{id}/capture", 422)   # the issues a test may inject
"""

from __future__ import annotations

import json
import re
import secrets
import string
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["body", "check_reason", "issues", "operation", "reasons", "statuses"]

# Not in PayPal's documents (they list no 429), from PayPal's "Rate limiting" guide.
RATE_LIMITED = {
    "name": "RATE_LIMIT_REACHED",
    "message": "Too many requests. Blocked due to rate limiting.",
}


@cache
def _catalogue() -> dict[str, Any]:
    folder = resources.files("justdriving.testing.paypal").joinpath("fixtures")
    return dict(json.loads(folder.joinpath("errors.json").read_text(encoding="utf-8")))


def statuses() -> dict[int, dict[str, str]]:
    """Each documented error status: PayPal's `name` and `message` for it."""
    documented = {int(status): dict(error) for status, error in _catalogue()["statuses"].items()}
    return documented | {429: dict(RATE_LIMITED)}


def issues(operation: str, status: int) -> dict[str, str]:
    """The detail issues `operation` ("POST /v2/checkout/orders") documents for `status`."""
    return dict(_catalogue()["operations"].get(operation, {}).get(str(status), {}))


def reasons(kind: str) -> list[str]:
    """The `status_details.reason`s a `capture`, `refund` or `authorization` may carry."""
    return list(_catalogue()["reasons"].get(kind, []))


def check_reason(kind: str, reason: str | None) -> str | None:
    """`reason`, if PayPal's documents allow it for `kind`; ValueError otherwise."""
    if reason is not None and reason not in reasons(kind):
        raise ValueError(f"PayPal's {kind} has no reason {reason!r}; one of {reasons(kind)}")
    return reason


def operation(method: str, path: str) -> str:
    """The documents' name of the operation a request calls ("" when none matches)."""
    for name in _catalogue()["operations"]:
        verb, _, template = name.partition(" ")
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if verb == method.upper() and re.fullmatch(pattern, path):
            return str(name)
    return ""


def _description(issue: str, status: int, called: str) -> str:
    documented = issues(called, status).get(issue)
    if documented:
        return documented
    for by_status in _catalogue()["operations"].values():
        for listed in by_status.values():
            if listed.get(issue):
                return str(listed[issue])
    return ""


def body(
    status: int, issue: str | None = None, description: str = "", called: str = ""
) -> dict[str, Any]:
    """PayPal's error body for `status`: its name and message, a debug_id, and the issue with
    the description the operation `called` documents for it (or `description` where the
    documents leave it free)."""
    error = statuses().get(status) or statuses()[500 if status >= 500 else 400]
    answer: dict[str, Any] = {**error, "debug_id": _debug_id()}
    if issue is not None:
        text = _description(issue, status, called) or description
        answer["details"] = [{"issue": issue, "description": text}]
    return answer


def _debug_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(13))
