"""Helpers shared by the use-case tests: money, times, the world, and looks into the store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import evolve, frozen

from justdriving.adapters.memory import (
    FakePaymentGateway,
    FrozenClock,
    MemoryStore,
    WebhookDelivery,
)
from justdriving.adapters.memory.store import TABLES
from justdriving.application import Application
from justdriving.domain.bookings import Booking, BookingType, CancellationPolicy, FeeTier
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import EventOutcome, PaymentMethod
from justdriving.domain.people import Student, Teacher
from justdriving.domain.schools import MessageType, School, SchoolSettings

# Monday 3 March 2025, 10:00 in Copenhagen.
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

LATE_POLICY = CancellationPolicy(
    free_until_hours=24,
    tiers=(FeeTier(within_hours=24, percent=50), FeeTier(within_hours=2, percent=100)),
)


def dkk(text: str) -> Money:
    return Money.parse(text, "DKK")


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


@frozen
class World:
    """One school with a teacher, a student (Danish phone and email) and a 45-minute lesson."""

    school: School
    teacher: Teacher
    student: Student
    lesson: BookingType

    def add_student(self, app: Application, name: str = "Bo Berg") -> Student:
        return app.add_student(self.school.id, name, email=f"{name.split()[0].lower()}@example.dk")

    def book(
        self,
        app: Application,
        start: datetime,
        *,
        student: Student | None = None,
        teacher: Teacher | None = None,
        package_id: str | None = None,
    ) -> Booking:
        return app.book_lesson(
            self.school.id,
            teacher_id=(teacher or self.teacher).id,
            student_ids=[(student or self.student).id],
            booking_type_id=self.lesson.id,
            start=start,
            package_id=package_id,
        )


def build_world(
    app: Application, name: str = "Køreskolen Øst", settings: SchoolSettings | None = None
) -> World:
    school = app.register_school(
        name,
        currency="DKK",
        timezone="Europe/Copenhagen",
        phone_region="DK",
        vat_number="DK12345678",
        settings=settings or SchoolSettings(),
    )
    # Without a phone or email: the tests of students' messages count only theirs (the
    # teacher's own messages are tested with a teacher who can be reached).
    teacher = app.add_teacher(school.id, "Lars Lærer")
    student = app.add_student(
        school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
    )
    lesson = app.add_booking_type(
        school.id,
        "Køretime",
        duration=timedelta(minutes=45),
        price=dkk("500.00"),
        deposit=dkk("100.00"),
        policy=LATE_POLICY,
    )
    return World(school, teacher, student, lesson)


def with_settings(**changes: Any) -> SchoolSettings:
    return evolve(SchoolSettings(), **changes)


def hours_from_now(clock: FrozenClock, hours: float) -> datetime:
    return clock.now() + timedelta(hours=hours)


def deliver(app: Application, delivery: WebhookDelivery, times: int = 1) -> list[EventOutcome]:
    body, headers = delivery
    outcomes: list[EventOutcome] = []
    for _ in range(times):
        outcomes += app.receive_payment_webhook("fake", body, headers)
    return outcomes


def provider_ref(gateway: FakePaymentGateway, payment_id: str) -> str:
    return next(ref for ref, charge in gateway.charges.items() if charge.payment_id == payment_id)


def outbox(store: MemoryStore, kind: OutboxKind | None = None) -> list[OutboxMessage]:
    rows: list[OutboxMessage] = store.records("outbox")
    return [row for row in rows if kind is None or row.kind is kind]


def messages(
    store: MemoryStore, type: MessageType | None = None, channel: Channel | None = None
) -> list[OutboundMessage]:
    found: list[OutboundMessage] = store.records("messages")
    return [
        m
        for m in found
        if (type is None or m.type is type) and (channel is None or m.channel is channel)
    ]


def record(store: MemoryStore, table: str, id: str) -> Any:
    stored = store.read(table, id)
    assert stored is not None, f"{table} {id} is not stored"
    return stored.record


def snapshot(store: MemoryStore) -> Mapping[str, Mapping[str, int]]:
    """Every committed record of every table, with its revision: any insert or update shows."""
    return {table: {id: s.revision for id, s in store.rows(table)} for table in TABLES}


def paid_package(
    app: Application, world: World, *, lessons: int = 5, price: str = "2250.00"
) -> tuple[str, str]:
    """A package of `lessons` sold to the world's student and paid in cash: (package, invoice)."""
    package, invoice = app.sell_package(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=lessons,
        price=dkk(price),
    )
    app.record_manual_payment(
        world.school.id,
        world.student.id,
        amount=dkk(price),
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
    )
    return package.id, invoice.id
