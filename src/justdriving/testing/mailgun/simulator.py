"""A local HTTP server that speaks Mailgun's `POST /v3/{domain}/messages`, and signs webhooks.

    with MailgunSimulator() as mailgun_api:
        sender = MailgunEmailSender(mailgun_api.api_key, mailgun_api.domain,
                                    api_base=mailgun_api.api_base, from_address=...)
        receipt = sender.send(message)
        body, headers = mailgun_api.events(receipt.provider_message_id, "delivered")
        receipts = MailgunWebhooks(mailgun_api.signing_key).parse(body, headers, now)

Requests need basic auth `api:<api_key>` (401 "Forbidden") and the simulator's domain (404);
the form is checked (`messages.py`, 400) and the message recorded in `.mails`, answered
200 `{"id": "<…@domain>", "message": "Queued. Thank you."}`. `fail_next` and
`lose_next_response` inject failures. `events` returns a webhook delivery whose signature
block is HMAC-signed with `signing_key`, with a fresh token each time. Nothing runs until
started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from justdriving.ports.clock import Clock
from justdriving.testing.exchanges import record_webhook
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.mailgun.messages import (
    FormError,
    MailgunMail,
    check_fields,
    read_form,
)
from justdriving.testing.wire import ApiReply, Delivery, InjectedFailures

_JSON = {"Content-Type": "application/json"}

# What Mailgun adds to each kind of event (a test may override any of it).
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "accepted": {"method": "HTTP"},
    "delivered": {"delivery-status": {"code": 250, "message": "OK", "attempt-no": 1}},
    "failed": {
        "severity": "permanent",
        "reason": "bounce",
        "delivery-status": {
            "code": 550,
            "message": "5.1.1 The email account that you tried to reach does not exist.",
            "attempt-no": 1,
        },
    },
    "rejected": {"reject": {"reason": "Sandbox subdomains are for test purposes only"}},
    "opened": {"ip": "192.0.2.10", "client-info": {"client-name": "Thunderbird"}},
    "clicked": {"ip": "192.0.2.10", "url": "https://example.dk/"},
    "unsubscribed": {"ip": "192.0.2.10"},
    "complained": {},
}


class MailgunSimulator(Served):
    """One Mailgun sending domain on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        api_key: str = "key-simulator",
        domain: str = "mg.koreskolen.test",
        signing_key: str = "signing-key-simulator",
        clock: Clock | None = None,
    ) -> None:
        self.api_key, self.domain, self.signing_key = api_key, domain, signing_key
        self._clock: Callable[[], datetime] = clock.now if clock else lambda: datetime.now(UTC)
        self.mails: list[MailgunMail] = []
        self.statuses: list[int] = []
        self._injected = InjectedFailures()
        self._lock = threading.Lock()
        self._server = LocalServer.answering(self.answer, provider="mailgun")

    @property
    def api_base(self) -> str:
        return self._server.base_url

    def now(self) -> datetime:
        return self._clock()

    # Failures.

    def fail_next(self, status: int = 500, *, retry_after: float | None = None) -> None:
        self._injected.fail(status, {"message": f"simulated {status}"}, retry_after)

    def lose_next_response(self) -> None:
        """Queue the next message, then drop the connection before answering."""
        self._injected.lose()

    # The webhook side.

    def mail(self, message_id: str) -> MailgunMail:
        return next(m for m in self.mails if m.message_id == message_id.strip("<>"))

    def events(self, message: MailgunMail | str, kind: str, **fields: Any) -> Delivery:
        """A signed webhook delivery of one `kind` event about `message`, stamped now."""
        mail = message if isinstance(message, MailgunMail) else self.mail(message)
        if kind not in EVENT_FIELDS:
            raise ValueError(f"Mailgun sends no {kind!r} event")
        now = self.now()
        data = {
            "id": secrets.token_urlsafe(16),
            "timestamp": now.timestamp(),
            "event": kind,
            "recipient": mail.to,
            "recipient-domain": mail.to.rpartition("@")[2],
            "tags": mail.tags,
            "user-variables": mail.user_variables,
            "message": {
                "headers": {
                    "message-id": mail.message_id,
                    "from": mail.field("from"),
                    "to": mail.field("to"),
                    "subject": mail.field("subject"),
                },
                "attachments": [],
                "size": sum(len(v) for vs in mail.fields.values() for v in vs),
            },
            **EVENT_FIELDS[kind],
            **fields,
        }
        payload = {"signature": self.signature(now), "event-data": data}
        body = json.dumps(payload, indent=2).encode()
        record_webhook("mailgun", str(data["event"]), body)
        return body, dict(_JSON)

    def signature(self, at: datetime, token: str | None = None) -> dict[str, str]:
        timestamp, token = str(int(at.timestamp())), token or secrets.token_hex(25)
        digest = hmac.new(self.signing_key.encode(), (timestamp + token).encode(), hashlib.sha256)
        return {"timestamp": timestamp, "token": token, "signature": digest.hexdigest()}

    # Answering requests (on the server's threads).

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        with self._lock:
            return self._injected.answer(
                lambda: self._messages(method, path, headers, body), self.statuses.append
            )

    def _messages(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply:
        expected = "Basic " + base64.b64encode(f"api:{self.api_key}".encode()).decode()
        if headers.get("authorization") != expected:
            return ApiReply(401, b"Forbidden", {"Content-Type": "text/plain"})
        parts = path.split("?", 1)[0].strip("/").split("/")
        if method != "POST" or len(parts) != 3 or parts[0] != "v3" or parts[2] != "messages":
            return _error(404, "Not Found")
        if parts[1] != self.domain:
            return _error(404, f"Domain not found: {parts[1]}")
        try:
            fields, files = read_form(headers.get("content-type", ""), body)
            check_fields(fields)
        except (FormError, UnicodeDecodeError) as error:
            return _error(400, str(error))
        stamp = self.now().strftime("%Y%m%d%H%M%S")
        mail = MailgunMail(f"{stamp}.{secrets.token_hex(8)}@{self.domain}", fields, files)
        self.mails.append(mail)
        answer = {"id": f"<{mail.message_id}>", "message": "Queued. Thank you."}
        return ApiReply(200, json.dumps(answer).encode(), dict(_JSON))


def _error(status: int, message: str) -> ApiReply:
    return ApiReply(status, json.dumps({"message": message}).encode(), dict(_JSON))
