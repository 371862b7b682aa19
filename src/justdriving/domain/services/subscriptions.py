"""The host application's subscriptions to domain events, run in process after commit.

A handler subscribed to an event type (or to `DomainEvent`, for all of them) is called with
each such event once the transaction that recorded it has committed, in the order recorded. It
cannot break that transaction: it runs after it, and an exception it raises is logged (with the
event's topic and the handler's name, never the event's data) and goes no further. A rolled-back
change publishes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from justdriving.domain.errors import InvalidInput
from justdriving.domain.events import EVENT_TYPES, DomainEvent

log = logging.getLogger("justdriving.events")

Handler = Callable[[DomainEvent], object]


class Subscribers:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[DomainEvent], Handler]] = []

    def subscribe(self, kind: type[DomainEvent] | str, handler: Handler) -> None:
        """Call `handler` with every committed event of `kind`: an event type, `DomainEvent`
        for all, or a topic such as ``"invoice.paid"``."""
        event_type = EVENT_TYPES.get(kind) if isinstance(kind, str) else kind
        if not (isinstance(event_type, type) and issubclass(event_type, DomainEvent)):
            raise InvalidInput(f"not an event type or topic: {str(kind)[:60]!r}")
        if not callable(handler):
            raise InvalidInput("a subscriber is a callable taking the event")
        self._handlers.append((event_type, handler))

    def publish(self, events: Iterable[DomainEvent]) -> None:
        """Hand each event to its subscribers; a failing subscriber is logged and skipped."""
        for event in events:
            for kind, handler in self._handlers:
                if isinstance(event, kind):
                    self._call(handler, event)

    @staticmethod
    def _call(handler: Handler, event: DomainEvent) -> None:
        try:
            handler(event)
        except Exception:  # a subscriber's bug must not reach the use case that committed
            name = getattr(handler, "__qualname__", type(handler).__name__)
            log.exception("subscriber %s failed on %s", name, event.topic)
