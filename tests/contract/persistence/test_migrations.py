"""The Alembic migrations build exactly the schema tables.py describes, on every database."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.rows import BOOKINGS
from justdriving.adapters.sql.schema import _config, upgrade
from justdriving.adapters.sql.tables import bookings, metadata
from justdriving.domain.bookings import Booking, TimeSlot
from justdriving.domain.ids import BookingId, BookingTypeId, SchoolId, StudentId, TeacherId
from justdriving.domain.money import Money
from local_services import postgres_url


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'migrations.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    engine = make_engine(postgres_url())
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "engine_of",
    [pytest.param(sqlite_engine, id="sqlite"), pytest.param(postgres_engine, id="postgresql")],
)
def test_the_migrated_schema_matches_the_tables(
    engine_of: Callable[[], AbstractContextManager[Engine]],
) -> None:
    with engine_of() as engine:
        upgrade(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(index["name"]) for index in inspect(engine).get_indexes(table)}


def test_0007_adds_the_newest_first_indexes_and_its_downgrade_drops_them() -> None:
    with sqlite_engine() as engine:
        upgrade(engine)
        assert "ix_messages_created_at" in _indexes(engine, "messages")
        assert "ix_inbox_received_at" in _indexes(engine, "inbox")
        config = _config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert "ix_messages_created_at" not in _indexes(engine, "messages")
        assert "ix_inbox_received_at" not in _indexes(engine, "inbox")
        upgrade(engine)
        assert "ix_messages_created_at" in _indexes(engine, "messages")


def _downgrade(engine: Engine, revision: str) -> None:
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _lesson(id: str, start: datetime, *, confirmed: bool, reminded: tuple[str, ...]) -> Booking:
    booking = Booking(
        id=BookingId(id),
        school_id=SchoolId("sch_1"),
        teacher_id=TeacherId("tch_1"),
        student_ids=(StudentId("stu_1"),),
        booking_type_id=BookingTypeId("bt_1"),
        slot=TimeSlot.starting(start, timedelta(hours=1)),
        price=Money(50000, "DKK"),
    )
    if confirmed:
        booking.confirm(start)
    booking.reminded = reminded
    return booking


@pytest.mark.parametrize(
    "engine_of",
    [pytest.param(sqlite_engine, id="sqlite"), pytest.param(postgres_engine, id="postgresql")],
)
def test_0010_fills_in_the_reminders_each_stored_lesson_awaits_as_the_mapping_would(
    engine_of: Callable[[], AbstractContextManager[Engine]],
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    lessons = [
        _lesson("bk_none", start, confirmed=True, reminded=()),
        _lesson("bk_sms", start, confirmed=True, reminded=("sms",)),
        _lesson("bk_both", start, confirmed=True, reminded=("sms", "email")),
        _lesson("bk_pending", start, confirmed=False, reminded=()),
    ]
    new_columns = ("sms_reminder_start", "email_reminder_start")
    with engine_of() as engine:
        upgrade(engine)
        _downgrade(engine, "0009")
        assert "ix_bookings_sms_reminder" not in _indexes(engine, "bookings")
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM bookings"))
            for lesson in lessons:
                row = {k: v for k, v in BOOKINGS.to_row(lesson).items() if k not in new_columns}
                connection.execute(bookings.insert().values(id=lesson.id, version=1, **row))
        upgrade(engine)
        with engine.connect() as connection:
            stored = {
                row.id: (row.sms_reminder_start, row.email_reminder_start)
                for row in connection.execute(bookings.select())
            }
        assert stored == {
            lesson.id: tuple(BOOKINGS.to_row(lesson)[column] for column in new_columns)
            for lesson in lessons
        }
        assert stored["bk_sms"] == (None, start)
        assert {"ix_bookings_sms_reminder", "ix_bookings_email_reminder"} <= _indexes(
            engine, "bookings"
        )
