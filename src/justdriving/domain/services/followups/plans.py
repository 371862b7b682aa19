"""What a plan's invoices and the student's cards mean for a payment plan (registered in
`reactions.py`): a paid charge unlocks its credits, a newly saved card retries a paused plan's
charge, a pause tells the school's staff.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import InvoicePaid, PaymentMethodSaved, PlanPaused
from justdriving.domain.formatting import money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.packages import PackageStatus
from justdriving.domain.plans import ChargeState, PlanStatus
from justdriving.domain.services.steps.alerts import raise_alert
from justdriving.domain.staff_alerts import AlertKind
from justdriving.ports.persistence import UnitOfWork


def plan_invoice_paid(uow: UnitOfWork, event: InvoicePaid, now: datetime) -> None:
    """A plan's invoice is paid: its charge counts as paid, and an instalment unlocks its
    share of the package's credits."""
    invoice = uow.invoices.get(event.invoice_id)
    if invoice.plan_id is None:
        return
    plan = uow.plans.get(invoice.plan_id)
    if plan.charge_paid(invoice.id, now) is None or plan.package_id is None:
        return
    package = uow.packages.get(plan.package_id)
    if package.status is not PackageStatus.CLOSED:  # refunded meanwhile: nothing to unlock
        package.unlock(plan.credits_unlocked(package.lessons))


def card_saved_for_paused_plans(uow: UnitOfWork, event: PaymentMethodSaved, now: datetime) -> None:
    """A student whose plan paused on a failed charge saved a card: that charge is tried on
    the new card (the relay charges it under the next attempt's key); paid, the plan resumes."""
    customer = uow.payment_customers.get(event.customer_id)
    for plan in uow.plans.for_student(customer.school_id, customer.student_id):
        if plan.status is not PlanStatus.PAUSED:
            continue
        for charge in plan.charges:
            if charge.state is not ChargeState.FAILED:
                continue
            reason = plan.reason(charge.sequence)
            uow.outbox.add(
                OutboxMessage.queued(
                    plan.school_id,
                    OutboxKind.CHARGE_CUSTOMER,
                    {
                        "invoice_id": charge.invoice_id,
                        "kind": reason.kind.value,
                        "reference": reason.reference,
                    },
                    f"charge-{reason.key}-on-{event.provider_method_id}",
                    now,
                )
            )


def plan_paused(uow: UnitOfWork, event: PlanPaused, now: datetime) -> None:
    """Tell the school's staff (in the next digest) that a plan stopped charging."""
    plan = uow.plans.get(event.plan_id)
    school = uow.schools.get(plan.school_id)
    charge = plan.charges[event.sequence]
    facts = {
        "student": uow.students.get(plan.student_id).name,
        "what": plan.description,
        "amount": money(charge.amount, school.settings.language),
    }
    raise_alert(
        uow, school, AlertKind.PLAN_PAUSED, f"/ops/invoices/{charge.invoice_id}", now, **facts
    )
