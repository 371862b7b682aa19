"""Campaign 4, crashes: the web tier and the worker are killed with SIGKILL at random moments
while the demo flow runs for one student after another, twenty times; each is started again at
once, as a process supervisor would.

The platform runs as in production, each tier a process of its own on one database:
`justdriving serve` (gunicorn, 2 workers) takes Stripe's webhooks and the checkout API, and
`justdriving worker` applies the inbox and relays the outbox to Stripe, Twilio and Mailgun (their
simulators, in this process, outlive every kill). Stripe delivers its webhooks as Stripe does:
every event, retried until the endpoint answers 2xx. The school's staff (this test) book,
cancel, take a MobilePay payment and refund through the library; the payer authorizes the
deposit and pays the lesson invoice at Stripe.

Per student the flow is the demo's: a lesson booked with a 100 kr. deposit held on the card, a
late cancellation (a 250 kr. fee, the hold captured against it), 150 kr. by MobilePay, a 50 kr.
refund of the deposit with its credit note, then a 500 kr. lesson invoice paid by checkout
through the web tier. After the last kill, with both tiers up, everything must settle:

- every balance equals invoiced - credited - paid + refunded, summed from the stored rows, and
  those are the flow's own figures (750, 50, 750, 50: a balance of 0);
- the books match the money at Stripe: each payment captured what Stripe captured, and each
  refund was made once at Stripe;
- every webhook stored is applied, every outbox row is done (none given up), and every message
  was sent at least once: each message the database calls sent is at Twilio or Mailgun; a
  message went out twice at most once per kill of the worker (the one it had in hand), and
  each one that did carries the relay's "may have gone out twice" note.

JUSTDRIVING_CAMPAIGN_SCALE multiplies the kills and the students.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.engine import make_url

from card_data import logged_card_numbers, stored_card_numbers
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.application import Application
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.bookings import BookingStatus, CancellationPolicy, CancelledBy, FeeTier
from justdriving.domain.errors import ConcurrencyConflict
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxStatus, OutboxStatus
from justdriving.domain.payments import Payment, PaymentMethod, PaymentStatus
from justdriving.domain.refunds import Refund, RefundStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.mailgun.simulator import MailgunSimulator
from justdriving.testing.stripe.simulator import StripeSimulator
from justdriving.testing.twilio.simulator import TwilioSimulator
from justdriving.testing.wire import ApiReply
from waiting import wait_for

from .crash_support import StripeDeliveries, Tier, answers
from .support import campaign_scale, own_postgres_database

KILLS = 20 * campaign_scale()
MIN_STUDENTS = 3 * campaign_scale()
MAX_STUDENTS = 40 * campaign_scale()
SETTLE_AFTER_START = (0.0, 0.5)  # seconds after the web tier answers again, then …
KILL_WITHIN = (0.0, 1.2)  # … once there is work in flight, the kill falls within this
LEASE_SECONDS = 2  # RELAY_LEASE_SECONDS: a killed worker's claimed rows come back this soon
API_TOKEN = "crash-campaign-api-token"  # the host application's bearer token for /api
SETTLE = 90.0  # seconds a step may wait for the platform (a kill costs a restart)
# After the last kill: a row whose attempts were cut short waits out the relay's backoff
# (30 s, 60 s, 120 s ...) before it goes again, so the end may take a few minutes on a busy
# machine. A bound on liveness, not a figure: the campaign's figures are what it reports.
FINAL_SETTLE = 300.0
PROVIDER_LATENCY = 0.05  # seconds each simulator takes to answer, after doing the work
DKK = "DKK"
T = TypeVar("T")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    with own_postgres_database("justdriving_crash") as url:
        yield url


class _Distant:
    """A provider across a network: it does the work, then its answer takes PROVIDER_LATENCY
    to arrive. A kill in that window finds the message sent (or the money moved) and not yet
    recorded, the window the relay's at-least-once promise is about."""

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        reply: ApiReply | None = super().answer(method, path, headers, body)  # type: ignore[misc]
        time.sleep(PROVIDER_LATENCY)
        return reply


