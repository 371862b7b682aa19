"""Message callbacks end to end: Twilio through its simulator and the real SDK, delivery
receipts and STOP through the web app's routes, SendGrid events likewise. The queue backend is
the worker (the default): the answer stores, the worker's inbox job applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.config import Settings
from justdriving.container import build_container
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.money import Money
from justdriving.domain.schools import SchoolSettings, SickReport
from justdriving.entrypoints.flask_app import create_app
from justdriving.testing.sendgrid.simulator import SendGridSimulator
from justdriving.testing.twilio.simulator import TwilioSimulator

PUBLIC = "https://justdriving.test"
# The apps' clock, pinned (and the simulators' where they sign with one): nothing here depends
# on the hour or the day the suite runs.
NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


def _world(app):  # type: ignore[no-untyped-def]
    school = app.register_school("Køreskolen Nord")
    teacher = app.add_teacher(school.id, "Mette")
    student = app.add_student(school.id, "Jonas", phone="20 12 34 56", email="jonas@example.com")
    lesson = app.add_booking_type(
        school.id, "Lesson", duration=timedelta(minutes=45), price=Money.parse("500", "DKK")
    )
    start = app.clock.now().replace(hour=11, minute=0, second=0, microsecond=0)
    app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=start + timedelta(days=5),
    )
    return school, student


@pytest.fixture
def twilio() -> TwilioSimulator:
    with TwilioSimulator(public_base_url=PUBLIC, inbound_path="/webhook/sms/twilio/inbound") as sim:
        yield sim


def test_a_twilio_delivery_receipt_and_a_stop_reply_reach_the_message_log(
    twilio: TwilioSimulator,
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "memory://",
            "PUBLIC_BASE_URL": PUBLIC,
            "SMS_PROVIDER": "twilio",
            "SMS_PROVIDER_KEY": twilio.account_sid,
            "SMS_PROVIDER_SECRET": twilio.auth_token,
            "SMS_FROM_NUMBER": twilio.from_number,
            "SMS_API_BASE_URL": twilio.api_base,
        },
        env_file=None,
    )
    container = build_container(settings)
    container.clock.override(FrozenClock(NOW))
    web = create_app(container).test_client()
    app = container.application()
    school, student = _world(app)
    app.relay_outbox()
    [sid] = list(twilio.messages)

    delivered = twilio.deliver(sid, "delivered")
    answer = web.post(
        delivered.path,
        data=urlencode(delivered.form),
        headers={**delivered.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    again = web.post(
        delivered.path,
        data=urlencode(delivered.form),
        headers={**delivered.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert answer.status_code == 200
    assert answer.json == {"received": 1, "duplicates": 0, "ignored": 0}
    assert again.json == {"received": 0, "duplicates": 1, "ignored": 0}
    assert app.apply_inbox() == 1
    with app.uow() as uow:
        [sms] = [m for m in uow.messages.for_school(school.id) if m.channel is Channel.SMS]
        # The form (with both phone numbers) is not kept: the receipt holds what it needs.
        assert [row.body for row in uow.inbox.list()] == [b""]
    assert sms.status is MessageStatus.DELIVERED

    stop = twilio.reply(student.phone.e164, "STOP")
    answer = web.post(
        stop.path,
        data=urlencode(stop.form),
        headers={**stop.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert "<Response>" in answer.get_data(as_text=True)
    assert app.apply_inbox() == 1
    with app.uow() as uow:
        assert uow.suppressions.matching("sms", student.phone.e164, school.id) is not None

    forged = dict(stop.headers, **{"X-Twilio-Signature": "AAAA"})
    refused = web.post(
        stop.path,
        data=urlencode(stop.form),
        headers={**forged, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 400


def test_a_sendgrid_bounce_fails_the_email_and_suppresses_the_address() -> None:
    clock = FrozenClock(NOW)
    with SendGridSimulator(clock=clock) as sendgrid:
        settings = Settings.from_env(
            {
                "DATABASE_URL": "memory://",
                "MAIL_MAILER": "sendgrid",
                "MAIL_API_KEY": sendgrid.api_key,
                "MAIL_API_BASE_URL": sendgrid.api_base,
                "MAIL_FROM_ADDRESS": "kontor@koreskolen-nord.dk",
                "MAIL_WEBHOOK_SECRET": sendgrid.public_key,
            },
            env_file=None,
        )
        container = build_container(settings)
        container.clock.override(clock)
        web = create_app(container).test_client()
        app = container.application()
        school, _ = _world(app)
        app.relay_outbox()
        [sent] = sendgrid.mails
        body, headers = sendgrid.events(sent, "bounce")

        answer = web.post("/webhook/email/sendgrid", data=body, headers=headers)

        assert answer.status_code == 200
        assert app.apply_inbox() == 1
        with app.uow() as uow:
            [email] = [m for m in uow.messages.for_school(school.id) if m.channel is Channel.EMAIL]
            assert email.status is MessageStatus.FAILED
            assert uow.suppressions.matching("email", "jonas@example.com", school.id) is not None


def test_a_teachers_syg_through_twilio_cancels_the_day_once_and_tells_the_student(
    twilio: TwilioSimulator,
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "memory://",
            "PUBLIC_BASE_URL": PUBLIC,
            "SMS_PROVIDER": "twilio",
            "SMS_PROVIDER_KEY": twilio.account_sid,
            "SMS_PROVIDER_SECRET": twilio.auth_token,
            "SMS_FROM_NUMBER": twilio.from_number,
            "SMS_API_BASE_URL": twilio.api_base,
        },
        env_file=None,
    )
    container = build_container(settings)
    container.clock.override(FrozenClock(NOW))  # 10:30 in Copenhagen
    web = create_app(container).test_client()
    app = container.application()
    school = app.register_school(
        "Køreskolen Nord", settings=SchoolSettings(teacher_sick_report=SickReport.CANCEL_DAY)
    )
    teacher = app.add_teacher(school.id, "Mette", phone="30 11 22 33")
    student = app.add_student(school.id, "Jonas", phone="20 12 34 56")
    lesson = app.add_booking_type(
        school.id, "Lesson", duration=timedelta(minutes=45), price=Money.parse("500", "DKK")
    )
    booking = app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=NOW + timedelta(hours=4),
    )
    app.relay_outbox()  # the confirmations
    sent_before = len(twilio.messages)

    syg = twilio.reply("+4530112233", "SYG")
    for _ in range(3):  # Twilio delivers the same reply again
        answer = web.post(
            syg.path,
            data=urlencode(syg.form),
            headers={**syg.headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200
    assert app.apply_inbox() == 1
    app.relay_outbox()

    with app.uow() as uow:
        cancelled = uow.bookings.get(booking.id)
    assert (cancelled.status.value, cancelled.cancelled_by) == ("cancelled", CancelledBy.TEACHER)
    bodies = {m["to"]: m["body"] for m in list(twilio.messages.values())[sent_before:]}
    assert set(bodies) == {"+4520123456", "+4530112233"}
    assert "aflyst" in bodies["+4520123456"].lower()
