"""JSON error bodies with stable codes: `{"error": {"code": ..., "message": ...}}`.

The code is the justdriving error's `code` (or the HTTP error's name in snake case); the HTTP
status comes from `STATUS_FOR`, which gives every family of `JustDrivingError` its status
(the README's "Errors on the web" table). Nothing else reaches the client: no traceback, no
exception text of an unexpected error or of a configuration error, no internal record id. A
signature that does not verify is a 400 (the body is what is wrong, not the caller's
credentials: there is nothing to authenticate with). A provider's failure is the provider's
answer, not ours: 402 declined, 422 refused as invalid, 502 any other, 503 (with Retry-After)
unavailable; each is logged on one line without a traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from justdriving.domain.errors import (
    BookingNotAllowed,
    ConcurrencyConflict,
    ConfigurationError,
    DuplicateRecord,
    InvalidInput,
    InvalidTransition,
    JustDrivingError,
    NotFound,
    PackageExhausted,
    PayLinkExpired,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RefundExceedsCaptured,
    TeacherDoubleBooked,
    WebhookRejected,
)

log = logging.getLogger("justdriving.web")

# Checked in order: the first class the error is an instance of gives the status.
STATUS_FOR: Final[tuple[tuple[type[JustDrivingError], int], ...]] = (
    (InvalidInput, 400),  # and InvalidMoney, CurrencyMismatch, InvalidPhoneNumber, ...
    (WebhookRejected, 400),  # InvalidSignature, MalformedWebhook
    (NotFound, 404),
    (InvalidTransition, 409),
    (PaymentNotAllowed, 409),
    (PayLinkExpired, 410),
    (ConcurrencyConflict, 409),
    (DuplicateRecord, 409),
    (TeacherDoubleBooked, 409),
    (BookingNotAllowed, 409),
    (PackageExhausted, 409),
    (RefundExceedsCaptured, 409),
    (PaymentDeclined, 402),
    (ProviderRejected, 422),  # and RecipientSuppressed: sending it again will not help
    (ProviderUnavailable, 503),
    (ProviderError, 502),  # any other provider failure
    (ConfigurationError, 503),
)
INTERNAL_ERROR: Final = "internal_error"
# A provider that is down says when to come back, or we suggest this.
DEFAULT_RETRY_AFTER_SECONDS: Final = 10
CONFIGURATION_MESSAGE: Final = "this service is not configured for the request"

# Our ids are `<prefix>_<32 hex digits>` (domain.ids.new_id); never echo one back.
_INTERNAL_ID = re.compile(r"\b[a-z]+_[0-9a-f]{32}\b")


def error_body(code: str, message: str, status: int) -> Response:
    response = jsonify({"error": {"code": code, "message": _INTERNAL_ID.sub("…", message)}})
    response.status_code = status
    return response


def status_for(error: JustDrivingError) -> int | None:
    """The HTTP status of `error`'s family; None for one no family claims (a bug: 500)."""
    return next((s for kind, s in STATUS_FOR if isinstance(error, kind)), None)


def domain_error(error: JustDrivingError) -> Response:
    status = status_for(error)
    if status is None:
        return unexpected_error(error)
    _log_failure(error)
    response = error_body(error.code, _client_message(error), status)
    if isinstance(error, ProviderUnavailable):
        wait = error.retry_after or DEFAULT_RETRY_AFTER_SECONDS
        response.headers["Retry-After"] = str(max(1, round(wait)))
    return response


def _client_message(error: JustDrivingError) -> str:
    if isinstance(error, NotFound):
        return f"{error.kind} not found"
    if isinstance(error, ConfigurationError):  # names settings: for the operator's log only
        return CONFIGURATION_MESSAGE
    return str(error)


def _log_failure(error: JustDrivingError) -> None:
    """Failures that are not the caller's: one line for the operator, no traceback."""
    where = f"{request.method} {request.path}"
    if isinstance(error, ConfigurationError):
        log.error("%s on %s: %s", error.code, where, error)
    elif isinstance(error, ProviderError) and not isinstance(error, PaymentDeclined):
        log.warning(
            "%s on %s: %s (provider code %s)", error.code, where, error, error.provider_code
        )


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
