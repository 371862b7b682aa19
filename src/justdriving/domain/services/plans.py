"""Payment plans: start one (a package in instalments, a monthly fee), cancel it, read it; bill
what has fallen due (the worker's job). What a plan's invoices mean for it follows their events
(`followups/plans.py`).

Billing a charge is one transaction: the plan records the charge (its number is the next one),
the charge's invoice is issued, and the charge to the saved card is queued for the relay under
a key derived from the plan and that number. A worker that dies before the commit billed
nothing; one that dies after it left the charge to the relay; two workers billing the same
plan conflict on its version, and the loser bills nothing. The relay charges as
`charge_customer` does, so the same charge is never made twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from justdriving.domain.errors import ConcurrencyConflict, InvalidInput
from justdriving.domain.formatting import date_text
from justdriving.domain.ids import BookingTypeId, PackageId, StudentId, new_id
from justdriving.domain.invoices import Invoice
from justdriving.domain.moments import check_moment, shifted
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.packages import LessonPackage, PackageStatus
from justdriving.domain.plans import PaymentPlan, PlanKind, PlanStatus
from justdriving.domain.schools import InvoiceService, School
from justdriving.domain.services.steps.billing import in_school, invoice_lines, line
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

BATCH = 100  # plans billed per run of the job; the rest in the next run
MOST_PER_PLAN = 24  # charges one plan catches up on in one run (after a long outage)

_LINE = {
    "da": {"instalment": "Rate {n} af {count}: {what}", "period": "{what}, fra {day}"},
    "en": {"instalment": "Instalment {n} of {count}: {what}", "period": "{what}, from {day}"},
}


class PaymentPlans:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    def start_instalment_plan(
        self,
        school_id: str,
        student_id: str,
        *,
        booking_type_id: str,
        lessons: int,
        price: Money,
        instalments: int,
        valid_for: timedelta | None = None,
    ) -> PaymentPlan:
        """Sell a package paid in `instalments` monthly charges to the student's saved card,
        the first due now: each paid instalment unlocks its share of the credits."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            booking_type = in_school(
                uow.booking_types.get(booking_type_id), school.id, "booking type"
            )
            _in_currency(price, school)
            if valid_for is not None and valid_for <= timedelta(0):
                raise InvalidInput("a package is valid for a positive time")
            package = LessonPackage(
                id=PackageId(new_id("pkg")),
                school_id=school.id,
                student_id=StudentId(student.id),
                booking_type_id=BookingTypeId(booking_type.id),
                lessons=lessons,
                price=price,
                single_lesson_price=booking_type.price,
                expires_at=shifted(now, valid_for) if valid_for else None,
                unlocked=0,
            )
            plan = PaymentPlan(
                id=new_id("plan"),
                school_id=school.id,
                student_id=StudentId(student.id),
                kind=PlanKind.INSTALMENTS,
                amount=price,
                starts_at=now,
                description=f"{lessons} x {booking_type.name}",
                created_at=now,
                count=instalments,
                package_id=package.id,
            )
            uow.packages.add(package)
            uow.plans.add(PaymentPlan.start(plan, now))
            uow.commit()
        return plan

    def start_recurring_fee(
        self,
        school_id: str,
        student_id: str,
        *,
        amount: Money,
        description: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
    ) -> PaymentPlan:
        """Charge `amount` to the student's saved card every month from `starts_at` (now)
        until `ends_at` (no charge falls due at or after it) or the plan is cancelled."""
        now = self._clock.now()
        start = now if starts_at is None else check_moment(starts_at, "the start")
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            _in_currency(amount, school)
            if start < now - timedelta(days=1):
                raise InvalidInput("a recurring fee starts from today on")
            plan = PaymentPlan(
                id=new_id("plan"),
                school_id=school.id,
                student_id=StudentId(student.id),
                kind=PlanKind.RECURRING,
                amount=amount,
                starts_at=start,
                description=description,
                created_at=now,
                ends_at=ends_at,
            )
            uow.plans.add(PaymentPlan.start(plan, now))
            uow.commit()
        return plan

    def cancel_plan(self, school_id: str, plan_id: str) -> PaymentPlan:
        """Stop the plan: nothing more falls due, and charges being retried are not tried
        again (their invoices stay owed). InvalidTransition for a completed or cancelled plan."""
        with self._uow() as uow:
            plan = in_school(uow.plans.get(plan_id), school_id, "payment plan")
            plan.cancel(self._clock.now())
            uow.commit()
        return plan

    def payment_plan(self, school_id: str, plan_id: str) -> PaymentPlan:
        """The plan with each charge billed so far (its invoice, paid or not)."""
        with self._uow() as uow:
            return in_school(uow.plans.get(plan_id), school_id, "payment plan")

    def payment_plans(self, school_id: str, student_id: str) -> list[PaymentPlan]:
        """The student's plans, oldest first."""
        with self._uow() as uow:
            student = in_school(uow.students.get(student_id), school_id, "student")
            plans = uow.plans.for_student(school_id, student.id)
        return sorted(plans, key=lambda plan: (plan.created_at, plan.id))

    def charge_due_plans(self) -> int:
        """Bill every plan charge that has fallen due (the worker's job): its invoice, and
        its charge to the saved card queued for the relay. Returns how many were billed."""
        now = self._clock.now()
        with self._uow() as uow:
            due = [plan.id for plan in uow.plans.due(now, BATCH)]
        return sum(self._bill_due(plan_id, now) for plan_id in due)

    def _bill_due(self, plan_id: str, now: datetime) -> int:
        billed = 0
        while billed < MOST_PER_PLAN:
            try:
                with self._uow() as uow:
                    plan = uow.plans.get(plan_id)
                    due = plan.next_due_at
                    if due is None or due > now:
                        return billed
                    if _package_closed(uow, plan):
                        plan.cancel(now)  # refunded: the rest of its price is not asked
                        uow.commit()
                        return billed
                    bill_charge(uow, plan, now)
                    uow.commit()
            except ConcurrencyConflict:
                return billed  # billed by another worker at the same moment
            billed += 1
        return billed


