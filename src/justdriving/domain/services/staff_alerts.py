"""Staff alerts: recorded where the problem is found, in its transaction; mailed in digests.

`raise_alert` (`steps/alerts.py`) records one (a follow-up of a payment held for review, an
overpayment or a refund the provider refused; the relay when it gives up on an outbox row; the
dunning ladder when an overdue invoice blocks a student from booking). `StaffAlerts.send_digests` (a
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

from justdriving.domain.outbox import OutboxMessage
from justdriving.domain.people import EmailAddress
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.steps.alerts import raise_alert
from justdriving.domain.services.steps.messages import queue_to_address
from justdriving.domain.staff_alerts import AlertKind, StaffAlert
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("justdriving.alerts")

DIGEST_SIZE: Final = 200  # alerts read per round; more wait for the next round


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
