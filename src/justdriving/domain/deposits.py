"""Deposits: a small amount securing a booking, later settled against its invoice or returned."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import define, field

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidTransition
from justdriving.domain.events import DepositReturned, DepositSecured, DepositSettled, EventLog
from justdriving.domain.ids import BookingId, DepositId, InvoiceId, PaymentId, SchoolId, StudentId
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode

# Card authorisations lapse after about 7 days; keep a day of margin for the capture itself.
HOLD_WINDOW = timedelta(days=6)


def capture_mode_for(lesson_start: datetime, now: datetime) -> CaptureMode:
    """Hold the card when the lesson is close enough; charge outright when it is further away."""
    return CaptureMode.MANUAL if lesson_start - now <= HOLD_WINDOW else CaptureMode.AUTOMATIC


class DepositStatus(enum.StrEnum):
    PENDING = "pending"
    SECURED = "secured"  # held or charged
    SETTLED = "settled"  # counted against the lesson's invoice
    RETURNED = "returned"  # hold released or refunded
    FAILED = "failed"


@define(eq=False)
class Deposit(Entity):
    id: DepositId
    school_id: SchoolId
    booking_id: BookingId
    student_id: StudentId
    payment_id: PaymentId
    amount: Money
    capture_mode: CaptureMode
    status: DepositStatus = DepositStatus.PENDING
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    def secure(self, now: datetime) -> None:
        """The payment is held or taken. Repeating it (a captured hold) is a no-op."""
        if self.status is DepositStatus.PENDING:
            self.status = DepositStatus.SECURED
            self.events.record(
                DepositSecured(now, self.id, self.booking_id, school_id=self.school_id)
            )

    def fail(self) -> None:
        if self.status is DepositStatus.PENDING:
            self.status = DepositStatus.FAILED

    def settle(self, invoice_id: InvoiceId, now: datetime) -> None:
        """Count the deposit against `invoice_id` (an invoice of its booking)."""
        if self.status is DepositStatus.SETTLED:
            return
        if self.status is not DepositStatus.SECURED:
            raise InvalidTransition("deposit", self.status, "settle")
        self.status = DepositStatus.SETTLED
        self.events.record(
            DepositSettled(now, self.id, self.payment_id, invoice_id, school_id=self.school_id)
        )

    def charged_on_file(self, payment_id: PaymentId) -> None:
        """The card hold securing the deposit was about to lapse and the deposit was charged
        to the saved card instead: from now on that charge is the deposit's payment."""
        if self.status is not DepositStatus.SECURED:
            raise InvalidTransition("deposit", self.status, "move to a charge on file")
        self.payment_id, self.capture_mode = payment_id, CaptureMode.AUTOMATIC

    def give_back(self, now: datetime) -> None:
        """Return the deposit: its follow-up releases the hold or refunds the payment."""
        if self.status is DepositStatus.RETURNED:
            return
        if self.status is not DepositStatus.SECURED:
            raise InvalidTransition("deposit", self.status, "return")
        self.status = DepositStatus.RETURNED
        self.events.record(
            DepositReturned(now, self.id, self.payment_id, self.amount, school_id=self.school_id)
        )
