"""Campaign 1, provider faults: refunds through Stripe and SMS through Twilio, sent by the relay
against the wire-level simulators while they inject faults at random: 20 % 5xx, 5 % timeouts,
5 % 429 with Retry-After, 2 % dropped connections. The relay runs on a frozen clock that the
test moves to the next due row, so backoff and Retry-After cost no real time.

Nothing is lost (every row sent, every message out), nothing is refunded twice (one Stripe
refund per refund, one idempotency key per refund on every attempt, as the simulator's request
log shows), and SMS duplicates come only from ambiguous faults, each noted on its message."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.adapters.sms.twilio.sender import TwilioSmsSender
from justdriving.application import Application
from justdriving.domain.messages import Channel
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.stripe.simulator import StripeSimulator
from justdriving.testing.twilio.simulator import TwilioSimulator

from .support import campaign_scale

SENDS = 200 * campaign_scale()  # half refunds, half SMS; 2,000 at scale 10
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Copenhagen
LESSON = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
SMS_TIMEOUT = 0.1  # the Twilio client's; a stalled answer takes STALL
STALL = 0.3
# kind → cumulative share of requests
FAULTS = (("5xx", 0.20), ("timeout", 0.25), ("429", 0.30), ("reset", 0.32))


def _draw(rng: random.Random) -> str | None:
    roll = rng.random()
    return next((kind for kind, bound in FAULTS if roll < bound), None)


class FaultyStripe(StripeSimulator):
    """Faults drawn per request once `armed`. Stripe's timeouts and resets both act, then
    drop the connection without an answer: the caller cannot tell whether it happened."""

    def __init__(self, rng: random.Random, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng, self.armed, self.injected = rng, False, Counter[str]()

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Any:
        kind = _draw(self.rng) if self.armed else None
        if kind is not None:
            self.injected[kind] += 1
            if kind == "5xx":
                self.fail_next(self.rng.choice([500, 502, 503]))
            elif kind == "429":
                self.fail_next(429, retry_after=self.rng.randint(1, 60), code="rate_limit")
            else:
                self.lose_next_response()
        return super().answer(method, path, headers, body)


class FaultyTwilio(TwilioSimulator):
    """Faults drawn per request once `armed`: a timeout creates the message and answers too
    late for the client; a reset creates it and drops the connection."""

    def __init__(self, rng: random.Random, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng, self.armed, self.injected = rng, False, Counter[str]()

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Any:
        kind = _draw(self.rng) if self.armed else None
        if kind is not None:
            self.injected[kind] += 1
            if kind == "5xx":
                self.fail_next(self.rng.choice([500, 502, 503]))
            elif kind == "429":
                self.fail_next(429, retry_after=self.rng.randint(1, 60))
            elif kind == "timeout":
                self.stall_next(STALL)
            else:
                self.lose_next_response()
        return super().answer(method, path, headers, body)


@pytest.fixture
def simulators() -> Iterator[tuple[FrozenClock, FaultyStripe, FaultyTwilio]]:
    clock = FrozenClock(NOW)
    rng = random.Random(f"faults-{SENDS}")
    stripe = FaultyStripe(rng, clock=clock, refund_status="pending")
    twilio = FaultyTwilio(rng, clock=clock.now)
    with stripe, twilio:
        yield clock, stripe, twilio


def _application(clock: FrozenClock, store: MemoryStore, stripe: Any, twilio: Any) -> Application:
    gateway = StripeGateway(stripe.secret_key, stripe.webhook_secret, api_base=stripe.api_base)
    sms = TwilioSmsSender(
        twilio.account_sid,
        twilio.auth_token,
        from_number=twilio.from_number,
        api_base=twilio.api_base,
        timeout=SMS_TIMEOUT,
    )
    return Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"stripe": gateway}),
        sms=sms,
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )


def _drain(app: Application, store: MemoryStore, clock: FrozenClock) -> int:
    """Relay until no row is waiting, moving the clock to the next due one; the rounds."""
    rounds = 0
    while True:
        rounds += 1
        assert rounds < 10_000, "the relay does not converge"
        app.relay_outbox()
        waiting = [
            row
            for row in store.records("outbox")
            if row.status not in (OutboxStatus.SENT, OutboxStatus.DEAD)
        ]
        if not waiting:
            return rounds
        due = min(_due(row) for row in waiting)
        clock.set(max(clock.now(), due) + timedelta(seconds=1))


def _due(row: Any) -> datetime:
    due: datetime = row.next_attempt_at or row.lease_until or NOW
    return due


def test_faults_lose_nothing_and_refund_nothing_twice(
    simulators: tuple[FrozenClock, FaultyStripe, FaultyTwilio],
    figures: Callable[[str], None],
) -> None:
    clock, stripe, twilio = simulators
    store = MemoryStore()
    app = _application(clock, store, stripe, twilio)
    school = app.register_school(
        "Køreskolen Fejl",
        currency="DKK",
        timezone="Europe/Copenhagen",
        phone_region="DK",
        vat_number="DK12345678",
        settings=SchoolSettings(),
    )
    refunds_wanted, sms_wanted = SENDS // 2, SENDS - SENDS // 2
    # Setup, without faults: paid invoices to refund, students to text.
    payments = []
    for i in range(refunds_wanted):
        student = app.add_student(school.id, f"Elev {i}", email=f"elev{i}@example.dk")
        draft = app.draft_invoice(school.id, student.id, [LESSON])
        invoice = app.issue_invoice(school.id, draft.id)
        started = app.start_invoice_payment(school.id, invoice.id)
        app.receive_payment_webhook("stripe", *stripe.succeed(started.session.provider_payment_id))
        payments.append(started.payment.id)
    numbers = [f"+45{20_120_000 + i}" for i in range(sms_wanted)]
    for i, number in enumerate(numbers):
        app.add_student(school.id, f"Sms-elev {i}", phone=number)
    app.relay_outbox()  # the receipts (email, fake) go out before the campaign
    intents_before = len(stripe.payment_intents)
    setup_requests = len(stripe.requests)

    refunds = [
        app.refund(school.id, payment_id, amount=Money(20000, "DKK")) for payment_id in payments
    ]
    queued = app.announce(school.id, "Husk teoriprøven", channels=frozenset({Channel.SMS}))
    assert queued == sms_wanted
    stripe.armed = twilio.armed = True
    rounds = _drain(app, store, clock)
    stripe.armed = twilio.armed = False

    # Lost: every outbox row sent; every SMS at Twilio at least once; every refund at Stripe.
    rows = store.records("outbox")
    not_sent = [row for row in rows if row.status is not OutboxStatus.SENT]
    texts = {n: len(twilio.messages_to(n)) for n in numbers}
    lost_sms = sum(count == 0 for count in texts.values())
    by_refund = Counter(r["metadata"]["refund_id"] for r in stripe.refunds.values())
    lost_refunds = sum(by_refund[r.id] == 0 for r in refunds)
    double_refunds = sum(count > 1 for count in by_refund.values())
    # Idempotency: one key per refund, the same on every attempt (failed ones included).
    refund_posts = [
        r for r in stripe.requests[setup_requests:] if r.method == "POST" and "refunds" in r.path
    ]
    keys_of: dict[str, set[str | None]] = {}
    for request in refund_posts:
        if request.params:
            keys_of.setdefault(request.params["metadata"]["refund_id"], set()).add(
                request.idempotency_key
            )
    distinct_keys = {r.idempotency_key for r in refund_posts}
    # SMS duplicates: no more than the ambiguous faults, each noted on its message.
    duplicates = sum(count - 1 for count in texts.values() if count > 1)
    ambiguous = twilio.injected["timeout"] + twilio.injected["reset"]
    messages = [m for m in store.records("messages") if m.channel is Channel.SMS]
    by_number = {str(m.recipient.e164): m for m in messages}
    unnoted = [
        n
        for n, count in texts.items()
        if count > 1 and "may have gone out twice" not in (by_number[n].provider_error or "")
    ]

    figures(
        f"{SENDS} sends ({refunds_wanted} refunds, {sms_wanted} SMS), {rounds} relay rounds,"
        f" {len(refund_posts)} refund requests, {len(twilio.requests)} Twilio requests;"
        f" faults Stripe {dict(stripe.injected)}, Twilio {dict(twilio.injected)};"
        f" lost {len(not_sent)} rows / {lost_refunds} refunds / {lost_sms} SMS;"
        f" double refunds {double_refunds}; SMS duplicates {duplicates} (ambiguous {ambiguous},"
        f" unnoted {len(unnoted)}); simulated time {clock.now() - NOW}"
    )
    assert sum(stripe.injected.values()) > 0
    assert sum(twilio.injected.values()) > 0
    assert not_sent == []
    assert (lost_refunds, lost_sms) == (0, 0)
    assert double_refunds == 0
    assert len(stripe.payment_intents) == intents_before  # no new charge
    assert all(len(keys) == 1 for keys in keys_of.values())
    assert len(keys_of) == len(refunds) == len(distinct_keys)
    assert None not in distinct_keys
    assert duplicates <= ambiguous
    assert unnoted == []
