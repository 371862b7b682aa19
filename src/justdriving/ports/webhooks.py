"""The one port for provider callbacks: verify a request on its raw bytes, parse it into
provider-neutral inbound events (domain.inbound)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from attrs import frozen

from justdriving.domain.inbound import InboundChannel, InboundEvent


@frozen
class WebhookRequest:
    """A provider's call as it arrived: the path (with its query) below the app's public base
    URL, the raw body and the headers. Verification needs all three, unparsed."""

    path: str
    body: bytes
    headers: Mapping[str, str]


@frozen
class Acknowledgement:
    """What the provider expects back besides the status code (Twilio: empty TwiML)."""

    body: str
    mimetype: str


class WebhookReceiver(Protocol):
    """One provider's callbacks on one channel.

    Contract (tests/contract/webhooks/test_webhook_receiver_contract.py runs it over every
    receiver):
    - `receive` verifies the signature on the raw request first (constant-time), wherever the
      scheme allows before anything is parsed, and raises InvalidSignature when it does not
      hold (missing, wrong secret, tampered body, outside the replay window, replayed token).
    - Input that is too large, too deep, or holds what no provider sends (NUL, over-long ids)
      is MalformedWebhook; UnusableWebhook (a MalformedWebhook) when the signature held but
      the content is unusable, so the delivery can be acknowledged and kept as rejected.
      Nothing else escapes.
    - Each event has a stable id: the same delivery parsed twice gives the same ids.
    - Event types no mapping table knows come back as UnknownEvent (or a payment event of
      kind UNKNOWN) carrying the raw item: nothing verified is dropped silently.
    """

    channel: InboundChannel
    name: str

    def receive(self, request: WebhookRequest, now: datetime) -> list[InboundEvent]: ...

    def acknowledgement(self, request: WebhookRequest) -> Acknowledgement | None:
        """The body the provider expects, or None for the default JSON answer."""
        ...


@frozen
class WebhookHead:
    """What the request path reads of a verified delivery: the provider's event id (which
    dedupes repeats) and its type (shown to operators); the rest waits for the worker."""

    event_id: str
    event_type: str


@runtime_checkable
class DeferredReceiver(WebhookReceiver, Protocol):
    """A receiver that can verify a delivery now and read it later (QUEUE_BACKEND=worker).

    - `admit` checks the bounds and verifies on the raw request as `receive` does (raising
      the same errors for the same requests), then reads only the event's id and type:
      UnusableWebhook when the signed body has neither. One delivery, one event.
    - `read` gives the events `receive` would have given for a request `admit` let in, without
      verifying again; UnusableWebhook when they cannot be read.
    """

    def admit(self, request: WebhookRequest, now: datetime) -> WebhookHead: ...

    def read(self, body: bytes, now: datetime) -> list[InboundEvent]: ...


class WebhookReceivers(Protocol):
    """The receivers configured here; NotFound for a channel or provider that is not."""

    def get(self, channel: str, provider: str) -> WebhookReceiver: ...