class DistantStripe(_Distant, StripeSimulator):
    pass


class DistantTwilio(_Distant, TwilioSimulator):
    pass


class DistantMailgun(_Distant, MailgunSimulator):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Chaos(threading.Thread):
    """Kills the web tier, the worker or both, `kills` times, and starts what it killed at once.
    Each kill falls at a random moment once the tiers are up again and there is work in
    flight (a webhook on its way or stored, an outbox row due): the worker sleeps a second
    when idle, so a kill at any moment would mostly find nothing to interrupt."""

    def __init__(
        self,
        web: Tier,
        worker: Tier,
        health: str,
        busy: Callable[[], bool],
        held: Callable[[], int],
        kills: int,
        seed: int,
    ) -> None:
        super().__init__(name="chaos", daemon=True)
        self._web, self._worker, self._health, self._kills = web, worker, health, kills
        self._busy, self._held = busy, held
        self.stranded = 0  # outbox rows a killed worker held (claimed, not finished)
        self._rng = random.Random(seed)
        self.victims: Counter[str] = Counter()
        self.done = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while self.done < self._kills and not self._halt.is_set():
                wait_for(lambda: answers(self._health), "the web tier to answer", 60)
                if self._halt.wait(self._rng.uniform(*SETTLE_AFTER_START)):
                    return
                while not (self._busy() or self._halt.is_set()):  # a kill with work in hand
                    time.sleep(0.01)
                if self._halt.wait(self._rng.uniform(*KILL_WITHIN)):
                    return
                victim = self._rng.choice(["web", "worker", "both"])
                tiers = {"web": [self._web], "worker": [self._worker]}.get(
                    victim, [self._web, self._worker]
                )
                for tier in tiers:
                    tier.kill()
                if self._worker in tiers:
                    self.stranded += self._held()
                for tier in tiers:
                    tier.start()
                self.victims[victim] += 1
                self.done += 1
        except BaseException as error:  # reported by the test
            self.error = error

    def stop(self) -> None:
        self._halt.set()
        self.join(90)


def _retrying(call: Callable[[], T]) -> T:
    """A staff action that met a concurrent change (the worker applying a webhook to the same
    booking, say) committed nothing: the staff member tries again."""
    for _ in range(20):
        try:
            return call()
        except ConcurrencyConflict:
            time.sleep(0.05)
    return call()


