"""The HostEventSender contract, once for the in-memory endpoint and once for the real sender
posting to a receiver on 127.0.0.1; and the real sender's signatures against the Standard
Webhooks specification's published test vector."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

import pytest

from justdriving.adapters.host_events.standard_webhooks import StandardWebhookSender
from justdriving.adapters.memory import FakeHostEventSender, FrozenClock
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.ports.host_events import HostDelivery, HostEventSender
from justdriving.testing.local_server import LocalServer
from justdriving.testing.wire import ApiReply

# From the Standard Webhooks specification's reference libraries (and Svix's documentation).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"a host endpoint's secret key").decode()
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
DELIVERY = HostDelivery("obx_1", "invoice.paid", b'{"type":"invoice.paid","data":{}}')


def test_the_signature_is_the_published_test_vectors() -> None:
    clock = FrozenClock(datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC))
    sender = StandardWebhookSender("https://host.example/hooks", VECTOR_SECRET, clock)

    headers = sender.headers(HostDelivery(VECTOR_ID, "test", VECTOR_BODY))

    assert headers["webhook-signature"] == VECTOR_SIGNATURE
    assert (headers["webhook-id"], headers["webhook-timestamp"]) == (VECTOR_ID, "1614265330")


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no whsec_ prefix
        "whsec_",
        "whsec_%%%%not-base64%%%%%%%%%%%%%%%%%%%%%%%%",
        "whsec_c2hvcnQ=",  # base64 of 5 bytes: too short a key
    ],
)
def test_a_secret_that_is_not_a_standard_webhooks_secret_is_a_named_setting_error(
    secret: str,
) -> None:
    with pytest.raises(ConfigurationError, match="HOST_WEBHOOK_SECRET") as refused:
        StandardWebhookSender("https://host.example/hooks", secret, FrozenClock(AT))
    if len(secret) > len("whsec_"):
        assert secret not in str(refused.value)


class Receiver:
    """A host endpoint on 127.0.0.1 that checks each signature with its own HMAC code."""

    def __init__(self, secret: str) -> None:
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.answers: list[ApiReply] = []
        self.verified: list[tuple[str, bytes]] = []
        self.server = LocalServer.answering(self.answer, provider="host")

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        digest = base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest()).decode()
        if headers.get("webhook-signature") != f"v1,{digest}" or method != "POST":
            return ApiReply(401, b"{}")
        if self.answers:
            return self.answers.pop(0)
        self.verified.append((headers["webhook-id"], body))
        return ApiReply(204, b"")


@pytest.fixture(params=["memory", "http"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[HostEventSender, Receiver | None]]:
    if request.param == "memory":
        yield FakeHostEventSender(), None
        return
    receiver = Receiver(SECRET)
    receiver.server.start()
    try:
        url = receiver.server.base_url + "/hooks/justdriving"
        yield StandardWebhookSender(url, SECRET, FrozenClock(AT)), receiver
    finally:
        receiver.server.stop()


def test_a_delivery_the_endpoint_accepts_arrives_with_its_body_intact(
    endpoint: tuple[HostEventSender, Receiver | None],
) -> None:
    sender, receiver = endpoint

    sender.send(DELIVERY)

    if receiver is None:
        assert isinstance(sender, FakeHostEventSender)
        assert sender.received == {"obx_1": json.loads(DELIVERY.body)}
    else:
        assert receiver.verified == [("obx_1", DELIVERY.body)]


def test_an_endpoint_that_is_down_is_retryable_and_one_that_is_gone_is_not(
    endpoint: tuple[HostEventSender, Receiver | None],
) -> None:
    sender, receiver = endpoint
    if receiver is None:
        assert isinstance(sender, FakeHostEventSender)
        sender.fail_next(ProviderUnavailable("host", "503", retry_after=30.0))
        sender.fail_next(ProviderRejected("host", "410", provider_code="410"))
    else:
        receiver.answers += [ApiReply(503, b"", {"Retry-After": "30"}), ApiReply(410, b"")]

    with pytest.raises(ProviderUnavailable) as down:
        sender.send(DELIVERY)
    with pytest.raises(ProviderRejected):
        sender.send(DELIVERY)

    assert down.value.retry_after == 30.0


def test_an_endpoint_nobody_listens_on_is_unavailable_and_nothing_was_sent() -> None:
    receiver = Receiver(SECRET)
    receiver.server.start()
    url = receiver.server.base_url + "/hooks"
    receiver.server.stop()
    sender = StandardWebhookSender(url, SECRET, FrozenClock(AT))

    with pytest.raises(ProviderUnavailable) as down:
        sender.send(DELIVERY)

    assert down.value.possibly_done is False
    assert SECRET not in repr(sender)
