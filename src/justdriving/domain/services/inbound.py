"""Every provider callback on one road: verified by its receiver, stored in the inbox, applied
once — at once (inline) or by the worker, as composition chose, never as a view chooses.

A delivery whose signature does not hold, or that is too large, too deep or malformed, is
refused (nothing stored; the view answers 400). A signed delivery whose content cannot be used
is stored as REJECTED and acknowledged, so the provider stops sending it. Applying claims the
row with a lease, as the relay claims outbox rows: two workers never apply one event, and
the row says who applied it, or why it failed.

With an intake and the worker applying (QUEUE_BACKEND=worker), a receiver that can defer
(DeferredReceiver: the payment providers') costs the request about one INSERT: it verifies
on the raw bytes and reads only the event's id and type, and the raw body is stored as it came
(payload `{"inbound": "deferred"}`); the worker translates it when it applies it, and a stored
body it cannot read ends REJECTED with the reason, changing nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import (
    ConcurrencyConflict,
    JustDrivingError,
    NotFound,
    UnusableWebhook,
)
from justdriving.domain.ids import new_id
from justdriving.domain.inbound import (
    InboundChannel,
    InboundEvent,
    from_payload,
)
from justdriving.domain.outbox import InboxEvent
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome
from justdriving.domain.services.arguments import batch_limit
from justdriving.domain.services.inbox_storage import (
    DEFERRED,
    WebhookReceipt,
    store_events,
    store_raw,
    store_rejected,
)
from justdriving.domain.services.steps.account_events import (
    apply_account_event,
    apply_setup_event,
    unknown_account_note,
)
from justdriving.domain.services.steps.message_events import apply_inbound_sms, apply_receipt
from justdriving.domain.services.steps.payment_events import apply_payment_event
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import InboxIntake, UnitOfWork, UnitOfWorkFactory
from justdriving.ports.webhooks import (
    DeferredReceiver,
    WebhookReceiver,
    WebhookReceivers,
    WebhookRequest,
)

DEFAULT_LEASE = timedelta(minutes=5)
# Told about an unexpected failure while applying inline (composition logs it, traceback and all).
FailureReport = Callable[[str, BaseException], None]


class InboundWebhooks:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        receivers: WebhookReceivers,
        *,
        apply_inline: bool = False,
        worker: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        on_failure: FailureReport | None = None,
        intake: InboxIntake | None = None,
    ) -> None:
        self._uow, self._clock, self._receivers = uow, clock, receivers
        self._on_failure = on_failure
        self.apply_inline = apply_inline
        self._worker = worker or new_id("wrk")
        self._lease = lease
        self._intake = intake
        # Per process: which (channel, provider) defers, and its receiver.
        self._deferring: dict[tuple[str, str], DeferredReceiver | None] = {}

    def receiver(self, channel: str, provider: str) -> WebhookReceiver:
        """The receiver for `/webhook/<channel>/<provider>`; NotFound when none is configured."""
        return self._receivers.get(channel, provider)

    def receive(self, channel: str, provider: str, request: WebhookRequest) -> WebhookReceipt:
        """Verify, store every event, and apply them now when composition chose inline."""
        receipt = self.store(channel, provider, request)
        if self.apply_inline:
            self._apply_now(receipt.stored)
        return receipt

    def store(self, channel: str, provider: str, request: WebhookRequest) -> WebhookReceipt:
        """Verify on the raw request and store each event once. Raises InvalidSignature or
        MalformedWebhook with nothing stored; an UnusableWebhook is stored as REJECTED."""
        receiver = self._receivers.get(channel, provider)
        now = self._clock.now()
        deferring = self._deferring_receiver(channel, provider, receiver)
        if deferring is not None and self._intake is not None:
            try:
                head = deferring.admit(request, now)
            except UnusableWebhook as error:
                return store_rejected(self._uow, receiver, request, error, now)
            return store_raw(self._intake, deferring, provider, head, request.body, now)
        try:
            events = receiver.receive(request, now)
        except UnusableWebhook as error:
            return store_rejected(self._uow, receiver, request, error, now)
        return store_events(self._uow, receiver.channel, events, request.body, now)

    def apply(self, inbox_id: str) -> EventOutcome:
        """Apply one stored event in one unit of work with its effects, claiming it in the same
        transaction. A row already applied, or held by another worker, is left alone
        (IGNORED); a claim made by another worker at the same moment makes the commit conflict
        and nothing is applied twice."""
        return self._apply_one(inbox_id, claimed=False)

    def apply_waiting(self, limit: int = 100) -> int:
        """Claim what is waiting (the worker's job) and apply it; returns how many it applied.
        Each claim holds for the lease; a worker that dies lets another take over after it."""
        batch_limit(limit)
        now = self._clock.now()
        try:
            with self._uow() as uow:
                claimed = [row.id for row in uow.inbox.claim(self._worker, now, self._lease, limit)]
                uow.commit()
        except ConcurrencyConflict:
            return 0  # another worker claimed the same rows first (SQLite); next round
        applied = 0
        for inbox_id in claimed:
            try:
                self._apply_one(inbox_id, claimed=True)
                applied += 1
            except JustDrivingError:
                continue  # recorded on the row; tried again next round
        return applied

    # Payment webhooks by their old names (the facade keeps them).

    def store_payment(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookReceipt:
        return self.store(InboundChannel.PAYMENTS, provider, _request(provider, body, headers))

    def receive_payment(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> list[EventOutcome]:
        """Store and apply at once; a duplicate or ignored delivery gives IGNORED."""
        receipt = self.store_payment(provider, body, headers)
        outcomes = [self.apply(inbox_id) for inbox_id in receipt.stored]
        return outcomes + [EventOutcome.IGNORED] * (receipt.duplicates + receipt.ignored)

    # Mechanics.

    def _deferring_receiver(
        self, channel: str, provider: str, receiver: WebhookReceiver
    ) -> DeferredReceiver | None:
        """The receiver when its provider's deliveries are stored raw here: with the worker
        applying them, and the receiver able to defer. Decided once per process."""
        key = (channel, provider)
        if key not in self._deferring:
            defers = not self.apply_inline and isinstance(receiver, DeferredReceiver)
            self._deferring[key] = receiver if defers else None  # type: ignore[assignment]
        return self._deferring[key]

    def _apply_one(self, inbox_id: str, *, claimed: bool) -> EventOutcome:
        now = self._clock.now()
        try:
            with self._uow() as uow:
                row = uow.inbox.get(inbox_id)
                if not self._mine(row, now, claimed):
                    return EventOutcome.IGNORED  # done, or another worker holds it
                row.claim(self._worker, now, self._lease)
                try:
                    events = self._events_of(row, now)
                except UnusableWebhook as error:  # signed when stored, unusable now we read it
                    row.rejected(str(error), now)
                    uow.commit()
                    return EventOutcome.IGNORED
                outcome = _dispatch_all(uow, events, now)
                row.applied(outcome is not EventOutcome.IGNORED, now, _note(uow, events))
                uow.commit()
                return outcome
        except JustDrivingError as error:
            with self._uow() as uow:
                row = uow.inbox.get(inbox_id)
                if self._mine(row, now, claimed):
                    row.failed(f"{type(error).__name__}: {error}")
                    uow.commit()
            raise

    def _events_of(self, row: InboxEvent, now: datetime) -> list[InboundEvent]:
        """What the row holds: its stored event, or (stored raw) the events its receiver reads
        in the body. UnusableWebhook when the body cannot be read; NotFound when its provider
        is no longer configured here (the row fails, and is tried again)."""
        if row.payload.get("inbound") != DEFERRED:
            return [from_payload(row.payload)]
        channel, route = str(row.payload.get("channel")), str(row.payload.get("route"))
        receiver = self._receivers.get(channel, route)
        if not isinstance(receiver, DeferredReceiver):
            raise NotFound("webhook receiver that reads stored deliveries", route[:64])
        return receiver.read(row.body, now)

    def _mine(self, row: InboxEvent, now: datetime, claimed: bool) -> bool:
        """Whether this worker may apply the row: it holds the claim, or (unclaimed) the row
        is due."""
        return row.held_by(self._worker, now) or (not claimed and row.due(now))

    def _apply_now(self, inbox_ids: Sequence[str]) -> None:
        """Inline: apply at once. A failure is recorded on the row; the worker tries again,
        and the provider still gets its 2xx: the event is safely stored."""
        for inbox_id in inbox_ids:
            try:
                self.apply(inbox_id)
            except JustDrivingError:
                continue  # recorded on the row
            except Exception as error:  # stored already: the provider gets its 2xx
                self._release(inbox_id, error)
                if self._on_failure is not None:
                    self._on_failure(inbox_id, error)

    def _release(self, inbox_id: str, error: Exception) -> None:
        """An unexpected failure: record it so the worker tries again at once, not after the
        lease; if even that fails, the lease runs out and the worker takes the row over."""
        try:
            with self._uow() as uow:
                row = uow.inbox.get(inbox_id)
                if self._mine(row, self._clock.now(), claimed=False):
                    row.failed(f"{type(error).__name__}: {error}")
                    uow.commit()
        except Exception:  # noqa: S110 - the lease is the fallback
            pass


def _dispatch_all(uow: UnitOfWork, events: Sequence[InboundEvent], now: datetime) -> EventOutcome:
    """Each event in turn (a delivery read from its raw body may carry several, as a Stripe
    charge.refunded does one per refund): APPLIED when any was, else HELD when any was."""
    outcomes = [_dispatch(uow, event, now) for event in events]
    for outcome in (EventOutcome.APPLIED, EventOutcome.HELD):
        if outcome in outcomes:
            return outcome
    return EventOutcome.IGNORED


def _dispatch(uow: UnitOfWork, event: InboundEvent, now: datetime) -> EventOutcome:
    if isinstance(event, ProviderPaymentEvent):
        if event.kind is PaymentEventKind.UNKNOWN:
            return EventOutcome.IGNORED
        if event.kind.is_setup:
            return apply_setup_event(uow, event, now)
        if event.kind.is_account:
            return apply_account_event(uow, event, now)
        return apply_payment_event(uow, event, now)
    if isinstance(event, DeliveryReceipt):
        applied = apply_receipt(uow, event, now)
        return EventOutcome.APPLIED if applied else EventOutcome.IGNORED
    if isinstance(event, InboundSms):
        apply_inbound_sms(uow, event, now)
        return EventOutcome.APPLIED
    return EventOutcome.IGNORED


def _note(uow: UnitOfWork, events: Sequence[InboundEvent]) -> str | None:
    """What operators should know of an applied event: one about an account we do not know."""
    for event in events:
        if isinstance(event, ProviderPaymentEvent):
            note = unknown_account_note(uow, event)
            if note is not None:
                return note
    return None


def _request(provider: str, body: bytes, headers: Mapping[str, str]) -> WebhookRequest:
    return WebhookRequest(f"/webhook/payments/{provider}", body, headers)