class Flow:
    """The demo flow for one student after another, as staff and payer do it."""

    def __init__(self, app: Application, stripe: StripeSimulator, web: str) -> None:
        self.app, self.stripe, self.web = app, stripe, web
        self.school = app.register_school(
            "Køreskolen Nord",
            # No quiet hours, for students or teachers: the campaign runs on the real clock, at
            # any hour, and every message must go out before the settle deadline.
            settings=SchoolSettings(
                deposit_required=True, quiet_hours=None, teacher_quiet_hours=None
            ),
        )
        self.lesson = app.add_booking_type(
            self.school.id,
            "Driving lesson (45 min)",
            duration=timedelta(minutes=45),
            price=Money.parse("500.00", DKK),
            deposit=Money.parse("100.00", DKK),
            policy=CancellationPolicy(
                free_until_hours=24,
                tiers=(FeeTier(within_hours=24, percent=50), FeeTier(within_hours=2, percent=100)),
            ),
        )
        self.students: list[tuple[str, str]] = []  # (student id, booking id)
        self.checkout_retries = 0

    def one_student(self, n: int) -> None:
        app, school_id = self.app, self.school.id
        student = app.add_student(
            school_id, f"Elev {n}", phone=f"+45 2012{n:04d}", email=f"elev{n}@example.com"
        )
        # A teacher each: a teacher is told of every booking and cancellation by SMS, and more
        # than ten in an hour to one number are throttled for an hour (the delivery policy).
        teacher = app.add_teacher(school_id, f"Lærer {n}", phone=f"+45 2113{n:04d}")
        # 10 to 21 h ahead: inside the card-hold window, and cancelled late (a 50 % fee)
        ahead = timedelta(hours=10 + n % 12)
        start = app.clock.now().replace(second=0, microsecond=0) + ahead
        booking = _retrying(
            lambda: app.book_lesson(
                school_id,
                teacher_id=teacher.id,
                student_ids=[student.id],
                booking_type_id=self.lesson.id,
                start=start,
            )
        )
        self.students.append((student.id, booking.id))
        deposit = _retrying(lambda: app.start_deposit(school_id, booking.id))
        self.stripe.authorize(deposit.session.provider_payment_id)  # Stripe sends the webhook
        self._until(
            lambda: self._payment(deposit.payment.id).status is PaymentStatus.AUTHORIZED,
            f"student {n}'s deposit hold",
        )

        cancelled = _retrying(
            lambda: app.cancel_booking(school_id, booking.id, by=CancelledBy.STUDENT)
        )
        [fee] = cancelled.invoices
        self._until(  # the worker captures the hold; Stripe's webhook says it succeeded
            lambda: self._payment(deposit.payment.id).status is PaymentStatus.SUCCEEDED,
            f"student {n}'s deposit capture",
        )
        _retrying(
            lambda: app.record_manual_payment(
                school_id,
                student.id,
                amount=Money.parse("150.00", DKK),
                method=PaymentMethod.MOBILEPAY,
                invoice_id=fee.id,
                reference=f"MobilePay {n}",
            )
        )
        refund = _retrying(
            lambda: app.refund(
                school_id, deposit.payment.id, amount=Money.parse("50.00", DKK), reason="goodwill"
            )
        )
        self._until(
            lambda: self._refund_status(refund.id) is RefundStatus.SUCCEEDED,
            f"student {n}'s refund",
        )

        line = LineItem(InvoiceService.LESSON, "Driving lesson (45 min)", Money(50000, DKK))
        draft = _retrying(lambda: app.draft_invoice(school_id, student.id, [line]))
        invoice = _retrying(lambda: app.issue_invoice(school_id, draft.id))
        payment_id = self._checkout(invoice.id)
        intent = self._payment(payment_id).provider_payment_id
        assert intent is not None
        self.stripe.succeed(intent)
        self._until(
            lambda: self._invoice_status(invoice.id) is InvoiceStatus.PAID,
            f"student {n}'s lesson invoice",
        )

    def _checkout(self, invoice_id: str) -> str:
        """The payer's browser asks the web tier for a payment, again until it gets one."""
        body = json.dumps({"school_id": self.school.id}).encode()
        url = f"{self.web}/api/invoices/{invoice_id}/payments"
        deadline = time.monotonic() + SETTLE
        while True:
            request = urllib.request.Request(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {API_TOKEN}",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return str(json.loads(answer.read())["payment_id"])
            except (OSError, urllib.error.URLError):
                self.checkout_retries += 1
                assert time.monotonic() < deadline, "the checkout API never answered"
                time.sleep(0.1)

    def _until(self, condition: Callable[[], bool], what: str) -> None:
        wait_for(condition, what, SETTLE)

    def _payment(self, payment_id: str) -> Any:
        with self.app.uow() as uow:
            return uow.payments.get(payment_id)

    def _refund_status(self, refund_id: str) -> RefundStatus:
        with self.app.uow() as uow:
            return uow.refunds.get(refund_id).status

    def _invoice_status(self, invoice_id: str) -> InvoiceStatus:
        with self.app.uow() as uow:
            return uow.invoices.get(invoice_id).status


def _environment(
    url: str, web: str, stripe: StripeSimulator, twilio: TwilioSimulator, mailgun: MailgunSimulator
) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "APP_ENV": "development",
        "QUEUE_BACKEND": "worker",
        "PUBLIC_BASE_URL": web,
        "API_TOKEN": API_TOKEN,
        "RELAY_LEASE_SECONDS": str(LEASE_SECONDS),
        "PAYMENT_PROVIDER": "stripe",
        "PAYMENT_PROVIDER_SECRET": stripe.secret_key,
        "PAYMENT_WEBHOOK_SECRET": stripe.webhook_secret,
        "PAYMENT_API_BASE_URL": stripe.api_base,
        "SMS_PROVIDER": "twilio",
        "SMS_PROVIDER_KEY": twilio.account_sid,
        "SMS_PROVIDER_SECRET": twilio.auth_token,
        "SMS_FROM_NUMBER": twilio.from_number,
        "SMS_API_BASE_URL": twilio.api_base,
        "MAIL_MAILER": "mailgun",
        "MAIL_API_KEY": mailgun.api_key,
        "MAIL_DOMAIN": mailgun.domain,
        "MAIL_API_BASE_URL": mailgun.api_base,
        "MAIL_WEBHOOK_SECRET": mailgun.signing_key,
        "MAIL_FROM_ADDRESS": "kontor@koreskolen-nord.dk",
    }


