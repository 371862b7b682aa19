"""The periodic jobs, declared once.

The thread worker (`justdriving worker`) loops over this list, and the Celery beat schedule is
generated from it (`entrypoints/celery_app.py`), so a Celery deployment does everything the
thread worker does. A job's name is its Celery task's name. The relay job is the one each
driver performs its own way: the thread worker relays due rows in its own process, Celery
claims them and hands each to a task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from attrs import frozen

from justdriving.application import Application
from justdriving.config import Settings
from justdriving.domain.errors import JustDrivingError

log = logging.getLogger("justdriving.worker")

REMINDERS = "justdriving.reminders"
AGENDAS = "justdriving.teacher_agendas"
STAFF_ALERTS = "justdriving.staff_alerts"
STAFF_ALERTS_EVERY = 300.0  # a storm within five minutes is one message
ACCOUNTING = "justdriving.accounting.reconcile"
PLANS = "justdriving.payment_plans"
CARD_EXPIRY = "justdriving.card_expiry"
DEPOSIT_HOLDS = "justdriving.deposit_holds"
CARD_EXPIRY_EVERY = 6 * 3600.0  # each card is noticed once; a few looks a day are plenty
INBOX = "justdriving.inbox"
DISPATCH = "justdriving.relay.dispatch"


@frozen
class Ran:
    """What a job did: whether it found work (the thread worker then goes round again at once),
    and one line for a person (`worker --once`)."""

    busy: bool
    said: str


@frozen
class PeriodicJob:
    """`run(app)` every `every` seconds (0: every round of the thread worker)."""

    name: str
    every: float
    run: Callable[[Application], Ran]


def periodic_jobs(
    *,
    relay_every: float = 0.0,
    reminders_every: float = 60.0,
    accounting_every: float | None = None,
    alerts_every: float = STAFF_ALERTS_EVERY,
) -> list[PeriodicJob]:
    """Every periodic job, in the order a round of the thread worker runs them: what the
    schedules queue is relayed in the same round. `accounting_every` None: no reconciliation
    (ACCOUNTING_SYNC_ENABLED off)."""
    jobs = [
        PeriodicJob(REMINDERS, reminders_every, send_reminders),
        PeriodicJob(AGENDAS, reminders_every, send_teacher_agendas),
        PeriodicJob(STAFF_ALERTS, alerts_every, send_staff_alerts),
        PeriodicJob(PLANS, reminders_every, charge_due_plans),
        PeriodicJob(CARD_EXPIRY, CARD_EXPIRY_EVERY, notice_expiring_cards),
        PeriodicJob(DEPOSIT_HOLDS, reminders_every, charge_lapsing_deposits),
    ]
    if accounting_every is not None:
        jobs.append(PeriodicJob(ACCOUNTING, accounting_every, reconcile_accounting))
    jobs += [
        PeriodicJob(INBOX, relay_every, apply_inbox),
        PeriodicJob(DISPATCH, relay_every, relay_outbox),
    ]
    return jobs


def scheduled(
    settings: Settings,
    *,
    relay_every: float = 0.0,
    reminders_every: float = 60.0,
    alerts_every: float = STAFF_ALERTS_EVERY,
) -> list[PeriodicJob]:
    """The periodic jobs `settings` ask for (ACCOUNTING_SYNC_ENABLED, ACCOUNTING_SYNC_INTERVAL)."""
    enabled = settings.accounting_sync_enabled
    return periodic_jobs(
        relay_every=relay_every,
        reminders_every=reminders_every,
        accounting_every=float(settings.accounting_sync_interval) if enabled else None,
        alerts_every=alerts_every,
    )


def send_reminders(app: Application) -> Ran:
    """Queue the lesson and overdue-invoice reminders that are due."""
    report = app.send_reminders()
    if report.lessons or report.overdue_invoices:
        log.info(
            "reminders queued: %d lesson, %d overdue invoice",
            report.lessons,
            report.overdue_invoices,
        )
    said = f"queued {report.lessons} lesson and {report.overdue_invoices} overdue reminder(s)"
    return Ran(False, said)


def send_teacher_agendas(app: Application) -> Ran:
    """Queue each teacher's agenda of the day once its school's agenda hour has come."""
    queued = app.send_teacher_agendas()
    if queued:
        log.info("teacher agendas queued: %d message(s)", queued)
    return Ran(False, f"queued {queued} teacher agenda message(s)")


def send_staff_alerts(app: Application) -> Ran:
    """Queue one digest per school of the staff alerts waiting for it."""
    report = app.send_staff_alerts()
    if report.alerts:
        log.info("staff alerts: %d in %d digest(s)", report.alerts, report.mailed)
    if report.unaddressed:
        log.warning("staff alerts: %d with no address to mail them to", report.unaddressed)
    return Ran(False, f"queued {report.mailed} staff alert digest(s) of {report.alerts} alert(s)")


def charge_due_plans(app: Application) -> Ran:
    """Bill the payment plans' charges that have fallen due (the relay charges the cards)."""
    billed = app.charge_due_plans()
    if billed:
        log.info("payment plans: %d charge(s) billed", billed)
    return Ran(billed > 0, f"billed {billed} payment plan charge(s)")


def notice_expiring_cards(app: Application) -> Ran:
    """Tell the students whose saved card expires before its next charge."""
    told = app.notice_expiring_cards()
    if told:
        log.info("card expiry: %d student(s) told", told)
    return Ran(False, f"told {told} student(s) their card expires")


def charge_lapsing_deposits(app: Application) -> Ran:
    """Charge to the saved card the deposits whose card hold would lapse before the lesson."""
    charged = app.charge_lapsing_deposits()
    if charged:
        log.info("deposit holds: %d charged to the saved card", charged)
    return Ran(False, f"charged {charged} lapsing deposit hold(s) to the saved card")


def reconcile_accounting(app: Application) -> Ran:
    """Queue for the accounting push whatever is not in the books yet; the relay pushes it."""
    try:
        queued = app.reconcile_accounting()
    except JustDrivingError as error:  # no provider configured, say: the relay goes on
        log.error("accounting reconciliation failed: %s", error)
        return Ran(False, f"accounting reconciliation failed: {error}")
    if queued:
        log.info("accounting reconciliation queued %d records for the books", queued)
    return Ran(queued > 0, f"queued {queued} record(s) for the books")


def apply_inbox(app: Application) -> Ran:
    """Apply the webhooks the web processes stored."""
    applied = app.apply_inbox()
    return Ran(False, f"applied {applied} webhook(s) from the inbox")


def relay_outbox(app: Application) -> Ran:
    """Relay a batch of due outbox rows in this process."""
    report = app.relay_outbox()
    if report.claimed:
        log.info(
            "relay: %d sent, %d to retry, %d dead, %d deferred",
            report.sent,
            report.retried,
            report.dead,
            report.deferred,
        )
    said = (
        f"relayed {report.claimed} outbox row(s) ({report.sent} sent, {report.retried} to "
        f"retry, {report.dead} dead, {report.deferred} deferred)"
    )
    return Ran(report.claimed > 0, said)
