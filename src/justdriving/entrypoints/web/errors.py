"""JSON error bodies with stable codes: `{"error": {"code": ..., "message": ...}}`.

The code is the justdriving error's `code` (or the HTTP error's name in snake case); the HTTP
status comes from `STATUS_FOR`. Nothing else reaches the client: no traceback, no exception
text of an unexpected error, no internal record id. A signature that does not verify is a 400
(the body is what is wrong, not the caller's credentials: there is nothing to authenticate with).
"""

from __future__ import annotations

import logging
import re
from typing import Final

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from justdriving.domain.errors import (
    ConcurrencyConflict,
    InvalidInput,
    InvalidSignature,
    InvalidTransition,
    JustDrivingError,
    MalformedWebhook,
    NotFound,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderUnavailable,
)

log = logging.getLogger("justdriving.web")

# Checked in order: the first class the error is an instance of gives the status.
STATUS_FOR: Final[tuple[tuple[type[JustDrivingError], int], ...]] = (
    (InvalidInput, 400),
    (MalformedWebhook, 400),
    (InvalidSignature, 400),
    (NotFound, 404),
    (InvalidTransition, 409),
    (PaymentNotAllowed, 409),
    (ConcurrencyConflict, 409),
    (PaymentDeclined, 402),
    (ProviderUnavailable, 503),
)
INTERNAL_ERROR: Final = "internal_error"

# Our ids are `<prefix>_<32 hex digits>` (domain.ids.new_id); never echo one back.
_INTERNAL_ID = re.compile(r"\b[a-z]+_[0-9a-f]{32}\b")


def error_body(code: str, message: str, status: int) -> Response:
    response = jsonify({"error": {"code": code, "message": _INTERNAL_ID.sub("…", message)}})
    response.status_code = status
    return response


def domain_error(error: JustDrivingError) -> Response:
    status = next((s for kind, s in STATUS_FOR if isinstance(error, kind)), None)
    if status is None:
        return unexpected_error(error)
    message = f"{error.kind} not found" if isinstance(error, NotFound) else str(error)
    response = error_body(error.code, message, status)
    if isinstance(error, ProviderUnavailable) and error.retry_after:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return response


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return unexpected_error(error)
    default = (error.name or "error").lower().replace(" ", "_").replace("'", "")
    code = getattr(error, "error_code", default)
    response = error_body(code, error.description or error.name, status)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # Allow on a 405, for example
    return response


def unexpected_error(error: BaseException) -> Response:
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=error)
    return error_body(INTERNAL_ERROR, "an internal error occurred", 500)


def register_json_errors(target: Flask | Blueprint) -> None:
    """Answer every error raised on `target` (an app, or only a blueprint's views) in JSON."""
    target.register_error_handler(JustDrivingError, domain_error)
    target.register_error_handler(HTTPException, http_error)
    target.register_error_handler(Exception, unexpected_error)
