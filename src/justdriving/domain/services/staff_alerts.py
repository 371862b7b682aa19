"""Staff alerts: recorded where the problem is found, in its transaction; mailed in digests.

`raise_alert` records one (a reaction to a payment held for review, an overpayment or a
refund the provider refused; the relay when it gives up on an outbox row; the dunning ladder
when an overdue invoice blocks a student from booking). `StaffAlerts.send_digests` (a
scheduled job) mails each school one message listing every alert waiting for it, to the
school's contact address, or to STAFF_ALERT_EMAIL when the school has none; a storm of a
hundred is one message. Each line links to the ops page's row. An alert with nobody to mail
it to is marked handled, so it is not carried forever.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Final

from attrs import define

from justdriving.domain.events import PaymentHeldForReview, PaymentOverpaid, RefundFailed
from justdriving.domain.formatting import money
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxMessage
from justdriving.domain.payments import Payment
from justdriving.domain.people import EmailAddress
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.notifications import queue_to_address
from justdriving.domain.staff_alerts import AlertKind, StaffAlert
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("justdriving.alerts")

DIGEST_SIZE: Final = 200  # alerts read per round; more wait for the next round

_TEXTS: Final = {
    "da": {
        AlertKind.PAYMENT_HELD: "Betaling på {amount} fra {student} afventer gennemsyn",
        AlertKind.OVERPAYMENT: "{student} har betalt {amount} for meget; beløbet afventer",
        AlertKind.REFUND_REFUSED: "Refusion på {amount} til {student} blev afvist af udbyderen",
        AlertKind.OUTBOX_DEAD: "Afsendelse opgivet efter {attempts} forsøg ({what})",
        AlertKind.STUDENT_BLOCKED: (
            "{student} kan ikke booke: faktura {number} er {days} dage over forfald"
        ),
        AlertKind.PLAN_PAUSED: (
            "Betalingsplanen for {student} ({what}) er sat på pause: "
            "kortet blev afvist for {amount}"
        ),
    },
    "en": {
        AlertKind.PAYMENT_HELD: "A payment of {amount} from {student} is held for review",
        AlertKind.OVERPAYMENT: "{student} paid {amount} too much; it is held",
        AlertKind.REFUND_REFUSED: "A refund of {amount} to {student} was refused by the provider",
        AlertKind.OUTBOX_DEAD: "Gave up sending after {attempts} attempts ({what})",
        AlertKind.STUDENT_BLOCKED: (
            "{student} cannot book: invoice {number} is {days} days overdue"
        ),
        AlertKind.PLAN_PAUSED: (
            "The payment plan of {student} ({what}) is paused: the card was declined for {amount}"
        ),
    },
}


def raise_alert(
    uow: UnitOfWork,
    school: School,
    kind: AlertKind,
    ops_path: str,
    now: datetime,
    **facts: object,
) -> StaffAlert:
    """Record an alert for `school`'s staff, worded in the school's language."""
    texts = _TEXTS.get(school.settings.language, _TEXTS["en"])
    alert = StaffAlert(
        id=new_id("alr"),
        school_id=school.id,
        kind=kind,
        text=texts[kind].format(**facts),
        ops_path=ops_path,
        created_at=now,
    )
    uow.staff_alerts.add(alert)
    return alert


# Reactions ---------------------------------------------------------------------------------


def alert_payment_held(uow: UnitOfWork, event: PaymentHeldForReview, now: datetime) -> None:
    payment = uow.payments.get(event.payment_id)
    _about_payment(uow, payment, AlertKind.PAYMENT_HELD, payment.amount, now)


def alert_overpaid(uow: UnitOfWork, event: PaymentOverpaid, now: datetime) -> None:
    payment = uow.payments.get(event.payment_id)
    _about_payment(uow, payment, AlertKind.OVERPAYMENT, event.excess, now)


def alert_refund_failed(uow: UnitOfWork, event: RefundFailed, now: datetime) -> None:
    refund = uow.refunds.get(event.refund_id)
    payment = uow.payments.get(refund.payment_id)
    _about_payment(uow, payment, AlertKind.REFUND_REFUSED, refund.amount, now)


def _about_payment(
    uow: UnitOfWork, payment: Payment, kind: AlertKind, amount: Money, now: datetime
) -> None:
    """An alert naming the payment's student and an amount, linking to the payment's row."""
    school = uow.schools.get(payment.school_id)
    student = uow.students.get(payment.student_id).name
    shown = money(amount, school.settings.language)
    path = f"/ops/payments/{payment.id}"
    raise_alert(uow, school, kind, path, now, amount=shown, student=student)


def alert_outbox_dead(uow: UnitOfWork, row: OutboxMessage, now: datetime) -> None:
    """The relay gave up on `row` (its school's staff can retry it on the ops page)."""
    school = uow.schools.find(row.school_id)
    message_id = row.payload.get("message_id")
    message = uow.messages.find(str(message_id)) if message_id else None
    if school is None or (message is not None and message.type is MessageType.STAFF_ALERT):
        return  # a digest that could not go out is not announced by another digest
    facts = {"attempts": row.attempts, "what": row.kind.value}
    raise_alert(uow, school, AlertKind.OUTBOX_DEAD, f"/ops#outbox-{row.id}", now, **facts)


# The digest --------------------------------------------------------------------------------


@define
class DigestReport:
    mailed: int = 0  # digests queued
    alerts: int = 0  # alerts in them
    unaddressed: int = 0  # alerts with nobody to mail them to


class StaffAlerts:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        operator_email: str | None = None,
        ops_base_url: str | None = None,
    ) -> None:
        self._uow, self._clock = uow, clock
        self._operator = EmailAddress(operator_email) if operator_email else None
        self._base = (ops_base_url or "").rstrip("/")

    def send_digests(self) -> DigestReport:
        """One email per school listing every alert waiting for it (oldest first)."""
        report = DigestReport()
        now = self._clock.now()
        with self._uow() as uow:
            by_school: dict[str, list[StaffAlert]] = defaultdict(list)
            for alert in uow.staff_alerts.pending(DIGEST_SIZE):
                by_school[alert.school_id].append(alert)
            for school_id, alerts in by_school.items():
                school = uow.schools.get(school_id)
                self._mail(uow, school, alerts, now, report)
                for alert in alerts:
                    alert.mark_sent(now)
            uow.commit()
        return report

    def _mail(
        self,
        uow: UnitOfWork,
        school: School,
        alerts: list[StaffAlert],
        now: datetime,
        report: DigestReport,
    ) -> None:
        to = EmailAddress(school.contact_email) if school.contact_email else self._operator
        if to is None:
            log.warning("%d staff alerts of school %s: no address to mail", len(alerts), school.id)
            report.unaddressed += len(alerts)
            return
        context = {
            "alert_count": len(alerts),
            "alerts": [{"text": a.text, "link": self._base + a.ops_path} for a in alerts],
            "recipient_name": school.name,
            "school_name": school.name,
        }
        language = school.settings.language
        queue_to_address(uow, school, to, MessageType.STAFF_ALERT, context, language, now)
        report.mailed += 1
        report.alerts += len(alerts)
