"""SendGrid behind the EmailSender port, through the official SDK's v3 mail send.

Imported only by the container: importing it loads sendgrid (and python_http_client).

One message is one `POST /v3/mail/send`: text before HTML in `content`, attachments base64,
our reference in `custom_args` (SendGrid echoes it in every event) and as a header, and
List-Unsubscribe for bulk mail. SendGrid answers 202 with the id its events quote
(`X-Message-Id`, the part of `sg_message_id` before the first dot). In sandbox mode it only
validates and answers 200 without an id; the receipt then gets a `sandbox-…` one.

Errors: 401/403 ConfigurationError; 429 ProviderUnavailable with the wait SendGrid asks for;
5xx ProviderUnavailable, `possibly_done`; a connection refused ProviderUnavailable; a reply
lost after the request went out ProviderUnavailable, `possibly_done`; other 4xx
ProviderRejected. SendGrid has no idempotency key, so the relay decides about retries.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.error
import uuid
from collections.abc import Mapping
from datetime import datetime
from http.client import HTTPException
from typing import Any

import python_http_client.exceptions as http_errors
import sendgrid

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.email.mime import ListUnsubscribe, Mailbox, check_address, extra_headers
from justdriving.adapters.email.mime import check_message as check_safe
from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidInput,
    JustDrivingError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.messages import EmailMessage, SendReceipt
from justdriving.ports.clock import Clock

DEFAULT_API_BASE = "https://api.sendgrid.com"
REFERENCE_ARG = "reference"  # custom_args key; events carry it back at the top level


class SendGridEmailSender:
    """Sends through SendGrid's v3 API; `sandbox=True` validates without sending."""

    def __init__(
        self,
        api_key: str,
        *,
        from_address: str,
        from_name: str | None = None,
        api_base: str | None = None,
        sandbox: bool = False,
        name: str = "sendgrid",
        unsubscribe: ListUnsubscribe | None = None,
        timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if not api_key:
            raise ConfigurationError(f"{name} is not configured", ["MAIL_API_KEY is empty"])
        self.name = name
        self._sender = Mailbox.configured(from_address, from_name, name)
        self._sandbox, self._unsubscribe, self._timeout = sandbox, unsubscribe, timeout
        self._clock = clock or SystemClock()
        self._client = sendgrid.SendGridAPIClient(api_key, host=api_base or DEFAULT_API_BASE)
        self._errors = ProviderHttp(name, "SendGrid", settings=["MAIL_API_KEY"])

    def send(self, message: EmailMessage) -> SendReceipt:
        try:
            payload = self.payload(message)
        except InvalidInput as error:
            raise ProviderRejected(
                self.name, str(error), provider_code="invalid_message"
            ) from error
        try:
            response = self._client.client.mail.send.post(
                request_body=payload, timeout=self._timeout
            )
        except http_errors.HTTPError as error:
            raise self._refused(error) from error
        except urllib.error.URLError as error:  # no connection: nothing was sent
            raise self._errors.not_sent("sending", str(error.reason)) from error
        except (OSError, HTTPException) as error:  # sent, but the answer was lost
            timed_out = isinstance(error, TimeoutError)
            raise self._errors.no_answer(
                "sending", type(error).__name__, timed_out=timed_out, write=True
            ) from error
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            if not self._sandbox:
                raise ProviderUnavailable(
                    self.name,
                    f"SendGrid answered {response.status_code} without X-Message-Id",
                    possibly_done=True,
                )
            message_id = f"sandbox-{uuid.uuid4().hex}"
        return SendReceipt(self.name, str(message_id))

    def payload(self, message: EmailMessage) -> dict[str, Any]:
        """The v3 mail send body for `message`; InvalidInput for an unsafe value."""
        check_safe(message)
        mailbox = self._sender.for_message(message)
        sender: dict[str, str] = {"email": mailbox.address}
        if mailbox.name:
            sender["name"] = mailbox.name
        content = [{"type": "text/plain", "value": message.text}]
        if message.html is not None:
            content.append({"type": "text/html", "value": message.html})
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": check_address(message.to.value).addr_spec}]}],
            "from": sender,
            "subject": message.subject,
            "content": content,
            "custom_args": {REFERENCE_ARG: message.reference},
            "headers": extra_headers(message, self._unsubscribe),
        }
        if message.reply_to is not None:
            body["reply_to"] = {"email": check_address(message.reply_to.value).addr_spec}
        if message.attachments:
            body["attachments"] = [
                {
                    "content": base64.b64encode(a.content).decode("ascii"),
                    "filename": a.filename,
                    "type": a.content_type,
                    "disposition": "attachment",
                }
                for a in message.attachments
            ]
        if self._sandbox:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    def _refused(self, error: http_errors.HTTPError) -> JustDrivingError:
        status = int(error.status_code)
        wait = retry_after(error.headers or {}, self._clock.now())
        reason = Reason(str(status), _first_error(error.body))
        return self._errors.status_error(status, reason, "sending", write=True, retry_after=wait)


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait: Retry-After, else SendGrid's X-RateLimit-Reset (a Unix time)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if "retry-after" in lowered:
        return retry_after_seconds(lowered["retry-after"])
    try:
        if "x-ratelimit-reset" in lowered:
            seconds = float(lowered["x-ratelimit-reset"]) - now.timestamp()
        else:
            return None
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _first_error(body: bytes | str | None) -> str:
    """SendGrid's first error message, from `{"errors": [{"message": …, "field": …}]}`."""
    try:
        errors = json.loads(body or b"{}")["errors"]
        first = errors[0]
        field = f" ({first['field']})" if first.get("field") else ""
        return f"{first['message']}{field}"[:300]
    except (ValueError, KeyError, IndexError, TypeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        return text[:300] or "no details"
