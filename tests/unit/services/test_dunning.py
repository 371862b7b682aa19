"""Dunning: an overdue invoice climbs its school's ladder of reminders, each step once and in
order, each carrying the pay link over SMS and email, and none goes out once the invoice is
paid — not even one decided before the payment landed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.documents.pay_links import PublicPayLinks
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, FrozenClock, MemoryStore
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.dunning import DEFAULT_LADDER, DunningStep, Tone, due_step
from justdriving.domain.errors import BookingNotAllowed, InvalidInput
from justdriving.domain.invoices import Invoice
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import InvoiceService, MessageType, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from memory_app import memory_application

from .support import NOW, World, build_world, dkk, hours_from_now, messages

BASE = "https://pay.koreskolen.example"
DUE_DAYS = 14  # SchoolSettings' default invoice_due_days


@pytest.fixture
def app(
    store: MemoryStore, clock: FrozenClock, sms: FakeSmsSender, email: FakeEmailSender
) -> Application:
    """With the package's templates and public pay links, as `justdriving serve` has them."""
    return memory_application(
        clock,
        store=store,
        sms=sms,
        email=email,
        renderer=JinjaTemplateRenderer(),
        pay_links=PublicPayLinks(BASE, secret="s" * 32, lifetime=timedelta(days=90), clock=clock),
    )


def _issued(app: Application, world: World, price: str = "300.00") -> Invoice:
    line = LineItem(InvoiceService.MATERIALS, "Teoribog", dkk(price))
    draft = app.draft_invoice(world.school.id, world.student.id, [line])
    return app.issue_invoice(world.school.id, draft.id)


def _pay(app: Application, world: World, invoice: Invoice) -> None:
    app.record_manual_payment(
        world.school.id,
        world.student.id,
        amount=invoice.totals.gross,
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
    )


def _tones(store: MemoryStore) -> list[str]:
    return [
        str(m.context["tone"]) for m in messages(store, MessageType.OVERDUE_REMINDER, Channel.SMS)
    ]


def test_the_default_ladder_is_friendly_at_3_firm_at_10_final_at_21(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    _issued(app, world)
    sent_on = []
    for day in range(1, DUE_DAYS + 40):
        clock.set(NOW + timedelta(days=day, hours=1))
        if app.send_reminders().overdue_invoices:
            sent_on.append(day - DUE_DAYS)

    assert sent_on == [3, 10, 21]
    assert _tones(store) == ["friendly", "firm", "final"]


def test_after_the_worker_was_away_only_the_highest_step_reached_goes_out(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    _issued(app, world)
    clock.advance(timedelta(days=DUE_DAYS + 12))

    assert app.send_reminders().overdue_invoices == 1
    clock.advance(timedelta(days=5))
    assert app.send_reminders().overdue_invoices == 0
    assert _tones(store) == ["firm"]


def test_each_reminder_carries_the_pay_link_by_sms_and_by_email(
    app: Application,
    world: World,
    clock: FrozenClock,
    sms: FakeSmsSender,
    email: FakeEmailSender,
) -> None:
    invoice = _issued(app, world)
    clock.advance(timedelta(days=DUE_DAYS + 3))
    app.send_reminders()

    app.relay_outbox()

    link = BASE + app.payer.link_path(invoice.id)
    [text] = [m.body for _, m, _ in sms.sent if "forfald" in m.body]
    [reminder] = [m for _, m, _ in email.sent if m.subject.startswith("Påmindelse")]
    assert link in text
    assert link in reminder.text
    assert reminder.html is not None
    assert f'href="{link}"' in reminder.html


def test_a_reminder_decided_before_the_payment_landed_is_not_sent(
    app: Application,
    world: World,
    clock: FrozenClock,
    store: MemoryStore,
    sms: FakeSmsSender,
    email: FakeEmailSender,
) -> None:
    invoice = _issued(app, world)
    clock.advance(timedelta(days=DUE_DAYS + 3))
    assert app.send_reminders().overdue_invoices == 1
    _pay(app, world, invoice)  # between the decision and the relay

    app.relay_outbox()

    reminders = messages(store, MessageType.OVERDUE_REMINDER)
    assert {m.status for m in reminders} == {MessageStatus.SUPPRESSED}
    assert not [m for _, m, _ in sms.sent if "forfald" in m.body]
    assert not [m for _, m, _ in email.sent if "forfald" in m.subject.lower()]


def test_the_final_step_says_booking_is_blocked_when_the_school_blocks_it(
    app: Application, clock: FrozenClock, sms: FakeSmsSender
) -> None:
    settings = SchoolSettings(block_booking_when_overdue=True, block_booking_overdue_days=21)
    world = build_world(app, settings=settings)
    _issued(app, world)
    clock.advance(timedelta(days=DUE_DAYS + 10))

    world.book(app, hours_from_now(clock, 48))  # firm step: not blocked yet
    clock.advance(timedelta(days=11, hours=1))
    app.send_reminders()
    app.relay_outbox()

    with pytest.raises(BookingNotAllowed):
        world.book(app, hours_from_now(clock, 48))
    assert "Du kan ikke booke nye lektioner" in sms.sent[-1][1].body


@pytest.mark.parametrize(
    "ladder",
    [
        (DunningStep(10, Tone.FIRM), DunningStep(3, Tone.FRIENDLY)),
        (DunningStep(3, Tone.FRIENDLY), DunningStep(3, Tone.FIRM)),
        tuple(DunningStep(d, Tone.FRIENDLY) for d in range(11)),
        [DunningStep(3, Tone.FRIENDLY)],
    ],
    ids=["falling", "repeated", "too-many", "a-list"],
)
def test_a_ladder_whose_days_do_not_rise_is_refused(ladder: object) -> None:
    with pytest.raises(InvalidInput):
        SchoolSettings(dunning_ladder=ladder)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [-1, 366, True, 2.5])
def test_a_step_outside_a_year_past_due_is_refused(days: object) -> None:
    with pytest.raises(InvalidInput):
        DunningStep(days, Tone.FIRM)  # type: ignore[arg-type]


ladders = st.lists(st.integers(0, 60), min_size=1, max_size=5, unique=True).map(
    lambda days: tuple(DunningStep(d, Tone.FRIENDLY) for d in sorted(days))
)


@given(ladders, st.lists(st.integers(0, 90 * 24), min_size=1, max_size=40))
def test_ticks_at_any_hours_send_each_step_at_most_once_in_rising_order(
    ladder: tuple[DunningStep, ...], hours: list[int]
) -> None:
    """A model of the worker's ticks: whatever their times, the steps sent rise, each was
    reached when sent, and the highest reached by the last tick is the last one sent."""
    sent, indexes = 0, []
    for hour in sorted(hours):
        now = NOW + timedelta(hours=hour)
        step = due_step(ladder, NOW, now, sent)
        if step is not None:
            assert now - NOW >= timedelta(days=step.step.after_days)
            indexes.append(step.index)
            sent = step.index + 1
    assert indexes == sorted(set(indexes))
    last = NOW + timedelta(hours=max(hours))
    reached = [i for i, s in enumerate(ladder) if last - NOW >= timedelta(days=s.after_days)]
    assert (indexes[-1] if indexes else None) == (reached[-1] if reached and last > NOW else None)


def test_the_default_ladder_is_the_issues_example() -> None:
    assert [(s.after_days, s.tone) for s in DEFAULT_LADDER] == [
        (3, Tone.FRIENDLY),
        (10, Tone.FIRM),
        (21, Tone.FINAL),
    ]
