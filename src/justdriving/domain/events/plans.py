"""Events of payment plans (instalments and monthly fees)."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent
from justdriving.domain.money import Money


@frozen
class PlanStarted(DomainEvent):
    """A payment plan began: a package's price in instalments, or a monthly fee."""

    topic: ClassVar[str] = "payment_plan.started"

    plan_id: str
    student_id: str
    kind: str  # instalments | recurring
    amount: Money  # instalments: the whole price; recurring: each month's fee
    package_id: str | None


@frozen
class PlanChargePaid(DomainEvent):
    """One of a plan's charges (an instalment, a month's fee) is paid."""

    topic: ClassVar[str] = "payment_plan.charge_paid"

    plan_id: str
    sequence: int
    invoice_id: str
    amount: Money


@frozen
class PlanChargeFailed(DomainEvent):
    """The card was declined for one of a plan's charges; `retrying` says whether another
    attempt is scheduled."""

    topic: ClassVar[str] = "payment_plan.charge_failed"

    plan_id: str
    sequence: int
    invoice_id: str
    retrying: bool


@frozen
class PlanPaused(DomainEvent):
    """A plan's charge failed for good: nothing more falls due until its invoice is paid."""

    topic: ClassVar[str] = "payment_plan.paused"

    plan_id: str
    sequence: int


@frozen
class PlanCompleted(DomainEvent):
    topic: ClassVar[str] = "payment_plan.completed"

    plan_id: str


@frozen
class PlanCancelled(DomainEvent):
    topic: ClassVar[str] = "payment_plan.cancelled"

    plan_id: str
