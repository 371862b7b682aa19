"""Raising a staff alert: recorded where the problem is found, in its transaction, worded in
the school's language (mailed later in a digest by `staff_alerts.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from justdriving.domain.ids import new_id
from justdriving.domain.schools import School
from justdriving.domain.staff_alerts import AlertKind, StaffAlert
from justdriving.ports.persistence import UnitOfWork

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
