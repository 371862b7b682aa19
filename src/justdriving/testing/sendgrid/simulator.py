"""A local HTTP server that speaks SendGrid's v3 mail send, for the adapter and the real SDK.

    with SendGridSimulator() as sendgrid_api:
        sender = SendGridEmailSender(sendgrid_api.api_key, from_address="noreply@school.dk",
                                     api_base=sendgrid_api.api_base)
        receipt = sender.send(message)
        body, headers = sendgrid_api.events(receipt.provider_message_id, "delivered")
        receipts = SendGridWebhooks(sendgrid_api.public_key).parse(body, headers, now)

`POST /v3/mail/send` checks the bearer key (401) and the body (400, `mail.py`), then
answers 202 with a new `X-Message-Id` and records the mail in `.mails`; in sandbox mode it
answers 200 without an id and records it in `.sandboxed`. `fail_next` answers the next request
with an error (429 with Retry-After, 5xx …); `lose_next_response` sends it and then drops the
connection. `events` returns a signed Event Webhook delivery. Nothing runs until started.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from attrs import frozen

from justdriving.ports.clock import Clock
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.sendgrid.mail import MailError, SentMail, check_mail, is_sandbox
from justdriving.testing.sendgrid.webhooks import EventSigner, delivery_body, event
from justdriving.testing.wire import ApiReply, Delivery, InjectedFailures

SEND_PATH = "/v3/mail/send"
_BAD_KEY = "The provided authorization grant is invalid, expired, or revoked"


@frozen
class SendGridRequest:
    """One request the simulator answered."""

    method: str
    path: str
    status: int
    authorization: str | None


class SendGridSimulator(Served):
    """A SendGrid account on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        api_key: str = "SG.simulator.key",
        clock: Clock | None = None,
    ) -> None:
        self.api_key = api_key
        self._clock: Callable[[], datetime] = clock.now if clock else lambda: datetime.now(UTC)
        self._signer = EventSigner()
        self.mails: list[SentMail] = []
        self.sandboxed: list[SentMail] = []
        self.requests: list[SendGridRequest] = []
        self._injected = InjectedFailures()
        self._lock = threading.Lock()
        self._server = LocalServer.answering(self.answer, provider="sendgrid")

    # Running.

    @property
    def api_base(self) -> str:
        """The `host` to give the SDK (SendGridAPIClient(host=...))."""
        return self._server.base_url

    @property
    def public_key(self) -> str:
        """The Event Webhook verification key (base64 DER)."""
        return self._signer.public_key

    def now(self) -> datetime:
        return self._clock()

    # Failures.

    def fail_next(self, status: int = 500, *, retry_after: float | None = None) -> None:
        """Answer the next request with `status` and SendGrid's error body; nothing is sent."""
        body = {"errors": [{"message": f"simulated {status}", "field": None}]}
        self._injected.fail(status, body, retry_after)

    def lose_next_response(self) -> None:
        """Accept the next mail, then drop the connection before answering."""
        self._injected.lose()

    # The webhook side.

    def mail(self, message_id: str) -> SentMail:
        return next(m for m in self.mails if m.message_id == message_id)

    def events(self, message: SentMail | str, *kinds: str, **fields: object) -> Delivery:
        """A signed Event Webhook delivery of one event per kind about `message` (a recorded
        mail or its X-Message-Id), stamped now. `fields` override the events' fields."""
        mail = message if isinstance(message, SentMail) else self.mail(message)
        now = self.now()
        body = delivery_body([event(mail, kind, now, **fields) for kind in kinds or ("processed",)])
        return body, self.sign(body, now)

    def sign(self, body: bytes, at: datetime) -> dict[str, str]:
        return self._signer.sign(body, int(at.timestamp()))

    # Answering requests (on the server's threads).

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        with self._lock:
            return self._injected.answer(
                lambda: self._send(method, path, headers, body),
                lambda status: self._record(method, path, status, headers),
            )

    def _send(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> ApiReply:
        if path.split("?", 1)[0] != SEND_PATH:
            return _error(404, "Not found", None)
        if method != "POST":
            return _error(405, "Method not allowed", None)
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, _BAD_KEY, None)
        try:
            payload = json.loads(body)
            check_mail(payload)
        except ValueError:
            return _error(400, "Invalid JSON", None)
        except MailError as error:
            return ApiReply(400, json.dumps(error.envelope()).encode(), _JSON)
        if is_sandbox(payload):
            self.sandboxed.append(SentMail("", payload, sandbox=True))
            return ApiReply(200, b"", {})
        mail = SentMail(secrets.token_urlsafe(16), payload)
        self.mails.append(mail)
        return ApiReply(202, b"", {"X-Message-Id": mail.message_id})

    def _record(self, method: str, path: str, status: int, headers: Mapping[str, str]) -> None:
        self.requests.append(SendGridRequest(method, path, status, headers.get("authorization")))


_JSON = {"Content-Type": "application/json"}


def _error(status: int, message: str, field: str | None) -> ApiReply:
    body = {"errors": [{"message": message, "field": field}]}
    return ApiReply(status, json.dumps(body).encode(), _JSON)
