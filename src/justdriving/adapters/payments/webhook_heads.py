"""The id and type of a verified JSON event, read without translating it: all the request path
needs to store a delivery once (QUEUE_BACKEND=worker); the worker translates it later."""

from __future__ import annotations

import json
from typing import Any

from justdriving.domain.errors import UnusableWebhook
from justdriving.ports.webhooks import WebhookHead

# What translating a verified body may raise, besides MalformedWebhook, on a body it was not
# written for: read_webhook makes each UnusableWebhook.
READ_ERRORS = (ValueError, TypeError, KeyError, AttributeError, RecursionError)


def json_object(body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object; UnusableWebhook (signed, unusable) otherwise."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise UnusableWebhook("the body is not JSON") from None
    if not isinstance(event, dict):
        raise UnusableWebhook("the body is not a JSON object")
    return event


def json_head(body: bytes, id_key: str, type_key: str) -> WebhookHead:
    """`WebhookHead(event[id_key], event[type_key])`: both strings, the id not empty."""
    event = json_object(body)
    event_id, event_type = event.get(id_key), event.get(type_key)
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise UnusableWebhook(f"an event needs a string {id_key} and {type_key}")
    return WebhookHead(event_id, event_type)
