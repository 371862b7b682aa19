"""The teacher's daily agenda: the day's lessons with student names and pickup notes, at the
school's hour, once per teacher, day and channel however often the schedule runs."""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.people import Teacher
from justdriving.domain.schools import MessageType
from justdriving.entrypoints.schedule import AGENDAS, periodic_jobs

from .support import NOW, World, build_world, messages, with_settings

# NOW is 10:00 in Copenhagen on Monday 3 March 2025.
HOUR = timedelta(hours=1)


def a_teacher(app: Application, world: World, name: str = "Tina Thomsen") -> Teacher:
    first = name.split()[0].lower()
    return app.add_teacher(
        world.school.id, name, phone="+45 30 11 22 33", email=f"{first}@koreskolen.dk"
    )


def agendas(store: MemoryStore) -> list[OutboundMessage]:
    return messages(store, MessageType.TEACHER_AGENDA)


def a_day_of_lessons(app: Application, world: World, clock: FrozenClock) -> Teacher:
    """Tina: 15:00 and 13:00 today (one with a pickup note), one tomorrow, one cancelled."""
    tina = a_teacher(app, world)
    bo = world.add_student(app, "Bo Berg")
    world.book(app, clock.now() + 5 * HOUR, teacher=tina, student=bo)
    app.book_lesson(
        world.school.id,
        teacher_id=tina.id,
        student_ids=[world.student.id],
        booking_type_id=world.lesson.id,
        start=clock.now() + 3 * HOUR,
        pickup_note="Nørregade 1, ved bageren",
    )
    world.book(app, clock.now() + 25 * HOUR, teacher=tina)
    cancelled = world.book(app, clock.now() + 7 * HOUR, teacher=tina, student=bo)
    app.cancel_booking(world.school.id, cancelled.id, by=CancelledBy.SCHOOL)
    return tina


def test_at_the_schools_hour_each_teacher_gets_the_days_lessons_by_sms_and_email(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    world = build_world(app, settings=with_settings(teacher_agenda_hour=7))
    a_day_of_lessons(app, world, clock)

    assert app.send_teacher_agendas() == 2

    told = messages(store, MessageType.TEACHER_AGENDA)
    assert {m.channel for m in told} == {Channel.SMS, Channel.EMAIL}
    [lessons] = {tuple(tuple(sorted(line.items())) for line in m.context["lessons"]) for m in told}
    assert [dict(line) for line in lessons] == [
        {
            "time": "13:00",
            "end": "13:45",
            "lesson": "Køretime",
            "students": "Anna Andersen",
            "pickup": "Nørregade 1, ved bageren",
        },
        {
            "time": "15:00",
            "end": "15:45",
            "lesson": "Køretime",
            "students": "Bo Berg",
            "pickup": "",
        },
    ]
    assert {m.context["day"] for m in told} == {"2025-03-03"}


def test_the_agenda_is_decided_once_however_often_the_schedule_runs(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    world = build_world(app, settings=with_settings(teacher_agenda_hour=7))
    a_day_of_lessons(app, world, clock)

    runs = [app.send_teacher_agendas() for _ in range(3)]
    clock.advance(2 * HOUR)
    runs.append(app.send_teacher_agendas())

    assert runs == [2, 0, 0, 0]
    assert len(messages(store, MessageType.TEACHER_AGENDA)) == 2


def test_before_the_hour_nothing_and_the_next_day_a_new_agenda(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    world = build_world(app, settings=with_settings(teacher_agenda_hour=11))
    a_day_of_lessons(app, world, clock)

    assert app.send_teacher_agendas() == 0
    clock.advance(HOUR)
    assert app.send_teacher_agendas() == 2
    clock.advance(23 * HOUR)  # Tuesday 10:00 is before the hour
    assert app.send_teacher_agendas() == 0
    clock.advance(HOUR)  # Tuesday 11:00: Tuesday's lesson, at 11:00
    assert app.send_teacher_agendas() == 2

    tuesday = [m for m in agendas(store) if m.context["day"] == "2025-03-04"]
    assert [line["time"] for m in tuesday for line in m.context["lessons"]] == ["11:00", "11:00"]


def test_a_late_agenda_lists_only_the_lessons_still_to_come(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    world = build_world(app, settings=with_settings(teacher_agenda_hour=7))
    a_day_of_lessons(app, world, clock)
    clock.advance(4 * HOUR)  # 14:00: the 13:00 lesson has begun

    app.send_teacher_agendas()

    assert {len(m.context["lessons"]) for m in messages(store, MessageType.TEACHER_AGENDA)} == {1}


def test_no_agenda_without_an_hour_without_lessons_or_for_a_toggled_off_channel(
    app: Application, clock: FrozenClock, store: MemoryStore
) -> None:
    off = build_world(app, name="Køreskolen Vest")
    a_day_of_lessons(app, off, clock)
    quiet = build_world(app, name="Køreskolen Syd", settings=with_settings(teacher_agenda_hour=7))
    a_teacher(app, quiet, "Ole Olsen")  # no lessons
    email_only = build_world(
        app,
        name="Køreskolen Nord",
        settings=with_settings(teacher_agenda_hour=7, teacher_sms_message_types=frozenset()),
    )
    a_day_of_lessons(app, email_only, clock)

    assert app.send_teacher_agendas() == 1

    [told] = messages(store, MessageType.TEACHER_AGENDA)
    assert (told.school_id, told.channel) == (email_only.school.id, Channel.EMAIL)


def test_the_agenda_email_lists_each_lesson_with_its_pickup_note_in_the_teachers_language(
    clock: FrozenClock, store: MemoryStore
) -> None:
    email = FakeEmailSender()
    app = Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake", clock=clock)}),
        sms=FakeSmsSender(),
        email=email,
        renderer=JinjaTemplateRenderer(),
    )
    world = build_world(app, settings=with_settings(teacher_agenda_hour=7))
    a_day_of_lessons(app, world, clock)

    app.send_teacher_agendas()
    app.relay_outbox()

    [agenda] = [sent for _, sent, _ in email.sent if sent.subject.startswith("Dine lektioner")]
    assert agenda.to.value == "tina@koreskolen.dk"
    assert agenda.subject == "Dine lektioner 2025-03-03: 2"
    assert "13:00-13:45  Køretime: Anna Andersen\n  Afhentning: Nørregade 1, ved bageren" in (
        agenda.text
    )
    assert "15:00-15:45  Køretime: Bo Berg" in agenda.text
    assert agenda.html is not None
    assert "Køretime: Anna Andersen · Afhentning: Nørregade 1, ved bageren" in agenda.html


def test_the_agenda_is_a_job_in_the_one_schedule() -> None:
    assert AGENDAS in [job.name for job in periodic_jobs()]
    assert NOW.hour == 9  # the times above are read in Copenhagen (UTC+1)
