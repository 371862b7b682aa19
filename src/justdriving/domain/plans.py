"""Payment plans: a package paid in instalments, or a recurring fee, charged on the card on file.

A plan knows when each of its charges falls due (a month apart from its start) and what
became of each one it billed: its invoice, whether it was paid, how often the card was
declined. The worker bills a charge once its day has come, decided from the stored plan alone,
so a restart neither skips nor repeats one: a charge is numbered, and its charge reason (the
plan's id and that number) keys the payment and the provider's idempotency key. A charge whose
card keeps being declined ends failed and pauses the plan until its invoice is paid (by the
pay link, by hand); a cancelled plan bills nothing more. Nothing here knows a provider.
"""

from __future__ import annotations

import calendar
import enum
from datetime import datetime

from attrs import define, field

from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.events import (
    EventLog,
    PlanCancelled,
    PlanChargeFailed,
    PlanChargePaid,
    PlanCompleted,
    PlanPaused,
    PlanStarted,
)
from justdriving.domain.ids import SchoolId, StudentId
from justdriving.domain.moments import check_moment
from justdriving.domain.money import Money

MOST_INSTALMENTS = 24
MOST_PERIODS = 1_200  # a century of months: a recurring fee without an end stops somewhere


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later, on the month's last day where it is shorter
    (31 January + 1 month is 28 or 29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def split(total: Money, parts: int) -> list[Money]:
    """`total` in `parts` instalments as equal as minor units allow, the odd units first:
    they add up to `total` exactly."""
    base, odd = divmod(total.amount, parts)
    return [Money(base + (1 if n < odd else 0), total.currency) for n in range(parts)]


class PlanKind(enum.StrEnum):
    INSTALMENTS = "instalments"  # a package's price in N monthly parts
    RECURRING = "recurring"  # a fee every month from a start until an end or cancellation


class PlanStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # a charge failed for good; resumes when its invoice is paid
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ChargeState(enum.StrEnum):
    BILLED = "billed"  # invoiced and charged (or being retried)
    FAILED = "failed"  # declined for good: owed by the pay link
    PAID = "paid"


@define
class PlanCharge:
    """One charge of a plan: its number (from 0), when it fell due, and its invoice."""

    sequence: int
    due_at: datetime
    amount: Money
    invoice_id: str
    state: ChargeState = ChargeState.BILLED
    declines: int = 0
    paid_at: datetime | None = None


@define(eq=False)
class PaymentPlan(Entity):
    id: str
    school_id: SchoolId
    student_id: StudentId
    kind: PlanKind
    amount: Money  # instalments: the whole price; recurring: each month's fee
    starts_at: datetime
    description: str
    created_at: datetime
    count: int | None = None  # instalments: how many
    ends_at: datetime | None = None  # recurring: no charge falls due at or after it
    package_id: str | None = None
    status: PlanStatus = PlanStatus.ACTIVE
    charges: list[PlanCharge] = field(factory=list)
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    def __attrs_post_init__(self) -> None:
        check_moment(self.starts_at, "a plan's start")
        if not isinstance(self.amount, Money) or not self.amount.is_positive:
            raise InvalidInput("a plan charges a positive amount")
        if not self.description.strip() or len(self.description) > 200:
            raise InvalidInput("a plan is described in 1 to 200 characters")
        if self.kind is PlanKind.INSTALMENTS:
            if type(self.count) is not int or not 2 <= self.count <= MOST_INSTALMENTS:
                raise InvalidInput(f"a package is paid in 2 to {MOST_INSTALMENTS} instalments")
            if self.amount.amount < self.count:
                raise InvalidInput("each instalment is at least one minor unit")
        if (
            self.ends_at is not None
            and check_moment(self.ends_at, "a plan's end") <= self.starts_at
        ):
            raise InvalidInput("a plan ends after it starts")

    @classmethod
    def start(cls, plan: PaymentPlan, now: datetime) -> PaymentPlan:
        """A new plan, announced."""
        plan.events.record(
            PlanStarted(
                now,
                plan.id,
                plan.student_id,
                plan.kind.value,
                plan.amount,
                plan.package_id,
                school_id=plan.school_id,
            )
        )
        return plan

    # What falls due --------------------------------------------------------------------------

    def amount_of(self, sequence: int) -> Money:
        if self.kind is PlanKind.INSTALMENTS:
            assert self.count is not None
            return split(self.amount, self.count)[sequence]
        return self.amount

    def due_at(self, sequence: int) -> datetime:
        return add_months(self.starts_at, sequence)

    @property
    def next_due_at(self) -> datetime | None:
        """When the next charge falls due; None when the plan bills nothing more (paused,
        cancelled, completed, or every charge billed)."""
        if self.status is not PlanStatus.ACTIVE:
            return None
        sequence = len(self.charges)
        if self.kind is PlanKind.INSTALMENTS:
            assert self.count is not None
            return self.due_at(sequence) if sequence < self.count else None
        if sequence >= MOST_PERIODS:
            return None
        due = self.due_at(sequence)
        return due if self.ends_at is None or due < self.ends_at else None

    def reason(self, sequence: int) -> ChargeReason:
        """The charge reason of charge `sequence`: it keys the payment, so one charge is
        never made twice."""
        kind = (
            ChargeKind.INSTALMENT if self.kind is PlanKind.INSTALMENTS else ChargeKind.RECURRING_FEE
        )
        return ChargeReason(kind, f"{self.id}:{sequence}")

    # Verbs -----------------------------------------------------------------------------------

    def bill(self, invoice_id: str, now: datetime) -> PlanCharge:
        """The next charge fell due and is invoiced as `invoice_id` (to be charged now)."""
        due = self.next_due_at
        if due is None or due > now:
            raise InvalidTransition("payment plan", self.status, "bill a charge not due")
        charge = PlanCharge(len(self.charges), due, self.amount_of(len(self.charges)), invoice_id)
        self.charges.append(charge)
        return charge

    def charge_paid(self, invoice_id: str, now: datetime) -> PlanCharge | None:
        """The invoice of one of the plan's charges is paid (by the card, the pay link, by
        hand). A paused plan resumes when nothing it billed is failed any more; the last
        instalment completes the plan. The same news again changes nothing (None)."""
        charge = self._charge(invoice_id)
        if charge.state is ChargeState.PAID:
            return None
        charge.state, charge.paid_at = ChargeState.PAID, now
        self.events.record(
            PlanChargePaid(
                now,
                self.id,
                charge.sequence,
                charge.invoice_id,
                charge.amount,
                school_id=self.school_id,
            )
        )
        if self.status is PlanStatus.PAUSED and not self._failed():
            self.status = PlanStatus.ACTIVE
        if self.status is PlanStatus.ACTIVE and self._finished():
            self.status = PlanStatus.COMPLETED
            self.events.record(PlanCompleted(now, self.id, school_id=self.school_id))
        return charge

    def charge_declined(self, invoice_id: str, retrying: bool, now: datetime) -> PlanCharge:
        """The card was declined for one of the plan's charges. Unless a retry is scheduled
        the charge has failed for good and the plan pauses."""
        charge = self._charge(invoice_id)
        if charge.state is not ChargeState.BILLED:
            return charge
        charge.declines += 1
        self.events.record(
            PlanChargeFailed(
                now,
                self.id,
                charge.sequence,
                charge.invoice_id,
                retrying,
                school_id=self.school_id,
            )
        )
        if not retrying:
            charge.state = ChargeState.FAILED
            if self.status is PlanStatus.ACTIVE:
                self.status = PlanStatus.PAUSED
                self.events.record(
                    PlanPaused(now, self.id, charge.sequence, school_id=self.school_id)
                )
        return charge

    def cancel(self, now: datetime) -> None:
        """No charge falls due any more; what was billed stays owed."""
        if self.status in (PlanStatus.COMPLETED, PlanStatus.CANCELLED):
            raise InvalidTransition("payment plan", self.status, "cancel")
        self.status = PlanStatus.CANCELLED
        self.events.record(PlanCancelled(now, self.id, school_id=self.school_id))

    # Figures ---------------------------------------------------------------------------------

    @property
    def paid(self) -> int:
        return sum(1 for charge in self.charges if charge.state is ChargeState.PAID)

    def credits_unlocked(self, lessons: int) -> int:
        """Of a package of `lessons`, the credits the instalments paid so far unlock: in
        proportion, rounded down, all of them with the last."""
        if self.kind is not PlanKind.INSTALMENTS or self.count is None:
            return 0
        return lessons * self.paid // self.count

    def _charge(self, invoice_id: str) -> PlanCharge:
        for charge in self.charges:
            if charge.invoice_id == invoice_id:
                return charge
        raise InvalidInput("the invoice is not one of the plan's charges")

    def _failed(self) -> bool:
        return any(charge.state is ChargeState.FAILED for charge in self.charges)

    def _finished(self) -> bool:
        everything_paid = all(charge.state is ChargeState.PAID for charge in self.charges)
        return everything_paid and self.next_due_at is None
