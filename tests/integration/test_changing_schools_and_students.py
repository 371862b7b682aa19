"""Changing a school's settings and a student's details after registration, on memory://,
SQLite and PostgreSQL alike: the change is kept and recorded as an event, a refused change
leaves every stored record as it was, and a student's new name reaches their contact in the
school's books through the accounting push."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time
from pathlib import Path

import pytest
from attrs import evolve, frozen
from conftest import open_database
from integration_support import NOW, snapshot

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.memory.store import TABLES
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.errors import InvalidInput, JustDrivingError, NotFound
from justdriving.domain.events import DomainEvent, SchoolSettingsChanged, StudentDetailsChanged
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.schools import (
    AccountingCustomerMode,
    AccountMapping,
    InvoiceService,
    MessageType,
    QuietHours,
    School,
    SchoolSettings,
)
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.persistence import UnitOfWorkFactory

ACCOUNTS = {InvoiceService.LESSON: AccountMapping("1000", "U25")}


@frozen
class Backend:
    app: Application
    books: FakeAccountingClient
    state: Callable[[], object]
    events: list[DomainEvent]


def _application(uow: UnitOfWorkFactory) -> tuple[Application, FakeAccountingClient]:
    books = FakeAccountingClient()
    app = Application(
        uow=uow,
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=books,
        accounting_push=True,
    )
    return app, books


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        store = MemoryStore()
        app, books = _application(MemoryUnitOfWorkFactory(store))

        def state() -> object:
            return {t: {i: s.revision for i, s in store.rows(t)} for t in TABLES}, store.commits

        yield _subscribed(Backend(app, books, state, []))
        return
    database = open_database(request.param, tmp_path, request)
    try:
        app, books = _application(database.uow)
        yield _subscribed(Backend(app, books, lambda: snapshot(database.engine), []))
    finally:
        database.dispose()


def _subscribed(backend: Backend) -> Backend:
    backend.app.subscribe(DomainEvent, backend.events.append)
    return backend


def a_school(app: Application, **settings: object) -> School:
    chosen = evolve(SchoolSettings(), account_map=ACCOUNTS, **settings)  # type: ignore[arg-type]
    return app.register_school("Køreskolen Nord", settings=chosen)


def in_the_books(app: Application, school: School, student_id: str) -> None:
    line = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
    app.issue_invoice(school.id, app.draft_invoice(school.id, student_id, [line]).id)
    app.relay_outbox()


def pushes(app: Application) -> int:
    with app.uow() as uow:
        return len([r for r in uow.outbox.list("pending") if r.kind is OutboxKind.PUSH_ACCOUNTING])


# Students.


def test_a_student_s_new_details_are_kept_and_recorded_as_one_event(backend: Backend) -> None:
    app = backend.app
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen", phone="20123456")
    address = PostalAddress("Vestergade 1", "8000", "Aarhus C")

    app.change_student(
        school.id,
        student.id,
        name="Jonas Mølgaard Madsen",
        phone="+45 31 22 33 44",
        email="jonas@example.dk",
        address=address,
    )

    with app.uow() as uow:
        kept = uow.students.get(student.id)
    assert (kept.name, str(kept.phone), str(kept.email)) == (
        "Jonas Mølgaard Madsen",
        "+4531223344",
        "jonas@example.dk",
    )
    assert kept.address == address
    assert [e for e in backend.events if isinstance(e, StudentDetailsChanged)] == [
        StudentDetailsChanged(
            NOW, student.id, ("name", "phone", "email", "address"), school_id=school.id
        )
    ]


def test_none_clears_a_student_s_phone_and_unchanged_details_record_nothing(
    backend: Backend,
) -> None:
    app = backend.app
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen", phone="20123456")
    before = backend.state()

    app.change_student(school.id, student.id, name="Jonas Madsen")  # as it is
    assert backend.state() == before
    app.change_student(school.id, student.id, phone=None)

    with app.uow() as uow:
        assert uow.students.get(student.id).phone is None
    changes = [e.changed for e in backend.events if isinstance(e, StudentDetailsChanged)]
    assert changes == [("phone",)]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"name": "Jonas Madsen Jr.", "phone": "123"}, InvalidInput),
        ({"name": "Jonas Madsen Jr.", "email": "jonas@"}, InvalidInput),
        ({"phone": "+45 31 22 33 44", "name": "   "}, InvalidInput),
        ({"email": "jonas@example.dk", "address": "Vestergade 1"}, InvalidInput),
        ({"name": "x" * 201}, InvalidInput),
    ],
)
def test_a_refused_student_change_changes_nothing(
    backend: Backend, change: dict[str, object], refusal: type[JustDrivingError]
) -> None:
    app = backend.app
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen", phone="20123456")
    before = backend.state()

    with pytest.raises(refusal):
        app.change_student(school.id, student.id, **change)  # type: ignore[arg-type]

    assert backend.state() == before
    assert not [e for e in backend.events if isinstance(e, StudentDetailsChanged)]


def test_another_school_s_student_cannot_be_changed(backend: Backend) -> None:
    app = backend.app
    north, south = a_school(app), a_school(app)
    student = app.add_student(north.id, "Jonas Madsen")
    before = backend.state()

    with pytest.raises(NotFound):
        app.change_student(south.id, student.id, name="Someone Else")

    assert backend.state() == before


# The student's contact in the books.


def test_a_renamed_student_s_contact_follows_in_the_books(backend: Backend) -> None:
    app, books = backend.app, backend.books
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen")
    in_the_books(app, school, student.id)
    [first] = [b.external_id for b in books.contacts.values()]

    app.change_student(school.id, student.id, name="Jonas Mølgaard", email="jm@example.dk")
    assert pushes(app) == 1
    app.relay_outbox()

    held = books.contacts[student.id]
    assert (held.external_id, held.record.name, held.record.email) == (
        first,
        "Jonas Mølgaard",
        "jm@example.dk",
    )
    assert len(books.contacts) == 1


def test_a_new_phone_and_address_reach_the_contact_in_the_books(backend: Backend) -> None:
    app, books = backend.app, backend.books
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen")
    in_the_books(app, school, student.id)
    address = PostalAddress("Vestergade 1", "8000", "Aarhus C")

    app.change_student(school.id, student.id, phone="+45 31 22 33 44", address=address)
    app.relay_outbox()

    held = books.contacts[student.id].record
    assert (held.phone, held.address) == ("+4531223344", address)


def test_a_student_not_in_the_books_yet_is_not_put_there_by_a_change(backend: Backend) -> None:
    app, books = backend.app, backend.books
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen")

    app.change_student(school.id, student.id, name="Jonas Mølgaard")
    app.relay_outbox()

    assert books.contacts == {}
    assert pushes(app) == 0  # the row was done with: nothing to push


def test_a_school_with_one_shared_contact_queues_nothing(backend: Backend) -> None:
    app = backend.app
    school = a_school(app, accounting_customer_mode=AccountingCustomerMode.SHARED)
    student = app.add_student(school.id, "Jonas Madsen")
    in_the_books(app, school, student.id)

    app.change_student(school.id, student.id, name="Jonas Mølgaard")

    assert pushes(app) == 0


# Schools.


def test_a_prefix_set_later_numbers_the_next_invoices_and_keeps_the_series(
    backend: Backend,
) -> None:
    app = backend.app
    school = a_school(app)
    student = app.add_student(school.id, "Jonas Madsen")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))

    def issued() -> str | None:
        return app.issue_invoice(
            school.id, app.draft_invoice(school.id, student.id, [line]).id
        ).number

    first = issued()
    app.change_school(school.id, settings={"invoice_number_prefix": "N-"})

    assert (first, issued(), issued()) == ("1", "N-2", "N-3")


def test_a_school_s_settings_and_details_change_after_registration(backend: Backend) -> None:
    app = backend.app
    school = a_school(app)

    app.change_school(
        school.id,
        name="Køreskolen Nord ApS",
        contact_email="kontor@nord.dk",
        settings={
            "sms_message_types": frozenset({MessageType.BOOKING_CONFIRMATION}),
            "sender_id": "KoreNord",
            "quiet_hours": QuietHours(time(22, 0), time(7, 0)),
            "invoice_due_days": 8,
        },
    )

    with app.uow() as uow:
        kept = uow.schools.get(school.id)
    assert (kept.name, kept.contact_email) == ("Køreskolen Nord ApS", "kontor@nord.dk")
    assert kept.settings.sms_message_types == frozenset({MessageType.BOOKING_CONFIRMATION})
    assert (kept.settings.sender_id, kept.settings.invoice_due_days) == ("KoreNord", 8)
    assert kept.settings.quiet_hours == QuietHours(time(22, 0), time(7, 0))
    assert kept.settings.account_map == ACCOUNTS  # untouched
    [event] = [e for e in backend.events if isinstance(e, SchoolSettingsChanged)]
    assert event.changed == (
        "name",
        "contact_email",
        "sms_message_types",
        "sender_id",
        "quiet_hours",
        "invoice_due_days",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Nord", "settings": {"no_such_setting": True}},
        {"name": "Nord", "settings": {"invoice_due_days": -1}},
        {"name": "Nord", "settings": {"quiet_hours": "21-08"}},
        {"name": "Nord", "settings": {"cvr_number": "1234"}},
        {"name": "Nord", "contact_phone": "123"},
        {"name": "", "settings": {"sms_enabled": False}},
        {"settings": {"language": "sv"}},
        {"settings": {"invoice_number_prefix": "N 1,"}},
        {"settings": {"invoice_number_prefix": "NORD-2025-X"}},
        {"settings": ["sms_enabled"]},
    ],
)
def test_a_refused_school_change_changes_nothing(
    backend: Backend, change: dict[str, object]
) -> None:
    app = backend.app
    school = a_school(app)
    before = backend.state()

    with pytest.raises(InvalidInput):
        app.change_school(school.id, **change)  # type: ignore[arg-type]

    assert backend.state() == before
    assert not [e for e in backend.events if isinstance(e, SchoolSettingsChanged)]
