"""Teachers' own messages: a lesson booked, moved or cancelled, a no-show recorded — decided in
the transaction that changed the booking, in the teacher's language, under the school's
teacher toggles and teacher quiet hours."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from justdriving.adapters.memory import FakeSmsSender, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus, CancelledBy
from justdriving.domain.delivery import InboundSms, Keyword
from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.people import PhoneNumber, Teacher
from justdriving.domain.schools import MessageType, QuietHours, SickReport
from justdriving.domain.services.announcements import Recipients

from .support import World, build_world, dkk, messages, outbox, snapshot, with_settings

TEACHER_PHONE = "+4530112233"
HOUR = timedelta(hours=1)


def reachable_teacher(app: Application, world: World, language: str | None = "da") -> Teacher:
    return app.add_teacher(
        world.school.id,
        "Tina Thomsen",
        phone="+45 30 11 22 33",
        email="tina@koreskolen.dk",
        language=language,
    )


def to_teacher(store: MemoryStore, type: MessageType | None = None) -> list[OutboundMessage]:
    return [
        m
        for m in messages(store, type)
        if m.type.for_teachers and str(m.recipient) in (TEACHER_PHONE, "tina@koreskolen.dk")
    ]


def sms_to(sms: FakeSmsSender, number: str) -> list[str]:
    return [message.body for to, message, _ in sms.sent if to.e164 == number]


class TestABookedThenCancelledLesson:
    def test_both_are_told_each_in_their_own_language(
        self, app: Application, clock: FrozenClock, store: MemoryStore, sms: FakeSmsSender
    ) -> None:
        world = build_world(app)
        teacher = reachable_teacher(app, world, language="da")
        student = app.add_student(
            world.school.id, "Emma Evans", phone="+45 20 99 88 77", language="en"
        )
        booking = world.book(app, clock.now() + timedelta(days=2), student=student, teacher=teacher)
        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.TEACHER)

        app.relay_outbox()

        to_student = sorted(line.split("\n")[0] for line in sms_to(sms, "+4520998877"))
        to_tina = sorted(line.split("\n")[0] for line in sms_to(sms, TEACHER_PHONE))
        assert to_student == [
            "Your lesson Køretime with Tina Thomsen is booked for 2025-03-05 10:00.",
            "Your lesson at 2025-03-05 10:00 has been cancelled.",
        ]
        assert to_tina == [
            "Aflyst (teacher): Køretime med Emma Evans 2025-03-05 10:00.",
            "Ny lektion: Køretime med Emma Evans 2025-03-05 10:00.",
        ]
        assert {m.language for m in to_teacher(store)} == {"da"}

    def test_the_teachers_messages_are_written_in_the_same_commit_as_the_change(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)
        teacher = reachable_teacher(app, world)
        booking = world.book(app, clock.now() + timedelta(days=2), teacher=teacher)
        rows_before = len(outbox(store))

        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        told = to_teacher(store, MessageType.TEACHER_CANCELLATION)
        [sms, email] = sorted(told, key=lambda m: m.channel != Channel.SMS)
        assert (sms.channel, email.channel) == (Channel.SMS, Channel.EMAIL)
        assert sms.context["cancelled_by"] == "student"
        assert sms.context["student_names"] == "Anna Andersen"
        new_rows = outbox(store)[rows_before:]
        assert {row.payload["message_id"] for row in new_rows} >= {sms.id, email.id}
        assert all(m.status is MessageStatus.QUEUED for m in (sms, email))

    def test_a_refused_cancellation_tells_nobody_and_changes_nothing(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)
        teacher = reachable_teacher(app, world)
        booking = world.book(app, clock.now() + timedelta(days=2), teacher=teacher)
        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.SCHOOL)
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.cancel_booking(world.school.id, booking.id, by=CancelledBy.SCHOOL)

        assert snapshot(store) == before
        assert len(to_teacher(store, MessageType.TEACHER_CANCELLATION)) == 2


class TestTheOtherChanges:
    def test_a_moved_lesson_tells_the_teacher_the_new_time_and_the_old(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)
        teacher = reachable_teacher(app, world)
        start = clock.now() + timedelta(days=2)
        booking = world.book(app, start, teacher=teacher)

        app.reschedule_booking(world.school.id, booking.id, start=start + timedelta(hours=3))

        told = to_teacher(store, MessageType.TEACHER_CHANGE)
        assert len(told) == 2
        local = world.school.local_time
        assert {m.context["start"] for m in told} == {
            local(start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
        }
        assert {m.context["previous_start"] for m in told} == {
            local(start).strftime("%Y-%m-%d %H:%M")
        }

    def test_a_recorded_no_show_tells_the_teacher(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)
        teacher = reachable_teacher(app, world)
        booking = world.book(app, clock.now() + timedelta(hours=3), teacher=teacher)
        clock.advance(timedelta(hours=4))

        app.mark_no_show(world.school.id, booking.id)

        assert len(to_teacher(store, MessageType.TEACHER_NO_SHOW)) == 2

    def test_a_pending_booking_is_not_the_teachers_until_it_is_confirmed(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app, settings=with_settings(deposit_required=True))
        teacher = reachable_teacher(app, world)
        booking = world.book(app, clock.now() + timedelta(days=2), teacher=teacher)
        assert to_teacher(store, MessageType.TEACHER_BOOKING) == []

        app.confirm_booking(world.school.id, booking.id)

        assert len(to_teacher(store, MessageType.TEACHER_BOOKING)) == 2


class TestTheTeachersOwnSettings:
    def test_the_teacher_toggles_decide_the_teachers_channels_and_the_students_toggles_not(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        settings = with_settings(
            sms_message_types=frozenset(),  # students get no SMS at all
            teacher_email_message_types=frozenset({MessageType.TEACHER_CANCELLATION}),
        )
        world = build_world(app, settings=settings)
        teacher = reachable_teacher(app, world)

        world.book(app, clock.now() + timedelta(days=2), teacher=teacher)

        [told] = to_teacher(store, MessageType.TEACHER_BOOKING)
        assert told.channel is Channel.SMS
        assert messages(store, MessageType.BOOKING_CONFIRMATION, Channel.SMS) == []

    def test_teacher_quiet_hours_hold_the_teachers_sms_and_not_the_students(
        self, app: Application, clock: FrozenClock, store: MemoryStore, sms: FakeSmsSender
    ) -> None:
        # 10:00 in Copenhagen: inside the teachers' quiet hours, the students have none.
        settings = with_settings(
            quiet_hours=None, teacher_quiet_hours=QuietHours(time(9, 0), time(12, 0))
        )
        world = build_world(app, settings=settings)
        teacher = reachable_teacher(app, world)
        world.book(app, clock.now() + timedelta(days=2), teacher=teacher)

        app.relay_outbox()

        [held] = to_teacher(store, MessageType.TEACHER_BOOKING)[1:]  # the email went out
        assert (held.channel, held.state) == (Channel.SMS, "deferred")
        assert held.deferred_until == clock.now() + timedelta(hours=2)
        assert sms_to(sms, TEACHER_PHONE) == []
        assert len(sms_to(sms, "+4520123456")) == 1

    def test_a_teacher_without_a_language_is_written_to_in_the_schools(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app, settings=with_settings(language="en"))
        teacher = reachable_teacher(app, world, language=None)

        world.book(app, clock.now() + timedelta(days=2), teacher=teacher)

        assert {m.language for m in to_teacher(store)} == {"en"}

    def test_a_teacher_in_a_language_without_templates_is_refused(self, app: Application) -> None:
        world = build_world(app)
        with pytest.raises(InvalidInput, match="language"):
            app.add_teacher(world.school.id, "Tina Thomsen", language="sv")

    def test_a_teacher_the_school_cannot_reach_is_not_written_to(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world.book(app, clock.now() + timedelta(days=2))  # the world's teacher has no contact

        assert [m for m in messages(store) if m.type.for_teachers] == []
        assert len(outbox(store, OutboxKind.SEND_SMS)) == 1  # the student's confirmation


class TestAnnouncementsToTeachers:
    def test_an_announcement_to_teachers_reaches_every_active_teacher_and_no_student(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)
        reachable_teacher(app, world)

        queued = app.announce(world.school.id, "Personalemøde fredag.", to=Recipients.TEACHERS)

        assert queued == 2
        told = messages(store, MessageType.TEACHER_ANNOUNCEMENT)
        assert {str(m.recipient) for m in told} == {TEACHER_PHONE, "tina@koreskolen.dk"}
        assert messages(store, MessageType.ANNOUNCEMENT) == []

    def test_an_announcement_to_both_reaches_students_and_teachers_each_by_their_toggles(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        settings = with_settings(teacher_sms_message_types=frozenset())
        world = build_world(app, settings=settings)
        reachable_teacher(app, world)

        queued = app.announce(world.school.id, "Lukket fredag.", to=Recipients.BOTH)

        assert queued == 3  # Anna's SMS and email, the teacher's email
        [teacher_email] = messages(store, MessageType.TEACHER_ANNOUNCEMENT)
        assert teacher_email.channel is Channel.EMAIL
        assert len(messages(store, MessageType.ANNOUNCEMENT)) == 2

    def test_an_announcement_to_nobody_known_is_refused(self, app: Application) -> None:
        world = build_world(app)
        with pytest.raises(InvalidInput, match="to must be Recipients"):
            app.announce(world.school.id, "Hej", to="staff")  # type: ignore[arg-type]


def sick(clock: FrozenClock, event_id: str, body: str = "SYG") -> InboundSms:
    return InboundSms(
        "fake", event_id, PhoneNumber(TEACHER_PHONE), "+4570000000", body, clock.now()
    )


class TestASickReport:
    def cancelling_world(self, app: Application, clock: FrozenClock) -> tuple[World, Teacher]:
        world = build_world(app, settings=with_settings(teacher_sick_report=SickReport.CANCEL_DAY))
        return world, reachable_teacher(app, world)

    def test_syg_cancels_the_rest_of_the_teachers_day_for_free_and_tells_each_student(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world, tina = self.cancelling_world(app, clock)
        bo = world.add_student(app, "Bo Berg")
        today = [
            world.book(app, clock.now() + 3 * HOUR, teacher=tina),
            world.book(app, clock.now() + 5 * HOUR, teacher=tina, student=bo),
        ]
        tomorrow = world.book(app, clock.now() + 25 * HOUR, teacher=tina)
        colleague = world.book(app, clock.now() + 4 * HOUR, student=bo)  # the world's teacher

        assert app.receive_inbound_sms(sick(clock, "in_1")) is Keyword.SICK

        with app.uow() as uow:
            status = {b.id: uow.bookings.get(b.id) for b in [*today, tomorrow, colleague]}
        assert [status[b.id].cancelled_by for b in today] == [CancelledBy.TEACHER] * 2
        assert [status[b.id].fee for b in today] == [dkk("0.00")] * 2
        assert status[tomorrow.id].status is BookingStatus.CONFIRMED
        assert status[colleague.id].status is BookingStatus.CONFIRMED
        told = messages(store, MessageType.CANCELLATION)
        assert {str(m.recipient) for m in told} == {
            "+4520123456",
            "anna@example.dk",
            "bo@example.dk",
        }
        assert all(m.context.get("fee") == "" for m in told)

    def test_the_same_reply_delivered_again_or_sent_twice_cancels_and_tells_once(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world, tina = self.cancelling_world(app, clock)
        world.book(app, clock.now() + 3 * HOUR, teacher=tina)

        for event_id in ("in_1", "in_1", "in_1", "in_2"):
            app.receive_inbound_sms(sick(clock, event_id, " syg "))

        assert len(messages(store, MessageType.CANCELLATION)) == 2  # Anna's SMS and email
        assert len(to_teacher(store, MessageType.TEACHER_CANCELLATION)) == 2

    def test_a_school_that_ignores_sick_replies_keeps_the_lessons(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app)  # SickReport.IGNORE, the default
        tina = reachable_teacher(app, world)
        booking = world.book(app, clock.now() + 3 * HOUR, teacher=tina)
        before = snapshot(store)

        app.receive_inbound_sms(sick(clock, "in_1"))

        with app.uow() as uow:
            assert uow.bookings.get(booking.id).status is BookingStatus.CONFIRMED
        assert {t: r for t, r in snapshot(store).items() if t != "inbox"} == {
            t: r for t, r in before.items() if t != "inbox"
        }

    def test_syg_from_a_number_that_is_no_teachers_changes_no_booking(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world, tina = self.cancelling_world(app, clock)
        booking = world.book(app, clock.now() + 3 * HOUR, teacher=tina)
        stranger = InboundSms(
            "fake", "in_9", PhoneNumber("+4520123456"), "+4570000000", "SYG", clock.now()
        )

        app.receive_inbound_sms(stranger)  # the student's number

        with app.uow() as uow:
            assert uow.bookings.get(booking.id).status is BookingStatus.CONFIRMED

    def test_a_lesson_under_way_is_not_cancelled(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world, tina = self.cancelling_world(app, clock)
        under_way = world.book(app, clock.now() + 3 * HOUR, teacher=tina)
        later = world.book(app, clock.now() + 5 * HOUR, teacher=tina)
        clock.advance(3 * HOUR + timedelta(minutes=10))

        app.receive_inbound_sms(sick(clock, "in_1"))

        with app.uow() as uow:
            assert uow.bookings.get(under_way.id).status is BookingStatus.CONFIRMED
            assert uow.bookings.get(later.id).status is BookingStatus.CANCELLED