# Besides paths and locale, a child keeps this process's zone and clock: TZ, and under a faked
# clock (CI's pinned-night run uses libfaketime) its preload and FAKETIME settings, so that the
# tiers and the test read one clock, as processes on one machine do.
_INHERITED = frozenset({"PATH", "HOME", "LANG", "TMPDIR", "TZ", "LD_PRELOAD"})


def _child_environment(settings: dict[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k in _INHERITED or k.startswith("FAKETIME")}
    return {**inherited, **settings, "PYTHONUNBUFFERED": "1"}


def test_killing_the_web_tier_and_the_worker_at_random_loses_no_money_and_no_message(
    database_url: str, tmp_path: Path, figures: Callable[[str], None]
) -> None:
    seed = int(os.environ.get("JUSTDRIVING_CRASH_SEED") or random.randrange(1 << 32))
    started = time.monotonic()
    upgrade(make_engine(database_url))
    port = _free_port()
    web_url = f"http://127.0.0.1:{port}"
    with DistantStripe() as stripe, DistantTwilio() as twilio, DistantMailgun() as mailgun:
        settings = _environment(database_url, web_url, stripe, twilio, mailgun)
        app: Application = build_container(Settings.from_env(settings, env_file=None)).application()
        env = _child_environment(settings)
        web = Tier("web", ["serve", "--port", str(port), "--workers", "2"], env, tmp_path)
        worker = Tier("worker", ["worker"], env, tmp_path)
        deliveries = StripeDeliveries(stripe, f"{web_url}/webhook/payments/stripe")
        chaos = Chaos(
            web,
            worker,
            f"{web_url}/healthz",
            lambda: _in_flight(app, deliveries),
            lambda: _held(app),
            KILLS,
            seed,
        )
        flow = Flow(app, stripe, web_url)
        web.start()
        worker.start()
        deliveries.start()
        try:
            wait_for(lambda: answers(f"{web_url}/healthz"), "the web tier to start", 60)
            chaos.start()
            students = 0
            while students < MAX_STUDENTS and (chaos.is_alive() or students < MIN_STUDENTS):
                flow.one_student(students)
                students += 1
            chaos.stop()
            assert chaos.error is None, f"seed {seed}: {chaos.error!r}"
            assert chaos.done == KILLS, f"seed {seed}: only {chaos.done} kills in {students}"
            # Both tiers are up: everything must settle without further help.
            wait_for(deliveries.drained, "Stripe to deliver every event", SETTLE)
            wait_for(
                lambda: _settled(app),
                f"the inbox and outbox to settle (seed {seed})",
                FINAL_SETTLE,
            )
        except BaseException as error:
            error.add_note(f"seed {seed} (JUSTDRIVING_CRASH_SEED repeats it)\n{_unsettled(app)}")
            error.add_note(f"--- web\n{web.output()}\n--- worker\n{worker.output()}")
            raise
        finally:
            chaos.stop()
            deliveries.stop()
            web.stop()
            worker.stop()

        books = _check_books(app, flow, stripe)
        logs = [
            line
            for log in sorted(tmp_path.glob("*.log"))
            for line in log.read_text("utf-8", "replace").splitlines()
        ]
        assert logged_card_numbers(logs) == [], "a card number was logged"
        assert stored_card_numbers(make_engine(database_url)) == [], "a card number was stored"
        sent, repeated = _check_messages(app, twilio, mailgun)
        # The worker sends one message at a time: a kill strands at most the one in hand,
        # which the next worker sends again (at least once, never lost).
        assert len(twilio.messages) + len(mailgun.mails) == sent + repeated
        assert repeated <= chaos.victims["worker"] + chaos.victims["both"]
        figures(
            f"{make_url(database_url).get_backend_name()}, seed {seed}: {chaos.done} kills "
            f"({dict(chaos.victims)}; {chaos.stranded} outbox rows held by a killed worker), "
            f"{students} students, {books} payments and refunds "
            f"matched at Stripe, {sent} messages at their providers ({repeated} sent twice), "
            f"{deliveries.attempts} webhook attempts for {deliveries.delivered} events "
            f"(refused: {deliveries.refused}), {flow.checkout_retries} checkout retries, "
            f"{time.monotonic() - started:.0f} s"
        )


def _in_flight(app: Application, deliveries: StripeDeliveries) -> bool:
    if not deliveries.drained():
        return True
    with app.uow() as uow:
        waiting = (OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT)
        return bool(
            uow.inbox.list(InboxStatus.RECEIVED) or any(uow.outbox.list(s) for s in waiting)
        )


def _held(app: Application) -> int:
    with app.uow() as uow:
        return len(uow.outbox.list(OutboxStatus.IN_FLIGHT))


def _settled(app: Application) -> bool:
    with app.uow() as uow:
        inbox = {event.status for event in uow.inbox.list()}
        outbox = {row.status for row in uow.outbox.list()}
    return inbox <= {InboxStatus.PROCESSED, InboxStatus.IGNORED} and outbox <= {OutboxStatus.SENT}


def _unsettled(app: Application) -> str:
    """What has not settled: each inbox and outbox row not done, with its last error."""
    with app.uow() as uow:
        inbox = [
            f"inbox {e.id} {e.event_type} {e.status}: {e.error or ''}"
            for e in uow.inbox.list()
            if e.status not in (InboxStatus.PROCESSED, InboxStatus.IGNORED)
        ]
        outbox = [
            f"outbox {r.id} {r.kind} {r.status} after {r.attempts}: {r.last_error or ''}"
            for r in uow.outbox.list()
            if r.status is not OutboxStatus.SENT
        ]
    return "\n".join(["--- not settled", *inbox, *outbox])


def _check_books(app: Application, flow: Flow, stripe: StripeSimulator) -> int:
    """Balances from the stored rows, the flow's figures, and the money at Stripe."""
    matched = 0
    school_id = flow.school.id
    with app.uow() as uow:
        for student_id, booking_id in flow.students:
            invoices = [
                i
                for i in uow.invoices.for_student(school_id, student_id)
                if i.status is not InvoiceStatus.DRAFT
            ]
            notes = uow.credit_notes.for_student(school_id, student_id)
            payments = uow.payments.for_student(school_id, student_id)
            refunds = uow.refunds.for_student(school_id, student_id)
            invoiced = sum(i.totals.gross.amount for i in invoices)
            credited = sum(c.totals.gross.amount for c in notes)
            paid = sum(p.captured.amount for p in payments if p.status is PaymentStatus.SUCCEEDED)
            refunded = sum(r.amount.amount for r in refunds if r.status is RefundStatus.SUCCEEDED)
            balance = app.balance(school_id, student_id)
            assert (invoiced, credited, paid, refunded) == (75000, 5000, 75000, 5000), student_id
            assert balance.amount.amount == invoiced - credited - paid + refunded == 0
            assert uow.bookings.get(booking_id).status is BookingStatus.CANCELLED
            assert {i.status for i in invoices} == {InvoiceStatus.PAID}
            matched += _match_stripe(payments, refunds, stripe)
    return matched


def _match_stripe(
    payments: Sequence[Payment], refunds: Sequence[Refund], stripe: StripeSimulator
) -> int:
    """Each payment captured what Stripe captured for it (found by our payment id in the
    PaymentIntent's metadata), and each refund was made once at Stripe. A payment whose start
    a kill cut off after Stripe answered has no provider id and a PaymentIntent no one paid."""
    intents: dict[str, list[dict[str, Any]]] = {}
    for intent in stripe.payment_intents.values():
        intents.setdefault(intent["metadata"].get("payment_id", ""), []).append(intent)
    matched = 0
    for payment in payments:
        if payment.provider != "stripe":
            continue
        at_stripe = intents.get(payment.id, [])
        assert len(at_stripe) <= 1, f"{payment.id}: {len(at_stripe)} PaymentIntents"
        received = sum(intent.get("amount_received", 0) for intent in at_stripe)
        ours = payment.captured.amount if payment.status is PaymentStatus.SUCCEEDED else 0
        assert received == ours, f"{payment.id}: Stripe captured {received}, the books {ours}"
        if payment.provider_payment_id is None:
            assert payment.status is PaymentStatus.PENDING, payment.id
            continue
        assert [intent["id"] for intent in at_stripe] == [payment.provider_payment_id]
        made = [r["amount"] for r in stripe.refunds_of(payment.provider_payment_id)]
        booked = [r.amount.amount for r in refunds if r.payment_id == payment.id]
        assert sorted(made) == sorted(booked), f"{payment.id}: refunds {made}, the books {booked}"
        matched += 1 + len(made)
    return matched


def _check_messages(
    app: Application, twilio: TwilioSimulator, mailgun: MailgunSimulator
) -> tuple[int, int]:
    """Every message the database calls sent reached its provider, under the id it recorded;
    one that reached it more than once carries the relay's "may have gone out twice" note.
    Returns (messages sent, extra sends)."""
    at_mailgun = {mail.message_id for mail in mailgun.mails}
    times: Counter[str] = Counter(mail.field("v:reference") or "" for mail in mailgun.mails)
    for request in twilio.requests:
        callback = request.form.get("StatusCallback")
        if request.method == "POST" and request.status < 300 and callback:
            times.update(parse_qs(urlsplit(callback).query).get("ref", []))
    sent = extra = 0
    with app.uow() as uow:
        for school in uow.schools.list():
            for message in uow.messages.for_school(school.id):
                assert message.status in (
                    MessageStatus.SENT,
                    MessageStatus.DELIVERED,
                    MessageStatus.SUPPRESSED,
                ), f"{message.id} {message.type}: {message.status}"
                if message.status is MessageStatus.SUPPRESSED:
                    continue
                reference = message.provider_message_id or ""
                if message.channel is Channel.SMS:
                    assert reference in twilio.messages, f"{message.id} never reached Twilio"
                else:
                    assert reference.strip("<>") in at_mailgun, f"{message.id} never at Mailgun"
                assert times[message.id] >= 1, f"{message.id}: no send carried its reference"
                if times[message.id] > 1:
                    assert "may have gone out twice" in (message.provider_error or ""), (
                        f"{message.id} went out {times[message.id]} times, not noted"
                    )
                sent += 1
                extra += times[message.id] - 1
    assert sent > 0
    return sent, extra
