"""What the SendGrid simulator checks in a v3 mail send body, and what it keeps of one.

The rules are SendGrid's documented ones that an adapter can break: at least one
personalization with a `to`, a `from` email, a subject, content with text/plain before
text/html, string custom_args and headers (none of the reserved ones), base64 attachments
with a filename. A broken rule is a 400 with SendGrid's `{"errors": [...]}` body.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from attrs import frozen

RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)


class MailError(Exception):
    """A rule the body breaks: SendGrid's message and the field it names."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field

    def envelope(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "field": self.field}]}


@frozen
class SentMail:
    """One accepted mail send: the id SendGrid gave it and the body it was asked to send."""

    message_id: str
    body: Mapping[str, Any]
    sandbox: bool = False

    @property
    def to(self) -> str:
        return str(self.body["personalizations"][0]["to"][0]["email"])

    @property
    def subject(self) -> str:
        return str(self.body.get("subject") or self.body["personalizations"][0]["subject"])

    @property
    def custom_args(self) -> dict[str, str]:
        return dict(self.body.get("custom_args") or {})

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.body.get("headers") or {})

    @property
    def content_types(self) -> list[str]:
        return [str(part["type"]) for part in self.body["content"]]

    def attachment(self, filename: str) -> bytes:
        for attachment in self.body.get("attachments") or ():
            if attachment["filename"] == filename:
                return base64.b64decode(attachment["content"])
        raise KeyError(filename)


def check_mail(body: Any) -> None:
    """Return when `body` is a mail send SendGrid would accept; MailError otherwise."""
    if not isinstance(body, dict):
        raise MailError("The request body must be a JSON object.")
    _personalizations(body.get("personalizations"))
    sender = body.get("from")
    if not isinstance(sender, dict) or not _is_address(sender.get("email")):
        raise MailError("The from object must be provided for every email send.", "from")
    if not body.get("subject") and not all(p.get("subject") for p in body["personalizations"]):
        raise MailError("The subject is required.", "subject")
    _content(body.get("content"))
    _strings(body.get("custom_args", {}), "custom_args")
    _strings(body.get("headers", {}), "headers")
    if any(name.lower() in RESERVED_HEADERS for name in body.get("headers", {})):
        raise MailError("The headers contain a reserved header.", "headers")
    for index, attachment in enumerate(body.get("attachments") or ()):
        _attachment(attachment, f"attachments.{index}")


def is_sandbox(body: Mapping[str, Any]) -> bool:
    settings = body.get("mail_settings") or {}
    return bool((settings.get("sandbox_mode") or {}).get("enable"))


def _personalizations(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise MailError("The personalizations field is required.", "personalizations")
    for index, personalization in enumerate(value):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            raise MailError("The to array is required.", f"personalizations.{index}.to")
        if not all(isinstance(r, dict) and _is_address(r.get("email")) for r in to):
            raise MailError("Does not contain a valid address.", f"personalizations.{index}.to")


def _content(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise MailError("The content value must be a string at least one character.", "content")
    types = [part.get("type") if isinstance(part, dict) else None for part in value]
    if not all(isinstance(p, dict) and isinstance(p.get("value"), str) for p in value):
        raise MailError("The content value must be a string.", "content")
    if "text/plain" in types and types[0] != "text/plain":
        raise MailError(
            "If present, text/plain and text/html may only be provided in order.", "content"
        )


def _strings(value: Any, field: str) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MailError(f"Every value of {field} must be a string.", field)


def _attachment(value: Any, field: str) -> None:
    if not isinstance(value, dict) or not value.get("filename"):
        raise MailError("The attachment filename parameter is required.", f"{field}.filename")
    try:
        base64.b64decode(str(value.get("content", "")), validate=True)
    except binascii.Error as error:
        raise MailError("The attachment content must be base64 encoded.", field) from error


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and value.count("@") == 1 and " " not in value