def bill_charge(uow: UnitOfWork, plan: PaymentPlan, now: datetime) -> Invoice:
    """The plan's next charge: invoiced, and queued to be charged to the saved card."""
    school = uow.schools.get(plan.school_id)
    language = uow.students.get(plan.student_id).language
    sequence = len(plan.charges)
    texts = _LINE.get(language, _LINE["en"])
    if plan.kind is PlanKind.INSTALMENTS:
        service = InvoiceService.PACKAGE
        text = texts["instalment"].format(n=sequence + 1, count=plan.count, what=plan.description)
    else:
        service = InvoiceService.MATERIALS
        day = date_text(school.local_time(plan.due_at(sequence)).date(), language)
        text = texts["period"].format(what=plan.description, day=day)
    item = line(school, service, text, plan.amount_of(sequence))
    # An instalment's invoice names its package, so its payment counts as the package's
    # (refund_package takes back what was paid, less the lessons taken); the credits it
    # unlocks are the plan's share, not all of them (`plan_invoice_paid`).
    package_id = PackageId(plan.package_id) if plan.package_id else None
    invoice = invoice_lines(
        uow, school, plan.student_id, [item], now, package_id=package_id, plan_id=plan.id
    )
    charge = plan.bill(invoice.id, now)
    reason = plan.reason(charge.sequence)
    uow.outbox.add(
        OutboxMessage.queued(
            school.id,
            OutboxKind.CHARGE_CUSTOMER,
            {"invoice_id": invoice.id, "kind": reason.kind.value, "reference": reason.reference},
            f"charge-{reason.key}",
            now,
        )
    )
    return invoice


def still_charged(uow: UnitOfWork, invoice: Invoice) -> bool:
    """Whether the card may still be charged for `invoice`: not when it is a charge of a plan
    that was cancelled since."""
    if invoice.plan_id is None:
        return True
    plan = uow.plans.find(invoice.plan_id)
    return plan is None or plan.status is not PlanStatus.CANCELLED


def _package_closed(uow: UnitOfWork, plan: PaymentPlan) -> bool:
    if plan.package_id is None:
        return False
    return uow.packages.get(plan.package_id).status is PackageStatus.CLOSED


def _in_currency(amount: Money, school: School) -> None:
    if amount.currency != school.currency:
        raise InvalidInput(f"the school charges in {school.currency}, not {amount.currency}")
