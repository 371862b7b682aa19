"""A local HTTP server that speaks enough of Twilio's Messages API for the real twilio-python SDK.

    with TwilioSimulator() as twilio:
        sender = TwilioSmsSender(twilio.account_sid, twilio.auth_token,
                                 from_number=twilio.from_number,
                                 status_callback=twilio.public_base_url + "/webhooks/twilio/status",
                                 api_base=twilio.api_base)
        receipt = sender.send(to, message)
        callback = twilio.deliver(receipt.provider_message_id)      # signed, as Twilio POSTs it
        webhooks = TwilioWebhooks(twilio.auth_token, twilio.public_base_url)
        webhooks.parse_status(callback.path, callback.form, callback.headers, now)

It answers `POST /2010-04-01/Accounts/{sid}/Messages.json` (and GET of one message) after
checking HTTP basic auth, validates like Twilio (required fields, E.164, 1600 characters, the
magic numbers of Twilio's test credentials), refuses opted-out numbers with 21610 and invalid
ones with 21211, and lets a test inject failures, lose a response or stall one. `deliver` and
`reply` return the form POST Twilio would make, signed with the auth token over the exact URL.
Nothing runs until the server is started.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from attrs import frozen

from justdriving.domain.delivery import Keyword, keyword_of
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.twilio import messages as twilio
from justdriving.testing.twilio.messages import TwilioApiError
from justdriving.testing.wire import ApiReply

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")


@frozen
class TwilioRequest:
    """One request the simulator answered, for assertions."""

    method: str
    path: str
    form: Mapping[str, str]
    status: int


@frozen
class TwilioCallback:
    """A webhook request as Twilio makes it: `path` (with query) on our public URL, the form
    parameters and the headers, `X-Twilio-Signature` included."""

    url: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@frozen
class _Injected:
    error: TwilioApiError | None = None
    retry_after: float | None = None
    lose: bool = False
    stall: float = 0.0


class TwilioSimulator(Served):
    """A Twilio account on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0" * 31 + "1",
        auth_token: str = "simulator_auth_token",  # noqa: S107 - the simulator's own token
        from_number: str = twilio.TEST_FROM,
        public_base_url: str = "https://justdriving.test",
        inbound_path: str = "/webhooks/twilio/inbound",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account_sid, self.auth_token, self.from_number = account_sid, auth_token, from_number
        self.public_base_url, self.inbound_path = public_base_url.rstrip("/"), inbound_path
        self.messages: dict[str, dict[str, Any]] = {}
        self.requests: list[TwilioRequest] = []
        self.opted_out: set[str] = set()
        self.invalid: set[str] = set()
        self.landlines: set[str] = set()
        self._callbacks: dict[str, str] = {}  # MessageSid -> StatusCallback URL
        self._clock = clock
        self._injected: deque[_Injected] = deque()
        self._lock = threading.RLock()
        self._server = LocalServer.answering(self.answer, provider="twilio")

    # Running.

    @property
    def api_base(self) -> str:
        return self._server.base_url

    # The account's state and failures for the next request.

    def opt_out(self, number: str) -> None:
        """The number replied STOP: Twilio refuses to send to it (21610) until START."""
        self.opted_out.add(number)

    def fail_next(
        self, status: int = 500, *, code: int | None = None, retry_after: float | None = None
    ) -> None:
        """Answer the next request with `status` and Twilio `code`, doing nothing."""
        error = TwilioApiError(status, code or twilio.default_code(status))
        self._injected.append(_Injected(error=error, retry_after=retry_after))

    def lose_next_response(self) -> None:
        """Create the next message, then drop the connection: the caller cannot know it went."""
        self._injected.append(_Injected(lose=True))

    def stall_next(self, seconds: float) -> None:
        """Create the next message, then wait `seconds` before answering (a client timeout)."""
        self._injected.append(_Injected(stall=seconds))

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["to"] == number]

    # Twilio's webhook requests.

    def deliver(
        self, sid: str, status: str = "delivered", error_code: str | None = None
    ) -> TwilioCallback:
        """The message reached `status`; the status callback Twilio POSTs to its StatusCallback."""
        with self._lock:
            message, url = self.messages[sid], self._callbacks.get(sid)
            if url is None:
                raise LookupError(f"message {sid} was created without a StatusCallback")
            message["status"] = status
            if error_code is None and status in ("failed", "undelivered"):
                error_code = "30008"  # Twilio's "unknown error"
            form = twilio.status_form(self.account_sid, message, error_code)
        return self.callback(url, form)

    def reply(self, sender: str, body: str, to: str | None = None) -> TwilioCallback:
        """`sender` texts our number; Advanced Opt-Out acts on STOP and START as Twilio's does."""
        keyword = keyword_of(body)
        with self._lock:
            if keyword is Keyword.STOP:
                self.opted_out.add(sender)
            elif keyword is Keyword.START:
                self.opted_out.discard(sender)
        # Twilio's own keywords only: SYG is ours, and Twilio passes it on as plain text.
        twilios = (Keyword.STOP, Keyword.START, Keyword.HELP)
        opt_out = keyword.name if keyword in twilios else None
        form = twilio.inbound_form(
            self.account_sid, twilio.new_sid("SM"), sender, to or self.from_number, body, opt_out
        )
        return self.callback(self.public_base_url + self.inbound_path, form)

    def callback(
        self, url: str, form: dict[str, str], auth_token: str | None = None
    ) -> TwilioCallback:
        """`form` POSTed to `url`, signed as Twilio signs it (with another token if given)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": twilio.signature(auth_token or self.auth_token, url, form),
        }
        return TwilioCallback(url, path, dict(form), headers)

    # Answering requests (called on the server's threads).

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        injected = self._injected.popleft() if self._injected else _Injected()
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            if injected.error is not None:
                raise injected.error
            reply = self._route(method, urlsplit(path).path, headers, form)
        except TwilioApiError as error:
            reply = ApiReply(error.status, error.body(), {}, injected.retry_after)
        with self._lock:
            self.requests.append(TwilioRequest(method, path, form, reply.status))
        if injected.stall:
            time.sleep(injected.stall)
        if injected.lose:
            return None
        answer_headers = {
            "Content-Type": "application/json",
            "Twilio-Request-Id": twilio.new_sid("RQ"),
        }
        if reply.retry_after is not None:
            answer_headers["Retry-After"] = f"{reply.retry_after:g}"
        return ApiReply(reply.status, reply.body, answer_headers)

    def _route(
        self, method: str, path: str, headers: Mapping[str, str], form: dict[str, str]
    ) -> ApiReply:
        self._authenticate(headers)
        found = _MESSAGES.match(path) or _MESSAGE.match(path)
        if found is None or found.group("account") != self.account_sid:
            raise TwilioApiError(404, 20404)
        sid = found.groupdict().get("sid")
        with self._lock:
            if sid is None and method == "POST":
                return ApiReply(201, json.dumps(self._create(form)).encode())
            if sid is not None and method == "GET" and sid in self.messages:
                return ApiReply(200, json.dumps(self.messages[sid]).encode())
        raise TwilioApiError(404, 20404)

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        try:
            credentials = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            credentials = ""
        if scheme.lower() != "basic" or credentials != f"{self.account_sid}:{self.auth_token}":
            raise TwilioApiError(401, 20003)

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        to, sender = form.get("To", ""), form.get("From", "")
        service, body = form.get("MessagingServiceSid", ""), form.get("Body", "")
        self._check(to, sender, service, body)
        status = "queued" if sender else "accepted"  # a messaging service picks the sender later
        sid = twilio.new_sid("SM")
        message = twilio.message_resource(self.account_sid, sid, form, status, self._clock())
        self.messages[sid] = message
        if form.get("StatusCallback"):
            self._callbacks[sid] = form["StatusCallback"]
        return message

    def _check(self, to: str, sender: str, service: str, body: str) -> None:
        if not to:
            raise TwilioApiError(400, 21604)
        if not sender and not service:
            raise TwilioApiError(400, 21603)
        if not body.strip():
            raise TwilioApiError(400, 21602)
        if sender in twilio.MAGIC_FROM:
            raise TwilioApiError(400, twilio.MAGIC_FROM[sender], from_=sender)
        if sender and sender != self.from_number and not twilio.is_alphanumeric_sender(sender):
            raise TwilioApiError(400, 21606, from_=sender)
        if len(body) > twilio.MAX_BODY:
            raise TwilioApiError(400, 21617)
        if to in twilio.MAGIC_TO:
            raise TwilioApiError(400, twilio.MAGIC_TO[to], to=to)
        if not twilio.is_e164(to) or to in self.invalid:
            raise TwilioApiError(400, 21211, to=to)
        if to in self.opted_out:
            raise TwilioApiError(400, 21610, to=to)
        if to in self.landlines:
            raise TwilioApiError(400, 21614, to=to)
