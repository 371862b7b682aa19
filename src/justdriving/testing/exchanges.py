"""Every exchange a simulator has with a client, recorded for checks against the provider's spec.

    with recording() as exchanges:          # or listen(callback) for a whole test session
        ... run the adapter against a simulator ...
    for exchange in exchanges: ...

Each simulator's `LocalServer` records the request it read and the reply it wrote, tagged with
the provider's name ("stripe", "twilio" …); the payer's side of a simulator records the webhook
deliveries it builds (`kind="webhook"`). Nothing is kept unless someone listens, so simulators
used outside the test suite hold no history. The test suite validates what it hears against the
providers' published OpenAPI documents (tests/specs/).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping

from attrs import field, frozen

__all__ = ["Exchange", "listen", "record", "record_webhook", "recording"]


@frozen
class Exchange:
    """One request and the reply to it (status None: the connection was dropped unanswered).

    A webhook delivery is an Exchange of `kind="webhook"`: `path` names the event type (or
    the resource's), `request_body` is the payload, and there is no reply."""

    provider: str
    method: str
    path: str
    query: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int | None
    response_headers: Mapping[str, str] = field(factory=dict)
    response_body: bytes = b""
    kind: str = "api"


_listeners: list[Callable[[Exchange], None]] = []
_lock = threading.Lock()


def listen(callback: Callable[[Exchange], None]) -> Callable[[], None]:
    """Calls `callback` with every exchange from now on; returns the function that stops it."""
    with _lock:
        _listeners.append(callback)

    def stop() -> None:
        with _lock, contextlib.suppress(ValueError):
            _listeners.remove(callback)

    return stop


@contextlib.contextmanager
def recording() -> Iterator[list[Exchange]]:
    """The exchanges recorded inside the `with` block, in order."""
    heard: list[Exchange] = []
    stop = listen(heard.append)
    try:
        yield heard
    finally:
        stop()


def record(exchange: Exchange) -> None:
    with _lock:
        listeners = list(_listeners)
    for callback in listeners:
        callback(exchange)


def record_webhook(provider: str, event_type: str, payload: bytes) -> None:
    """A webhook delivery a simulator built, for the event schemas of the provider's spec."""
    record(
        Exchange(
            provider=provider,
            method="POST",
            path=event_type,
            query="",
            request_headers={},
            request_body=payload,
            status=None,
            kind="webhook",
        )
    )
