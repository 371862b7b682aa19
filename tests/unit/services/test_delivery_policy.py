"""The delivery policy in front of every sender: redirects, allow-lists, toggles, opt-outs,
quiet hours and throttling, each decision written on the message."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.delivery import Suppression, SuppressionReason
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import MessageType, QuietHours

from .support import World, build_world, messages, outbox, with_settings

# 14:00 in Copenhagen: outside the default quiet hours (21:00-08:00).
DAYTIME = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
STAGING_PHONE = PhoneNumber("+4599999999")


def an_app(
    clock: FrozenClock,
    store: MemoryStore,
    sms: FakeSmsSender,
    email: FakeEmailSender,
    policy: DeliveryPolicy,
) -> Application:
    return Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake", clock=clock)}),
        sms=sms,
        email=email,
        renderer=MemoryTemplateRenderer(),
        delivery=policy,
    )


@pytest.fixture
def daytime() -> FrozenClock:
    return FrozenClock(DAYTIME)


def book(app: Application, world: World, clock: FrozenClock, hours: float = 30) -> None:
    world.book(app, clock.now() + timedelta(hours=hours))


def test_a_staging_redirect_never_addresses_a_real_recipient(
    daytime: FrozenClock, store: MemoryStore, sms: FakeSmsSender, email: FakeEmailSender
) -> None:
    policy = DeliveryPolicy(
        sms_redirect_to=STAGING_PHONE, mail_redirect_to=EmailAddress("qa@school.example")
    )
    app = an_app(daytime, store, sms, email, policy)
    world = build_world(app)
    for hours in (30, 50, 70):
        book(app, world, daytime, hours)

    app.relay_outbox()

    assert sms.sent
    assert email.sent
    assert {to for to, _, _ in sms.sent} == {STAGING_PHONE}
    assert {to for to, _, _ in email.sent} == {EmailAddress("qa@school.example")}
    assert all("redirected from" in m.decisions[0] for m in messages(store))


def test_an_allow_list_lets_only_its_own_through(
    daytime: FrozenClock, store: MemoryStore, sms: FakeSmsSender, email: FakeEmailSender
) -> None:
    policy = DeliveryPolicy(
        sms_allowlist=frozenset({"+4511111111"}), mail_allowlist=frozenset({"@example.dk"})
    )
    app = an_app(daytime, store, sms, email, policy)
    world = build_world(app)
    book(app, world, daytime)

    app.relay_outbox()

    assert sms.sent == []
    [sms_message] = messages(store, channel=Channel.SMS)
    assert sms_message.status is MessageStatus.SUPPRESSED
    assert "SMS_ALLOWLIST" in sms_message.decisions[-1]
    assert len(email.sent) == 1  # anna@example.dk is on the allowed domain


def test_an_opted_out_number_never_receives_another_sms(
    daytime: FrozenClock, store: MemoryStore, sms: FakeSmsSender, email: FakeEmailSender
) -> None:
    app = an_app(daytime, store, sms, email, DeliveryPolicy())
    world = build_world(app)
    assert world.student.phone is not None
    with app.uow() as uow:
        uow.suppressions.add(
            Suppression(
                id="",
                channel=Channel.SMS,
                address=world.student.phone.e164,
                reason=SuppressionReason.OPTED_OUT,
                created_at=DAYTIME,
            )
        )
        uow.commit()
    for hours in (30, 50, 70):
        book(app, world, daytime, hours)

    app.relay_outbox()
    daytime.advance(timedelta(days=1))
    app.relay_outbox()

    assert sms.sent == []
    assert all(m.status is MessageStatus.SUPPRESSED for m in messages(store, channel=Channel.SMS))
    assert len(email.sent) == 3


def test_a_quiet_hour_reminder_is_deferred_and_then_sent_in_the_morning(
    store: MemoryStore, sms: FakeSmsSender, email: FakeEmailSender
) -> None:
    night = FrozenClock(datetime(2026, 3, 10, 21, 30, tzinfo=UTC))  # 22:30 in Copenhagen
    app = an_app(night, store, sms, email, DeliveryPolicy())
    world = build_world(app)
    book(app, world, night, hours=36)  # the confirmation is urgent: it goes now
    night.advance(timedelta(hours=12, minutes=5))  # 11:35 local: the 24-h SMS reminder is due
    night.set(datetime(2026, 3, 11, 22, 0, tzinfo=UTC))  # 23:00 local, quiet again
    app.send_reminders()

    report = app.relay_outbox()

    reminders = messages(store, MessageType.REMINDER, Channel.SMS)
    assert [m.status for m in reminders] == [MessageStatus.QUEUED]
    assert [m.state for m in reminders] == ["deferred"]  # waiting, not failed
    assert reminders[0].deferred_until == datetime(2026, 3, 12, 7, 0, tzinfo=UTC)  # 08:00 local
    assert "quiet hours" in reminders[0].decisions[-1]
    assert report.deferred >= 1
    [row] = [
        r for r in outbox(store, OutboxKind.SEND_SMS) if r.payload["message_id"] == reminders[0].id
    ]
    assert row.status is OutboxStatus.DEFERRED
    assert row.attempts == 0
    night.set(datetime(2026, 3, 12, 7, 1, tzinfo=UTC))  # 08:01 local
    app.relay_outbox()
    [sent] = messages(store, MessageType.REMINDER, Channel.SMS)
    assert (sent.status, sent.state, sent.deferred_until) == (MessageStatus.SENT, "sent", None)


def test_a_school_that_turned_sms_off_sends_email_only(
    daytime: FrozenClock, store: MemoryStore, sms: FakeSmsSender, email: FakeEmailSender
) -> None:
    app = an_app(daytime, store, sms, email, DeliveryPolicy())
    world = build_world(app, settings=with_settings(sms_enabled=False, quiet_hours=None))
    book(app, world, daytime)
    # Decided while SMS was on: the toggle is checked again at send time.
    app.relay_outbox()

    assert sms.sent == []
    assert len(email.sent) >= 1


@settings(max_examples=40, deadline=None)
@given(per_hour=st.integers(1, 4), bookings=st.integers(1, 6))
def test_no_recipient_gets_more_than_the_hourly_limit(per_hour: int, bookings: int) -> None:
    clock, store = FrozenClock(DAYTIME), MemoryStore()
    sms, email = FakeSmsSender(), FakeEmailSender()
    app = an_app(clock, store, sms, email, DeliveryPolicy(per_recipient_per_hour=per_hour))
    world = build_world(app, settings=with_settings(quiet_hours=QuietHours(time(0), time(0))))
    for n in range(bookings):
        book(app, world, clock, hours=100 + n)

    app.relay_outbox()

    assert len(sms.sent) == min(per_hour, bookings)
    clock.advance(timedelta(hours=1, minutes=1))
    app.relay_outbox()
    assert len(sms.sent) == min(2 * per_hour, bookings)
