"""Follow-ups of domain events: one table of reactions, run inside the transaction.

Before a unit of work commits, the events its aggregates recorded are handed to the reactions
registered for their type; a reaction may change other aggregates, whose events follow in a
further round, until none is left. Then it commits: every change and outbox row a reaction
makes is atomic with its cause, and a failing reaction leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self, TypeVar, cast

from justdriving.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRescheduled,
    CreditNoteIssued,
    CustomerChargeDeclined,
    CustomerChargeRequiresAction,
    DepositReturned,
    DepositSecured,
    DepositSettled,
    DomainEvent,
    InvoiceIssued,
    InvoicePaid,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentHeldForReview,
    PaymentMethodSaved,
    PaymentOverpaid,
    PaymentSucceeded,
    PlanPaused,
    RefundFailed,
    RefundSucceeded,
    StudentDetailsChanged,
)
from justdriving.domain.services.followups.alerts import (
    alert_overpaid,
    alert_payment_held,
    alert_refund_failed,
)
from justdriving.domain.services.followups.bookings import (
    booking_cancelled,
    booking_completed,
    booking_confirmed,
    booking_marked_no_show,
    booking_rescheduled,
)
from justdriving.domain.services.followups.books import (
    credit_note_to_books,
    invoice_to_books,
    payment_to_books,
    student_to_books,
)
from justdriving.domain.services.followups.charges import charge_declined, charge_needs_student
from justdriving.domain.services.followups.deposits import (
    deposit_returned,
    deposit_secured,
    deposit_settled,
)
from justdriving.domain.services.followups.invoices import invoice_issued
from justdriving.domain.services.followups.payments import (
    payment_authorized,
    payment_canceled,
    payment_succeeded,
)
from justdriving.domain.services.followups.plans import (
    card_saved_for_paused_plans,
    plan_invoice_paid,
    plan_paused,
)
from justdriving.domain.services.followups.refunds import refund_booked
from justdriving.domain.services.followups.teachers import (
    teacher_told_booked,
    teacher_told_cancelled,
    teacher_told_moved,
    teacher_told_no_show,
)
from justdriving.domain.services.outgoing_events import OutgoingEvents
from justdriving.domain.services.subscriptions import Subscribers
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

E = TypeVar("E", bound=DomainEvent)
Reaction = Callable[[UnitOfWork, DomainEvent, datetime], None]
Reactions = Mapping[type[DomainEvent], tuple[Reaction, ...]]

# A chain of follow-ups this long is a loop (a reaction recording what it reacts to).
MAX_ROUNDS: Final = 10


class EndlessReactions(RuntimeError):
    """A bug, not a broken rule: the reactions kept recording new events round after round
    (a reaction recording what it reacts to). The unit of work is rolled back."""


def on(kind: type[E], *reactions: Callable[[UnitOfWork, E, datetime], None]) -> Reactions:
    """`kind`'s reactions, each checked to take that event."""
    return {kind: tuple(cast(Reaction, reaction) for reaction in reactions)}


REACTIONS: Final[Reactions] = {
    # the confirmation to the students, the new lesson to the teacher
    **on(BookingConfirmed, booking_confirmed, teacher_told_booked),
    **on(BookingRescheduled, booking_rescheduled, teacher_told_moved),  # the new time to both
    # fee, package credit, deposit, the students' message; the teacher's
    **on(BookingCancelled, booking_cancelled, teacher_told_cancelled),
    **on(BookingCompleted, booking_completed),  # the lesson's invoice, deposit
    # the fee's invoice, deposit; the teacher told
    **on(BookingMarkedNoShow, booking_marked_no_show, teacher_told_no_show),
    **on(DepositSecured, deposit_secured),  # booking confirmed (or the deposit given back)
    **on(DepositSettled, deposit_settled),  # counted against the invoice, or captured for it
    **on(DepositReturned, deposit_returned),  # hold released or payment refunded
    **on(InvoiceIssued, invoice_issued),  # the email to the student
    **on(PaymentSucceeded, payment_succeeded),  # invoice, package, deposit, receipt
    **on(PaymentAuthorized, payment_authorized),  # deposit secured, booking confirmed
    **on(PaymentCanceled, payment_canceled),  # deposit given back
    **on(RefundSucceeded, refund_booked),  # overpayment or invoice, credit note, confirmation
    # the school's staff told (in the next digest)
    **on(PaymentHeldForReview, alert_payment_held),
    **on(PaymentOverpaid, alert_overpaid),
    **on(RefundFailed, alert_refund_failed),
    **on(CustomerChargeRequiresAction, charge_needs_student),  # the pay link to the student
    # the retry on the ladder, the plan told, the pay link to the student
    **on(CustomerChargeDeclined, charge_declined),
    **on(InvoicePaid, plan_invoice_paid),  # a plan's charge paid, the package's credits
    **on(PlanPaused, plan_paused),  # the school's staff told
    **on(PaymentMethodSaved, card_saved_for_paused_plans),  # a paused plan's charge tried on it
}

