"""A local HTTP server that speaks enough of GatewayAPI's REST API for the GatewayAPI adapter.

    with GatewayApiSimulator() as gatewayapi:
        sender = GatewayApiSmsSender(gatewayapi.token, sender="Koreskolen",
                                     api_base=gatewayapi.api_base,
                                     callback_url=gatewayapi.callback_url)
        receipt = sender.send(to, message)
        callback = gatewayapi.deliver(int(receipt.provider_message_id))   # signed JWT header
        GatewayApiWebhooks(gatewayapi.webhook_secret).parse_status(
            callback.body, callback.headers, now)

It answers `POST /rest/mtsms` (one object or a list of them) after checking the API token
(`Authorization: Token …`, or the token as the basic-auth user), answers with `ids` and `usage`
as GatewayAPI does, and lets a test inject failures or lose a response. A blacklisted MSISDN
is refused with GatewayAPI's documented code 0x0215; numbers marked invalid get a 400 without a
code (GatewayAPI documents none for that; the HTTP statuses of coded errors are not documented
either, so 400 is the simulator's choice). `deliver` and `reply` return the webhook request
GatewayAPI would make. Nothing runs until the server is started.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from attrs import frozen

from justdriving.domain.segments import segments
from justdriving.testing.exchanges import record_webhook
from justdriving.testing.gatewayapi import notifications
from justdriving.testing.gatewayapi.notifications import GatewayApiCallback
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.wire import ApiReply

SEND_PATH = "/rest/mtsms"


@frozen
class GatewayApiRequest:
    """One request the simulator answered, for assertions."""

    method: str
    path: str
    body: Any
    status: int


class _Refused(Exception):
    """An error answer shaped as GatewayAPI's: code and variables left out when empty."""

    def __init__(
        self, status: int, message: str, code: str | None = None, variables: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.variables = status, message, code, variables

    def body(self) -> bytes:
        answer: dict[str, Any] = {"message": self.message, "incident_uuid": str(uuid.uuid4())}
        if self.code:
            answer["code"] = self.code
        if self.variables:
            answer["variables"] = self.variables
        return json.dumps(answer).encode()


@frozen
class _Injected:
    refusal: _Refused | None = None
    retry_after: float | None = None
    lose: bool = False


class GatewayApiSimulator(Served):
    """A GatewayAPI account on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        token: str = "gatewayapi_simulator_token",  # noqa: S107 - the simulator's own token
        webhook_secret: str = "gatewayapi_webhook_secret",  # noqa: S107
        callback_url: str = "https://justdriving.test/webhooks/gatewayapi/status",
        inbound_url: str = "https://justdriving.test/webhooks/gatewayapi/inbound",
        receiver: int = 451204,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.token, self.webhook_secret = token, webhook_secret
        self.callback_url, self.inbound_url, self.receiver = callback_url, inbound_url, receiver
        self.messages: dict[int, dict[str, Any]] = {}
        self.requests: list[GatewayApiRequest] = []
        self.invalid: set[int] = set()
        self.blacklisted: set[int] = set()
        self._clock = clock
        self._ids = itertools.count(421332671)
        self._mo_ids = itertools.count(2398517)
        self._injected: deque[_Injected] = deque()
        self._lock = threading.RLock()
        self._server = LocalServer.answering(self.answer, provider="gatewayapi")

    @property
    def api_base(self) -> str:
        return self._server.base_url

    def blacklist(self, msisdn: int) -> None:
        """GatewayAPI refuses to send to `msisdn` (error 0x0215)."""
        self.blacklisted.add(msisdn)

    # Failures for the next request.

    def fail_next(
        self, status: int = 500, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        refusal = _Refused(status, "Injected failure", code)
        self._injected.append(_Injected(refusal=refusal, retry_after=retry_after))

    def lose_next_response(self) -> None:
        """Send the next message, then drop the connection: the caller cannot know it went."""
        self._injected.append(_Injected(lose=True))

    # GatewayAPI's webhook requests.

    def deliver(
        self,
        message_id: int,
        status: str = "DELIVERED",
        *,
        code: str | None = None,
        error: str | None = None,
        secret: str | None = None,
    ) -> GatewayApiCallback:
        """The DSN GatewayAPI POSTs for the (first) recipient of `message_id`."""
        with self._lock:
            message = self.messages[message_id]
            recipient = message["recipients"][0]
            recipient["dsnstatus"] = status
            at = self._clock()
        payload = notifications.status_payload(
            message, recipient["msisdn"], status, at, error, code
        )
        url = message.get("callback_url") or self.callback_url
        delivery = notifications.callback(url, payload, secret or self.webhook_secret)
        record_webhook("gatewayapi", "DeliveryStatusNotification", delivery.body)
        return delivery

    def reply(self, msisdn: int, message: str, *, secret: str | None = None) -> GatewayApiCallback:
        """`msisdn` texts our short code (with our keyword, if one is leased)."""
        payload = notifications.mo_payload(
            next(self._mo_ids), msisdn, self.receiver, message, self._clock(), "justdriving"
        )
        delivery = notifications.callback(self.inbound_url, payload, secret or self.webhook_secret)
        record_webhook("gatewayapi", "MoSms", delivery.body)
        return delivery

    # Answering requests (called on the server's threads).

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        injected = self._injected.popleft() if self._injected else _Injected()
        parsed: Any = None
        try:
            if injected.refusal is not None:
                raise injected.refusal
            self._authenticate(headers)
            if urlsplit(path).path != SEND_PATH or method != "POST":
                raise _Refused(404, "Not found")
            parsed = _json(body)
            with self._lock:
                reply = ApiReply(200, json.dumps(self._send(parsed)).encode())
        except _Refused as refusal:
            reply = ApiReply(refusal.status, refusal.body(), {}, injected.retry_after)
        with self._lock:
            self.requests.append(GatewayApiRequest(method, path, parsed, reply.status))
        if injected.lose:
            return None
        answer_headers = {"Content-Type": "application/json"}
        if reply.retry_after is not None:
            answer_headers["Retry-After"] = f"{reply.retry_after:g}"
        return ApiReply(reply.status, reply.body, answer_headers)

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                value = ""
        elif scheme.lower() != "token":
            value = ""
        if value != self.token:
            raise _Refused(401, "Unauthorized")

    def _send(self, request: Any) -> dict[str, Any]:
        messages = request if isinstance(request, list) else [request]
        checked = [_checked(message, self.invalid) for message in messages]
        for message in checked:
            for recipient in message["recipients"]:
                if recipient["msisdn"] in self.blacklisted:
                    number = str(recipient["msisdn"])
                    raise _Refused(400, f"MSISDN {number} blacklisted", "0x0215", [number])
        ids = []
        for message in checked:
            message_id = next(self._ids)
            self.messages[message_id] = {**message, "id": message_id}
            ids.append(message_id)
        countries: dict[str, int] = {}
        for message in checked:
            parts = max(segments(message["message"]).parts, 1)
            for recipient in message["recipients"]:
                country = notifications.country_of(recipient["msisdn"]) or "ZZ"
                countries[country] = countries.get(country, 0) + parts
        return {"ids": ids, "usage": {"countries": countries, "currency": "DKK", "total_cost": 0.0}}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise _Refused(422, "Invalid json request body") from None


def _checked(message: Any, invalid: set[int]) -> dict[str, Any]:
    """One message object, validated as GatewayAPI documents its fields."""
    if not isinstance(message, dict) or not isinstance(message.get("message"), str):
        raise _Refused(400, "message is required")
    recipients = message.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        raise _Refused(400, "recipients is required")
    msisdns = [_msisdn(r.get("msisdn") if isinstance(r, dict) else None) for r in recipients]
    if any(number in invalid for number in msisdns):
        raise _Refused(400, "Invalid recipient msisdn")
    sender = message.get("sender")
    if sender is not None and not _valid_sender(str(sender)):
        raise _Refused(400, "Invalid sender")
    return {**message, "recipients": [{"msisdn": number} for number in msisdns]}


def _msisdn(value: Any) -> int:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 7 <= len(text) <= 15:
        raise _Refused(400, "Invalid recipient msisdn")
    return int(text)


def _valid_sender(sender: str) -> bool:
    if sender.isdigit():
        return len(sender) <= 15
    return 0 < len(sender) <= 11 and all(c.isascii() and (c.isalnum() or c == " ") for c in sender)
