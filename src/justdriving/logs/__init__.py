"""Logging: structlog, one event per line, redacted before output.

``configure_logging(settings)`` is an entrypoint-level concern: only the entrypoints and the
container call it. It sets up structlog (JSON when LOG_FORMAT=json, readable lines when
LOG_FORMAT=console) and routes the standard library's logging (which the adapters and
entrypoints use) through the same processors, so every line, from either side, carries the
bound correlation ids (``bind_request``, ``bind_ids``) and passes the ``Redactor`` last before
rendering: secret values, secret-named fields, keys, tokens, Authorization values and card
numbers never appear; phone numbers and email addresses are masked.

structlog (and what it brings: rich, for its console renderer) is imported when logging is
configured or an id first bound, not with this module: creating an app does not load it.
"""

from __future__ import annotations

from justdriving.logs.redaction import (
    MIN_SECRET_LENGTH,
    REDACTED,
    Redactor,
    is_secret_field,
    mask_email,
    mask_phone,
    redact,
    secret_values,
)
from justdriving.logs.setup import (
    bind_ids,
    bind_request,
    configure_logging,
    configure_logging_from_env,
)

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Redactor",
    "bind_ids",
    "bind_request",
    "configure_logging",
    "configure_logging_from_env",
    "is_secret_field",
    "mask_email",
    "mask_phone",
    "redact",
    "secret_values",
]