# What must reach the books, queued for the accounting push (when the application pushes).
BOOKS: Final[Reactions] = {
    **on(InvoiceIssued, invoice_to_books),
    **on(PaymentSucceeded, payment_to_books),
    **on(CreditNoteIssued, credit_note_to_books),
    **on(StudentDetailsChanged, student_to_books),  # the contact in the books follows
}


def combined(*tables: Reactions) -> Reactions:
    """One table: each event's reactions from every table, in the order given."""
    merged: dict[type[DomainEvent], tuple[Reaction, ...]] = {}
    for table in tables:
        for kind, reactions in table.items():
            merged[kind] = merged.get(kind, ()) + reactions
    return merged


def react(uow: UnitOfWork, reactions: Reactions, now: datetime) -> list[DomainEvent]:
    """Run the reactions to every pending event, round after round, until none is left;
    return every event handled, in order."""
    handled: list[DomainEvent] = []
    for _ in range(MAX_ROUNDS):
        events = uow.collect_events()
        if not events:
            return handled
        handled += events
        for event in events:
            for reaction in reactions.get(type(event), ()):
                reaction(uow, event, now)
    left = uow.collect_events()
    if left:
        names = ", ".join(sorted({event.name for event in left}))
        raise EndlessReactions(f"events still recorded after {MAX_ROUNDS} rounds: {names}")
    return handled


class ReactingUnitOfWork:
    """A unit of work whose `commit` runs the reactions first (and queues the events the host's
    endpoint wants) and, once committed, hands the events to the host's subscribers.
    Everything else is the inner unit of work's (repositories are read through each time: a
    rollback replaces them)."""

    def __init__(
        self,
        inner: UnitOfWork,
        reactions: Reactions,
        clock: Clock,
        subscribers: Subscribers | None = None,
        outgoing: OutgoingEvents | None = None,
    ) -> None:
        self._inner, self._reactions, self._clock = inner, reactions, clock
        self._subscribers, self._outgoing = subscribers, outgoing

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        try:
            now = self._clock.now()
            events = react(self, self._reactions, now)
            if self._outgoing is not None:  # the host's deliveries, atomic with their cause
                self._outgoing.queue(self, events, now)
        except BaseException:
            self._inner.rollback()  # no half-reacted state may be committed later
            raise
        self._inner.commit()
        if self._subscribers is not None:
            self._subscribers.publish(events)

    def rollback(self) -> None:
        self._inner.rollback()

    def collect_events(self) -> list[DomainEvent]:
        return self._inner.collect_events()


class Reacting:
    """Wraps a unit-of-work factory so that every unit of work it makes reacts before it
    commits (`Application` applies it to the factory it is given)."""

    def __init__(
        self,
        inner: UnitOfWorkFactory,
        clock: Clock,
        reactions: Reactions = REACTIONS,
        subscribers: Subscribers | None = None,
        outgoing: OutgoingEvents | None = None,
    ) -> None:
        self.inner, self._clock, self._reactions = inner, clock, reactions
        self._subscribers, self._outgoing = subscribers, outgoing

    def __call__(self) -> UnitOfWork:
        return ReactingUnitOfWork(
            self.inner(), self._reactions, self._clock, self._subscribers, self._outgoing
        )
