"""Reminders due among N bookings on PostgreSQL, against an indexed point query.

    .venv/bin/python -m benchmarks.reminders_due [--sizes 10000,100000,1000000] [--ticks 30]

In a database of its own (created and dropped here): one school (SMS 24 h, email 72 h before,
the defaults) with a teacher, a student and a lesson type, registered through the Application;
then N bookings COPYed straight into `bookings`, starts evenly over 365 days around a fixed
`now`, as a worker that has been ticking would leave them: past lessons completed, upcoming ones
confirmed, those already inside a lead reminded on that channel. ANALYZE, then in the same run:

- point query (baseline): `uow.bookings.get(id)` in a new unit of work, one indexed lookup
  and one aggregate mapped;
- tick, none due: `Reminders.send_due()` at `now` (what every worker tick does, steady state);
- tick, 10 due: the same after 10 fresh confirmed lessons 23 h ahead (not timed) were added, so
  each tick decides 20 reminders (SMS and email) and queues their messages;
- scan (before): the reminders' former lookup, every lesson of the next 14 days mapped to an
  aggregate and checked (`starting_between` + the same decision), `--scan-ticks` times.

All sizes are loaded first, each in a database of its own, then measured in rounds over every
size in turn, so drift in the machine's load hits each alike. Each figure is a median; the
plans are PostgreSQL's EXPLAIN ANALYZE of the due lessons' SQL as sent and of the former
14-day range.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import define, evolve, field
from sqlalchemy import event, text

from benchmarks import plots
from benchmarks.relay import POSTGRES_ADMIN_URL, postgres_reachable
from benchmarks.scale import postgres_url
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.mapping import to_document
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.bookings import Booking, BookingStatus, TimeSlot
from justdriving.domain.events import EventLog
from justdriving.domain.ids import BookingId
from justdriving.domain.money import Money
from justdriving.domain.schools import School
from justdriving.domain.services import reminders

TITLE = "Reminders due among N bookings (PostgreSQL)"
DATABASE = "justdriving_bench_reminders"
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=365)
LESSON = timedelta(minutes=45)
LEADS = {"sms": timedelta(hours=24), "email": timedelta(hours=72)}
COPY_BATCH = 50_000
FRESH = 10


def a_school(uow: SqlUnitOfWorkFactory) -> tuple[School, Booking]:
    """The school, and a booking of it (booked through the Application) as the template."""
    app = Application(
        uow=uow,
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    school = app.register_school("Bench Køreskole", vat_number="DK12345678")
    teacher = app.add_teacher(school.id, "Lars Lærer", phone="+45 30 11 22 33")
    student = app.add_student(
        school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
    )
    lesson = app.add_booking_type(school.id, "Køretime", duration=LESSON, price=Money(50000, "DKK"))
    booking = app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=NOW + timedelta(days=60),  # requested, not confirmed: never due here
    )
    return school, booking


def fill(engine: Any, size: int, template: Booking) -> None:
    """`size` bookings over SPAN centred on NOW, COPYed in batches, then ANALYZE."""
    base = to_document(template)
    for key in ("id", "version"):
        base.pop(key)
    first, step = NOW - SPAN / 2, SPAN / size
    columns = (
        "id, version, document, school_id, teacher_id, starts_at, ends_at, status,"
        " sms_reminder_start, email_reminder_start"
    )
    raw = engine.raw_connection()
    try:
        statement = f"COPY bookings ({columns}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for n in range(size):
                copy.write_row(_row(base, first + step * n, n))
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE bookings"))


def _row(base: dict[str, Any], start: datetime, n: int) -> tuple[Any, ...]:
    """A booking as the mapping writes it (columns from Booking.awaiting_reminder)."""
    status = "completed" if start < NOW else "confirmed"
    reminded = [c for c, lead in LEADS.items() if status == "confirmed" and start <= NOW + lead]
    end = start + LESSON
    document = {
        **base,
        "slot": {"start": start.isoformat(), "end": end.isoformat()},
        "status": status,
        "reminded": reminded,
    }
    naive = start.replace(tzinfo=None)
    awaiting = [
        naive if status == "confirmed" and channel not in reminded else None for channel in LEADS
    ]
    return (
        f"bok_{n:08d}",
        1,
        json.dumps(document),
        base["school_id"],
        base["teacher_id"],
        naive,
        end.replace(tzinfo=None),
        status,
        *awaiting,
    )


def timed(action: Callable[[], Any], before: Callable[[], None] | None = None) -> tuple[float, Any]:
    if before is not None:
        before()
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def scan_tick(uow: SqlUnitOfWorkFactory) -> int:
    """The reminders' lookup before the index: every lesson of the next 14 days mapped."""
    count = 0
    with uow() as unit:
        schools: dict[str, School] = {}
        for booking in unit.bookings.starting_between(NOW, NOW + timedelta(days=14)):
            if booking.school_id not in schools:
                schools[booking.school_id] = unit.schools.get(booking.school_id)
            count += reminders._remind(unit, schools[booking.school_id], booking, NOW)
        unit.commit()
    return count


def sent_sql(engine: Any, action: Callable[[], Any], marker: str) -> tuple[str, Any]:
    """The statement (and parameters) containing `marker` that `action` sends."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if marker in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen[0]


def explain(engine: Any, statement: str, parameters: Any) -> list[str]:
    """PostgreSQL's EXPLAIN ANALYZE of the statement as sent, costs and casts left out."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
            lines = [str(row[0]).rstrip() for row in cursor.fetchall()]
    finally:
        raw.close()
    return [
        line.replace("::timestamp without time zone", "").replace("::text", "")
        for line in lines
        if not line.lstrip().startswith(("Planning", "Execution", "Sort Method"))
    ]


@define
class Subject:
    """One size: its database, the reminders job on it, and what was measured."""

    size: int
    engine: Any
    uow: SqlUnitOfWorkFactory
    template: Booking
    filled: float
    times: dict[str, list[float]] = field(factory=dict)
    found: dict[str, int] = field(factory=dict)
    fresh: int = 0

    @classmethod
    def load(cls, url: str, size: int) -> Subject:
        engine = make_engine(url)
        upgrade(engine)
        uow = SqlUnitOfWorkFactory(engine)
        _, template = a_school(uow)
        began = time.perf_counter()
        fill(engine, size, template)
        return cls(size, engine, uow, template, time.perf_counter() - began)

    @property
    def job(self) -> reminders.Reminders:
        return reminders.Reminders(self.uow, FrozenClock(NOW))

    def point(self) -> Booking:
        with self.uow() as unit:
            return unit.bookings.get(f"bok_{self.size // 3:08d}")

    def add_due(self) -> None:
        """FRESH confirmed lessons 23 h ahead, awaiting both reminders."""
        with self.uow() as unit:
            for _ in range(FRESH):
                self.fresh += 1
                lesson = evolve(
                    self.template,
                    id=BookingId(f"bok_fresh_{self.fresh}"),
                    slot=TimeSlot.starting(NOW + timedelta(hours=23), LESSON),
                    status=BookingStatus.CONFIRMED,
                    version=0,
                    events=EventLog(),
                )
                unit.bookings.add(lesson)
            unit.commit()

    def record(self, name: str, took: float, found: int | None = None) -> None:
        self.times.setdefault(name, []).append(took)
        if found is not None:
            self.found[name] = found

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])


def measure(subjects: list[Subject], ticks: int, scan_ticks: int) -> None:
    """Rounds over every size in turn, so drift in the machine's load hits each alike."""
    for _ in range(ticks):
        for subject in subjects:
            subject.record("point", timed(subject.point)[0])
            took, report = timed(subject.job.send_due)
            subject.record("idle", took, report.lessons)
            took, report = timed(subject.job.send_due, before=subject.add_due)
            subject.record("due", took, report.lessons)
    for _ in range(scan_ticks):
        for subject in subjects:
            took, count = timed(lambda s=subject: scan_tick(s.uow))  # type: ignore[misc]
            subject.record("scan", took, count)


def summary(subject: Subject) -> dict[str, Any]:
    # The ticks updated hundreds of rows; as autovacuum would, clear their old versions out of
    # the indexes so the plan counts what a tick meets in steady state.
    with subject.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE bookings"))
    window = sent_sql(subject.engine, subject.job.send_due, "sms_reminder_start >")
    scan = sent_sql(subject.engine, lambda: scan_tick(subject.uow), "starts_at >=")
    return {
        "size": subject.size,
        "fill": subject.filled,
        **{name: subject.median(name) for name in subject.times},
        **{f"{name}_found": count for name, count in subject.found.items()},
        "plan": explain(subject.engine, *window),
        "scan_plan": explain(subject.engine, *scan),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reminders_due", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--scan-ticks", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    if (why := postgres_reachable()) is not None:
        print(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({why}): nothing measured.")
        return
    sizes = [int(n) for n in options.sizes.split(",")]
    with ExitStack() as stack:
        subjects = []
        for size in sizes:  # a database of its own for each size
            url = stack.enter_context(postgres_url(f"{DATABASE}_{size}"))
            subjects.append(Subject.load(url, size))
            stack.callback(subjects[-1].engine.dispose)
            print(f"{size:,} bookings loaded in {subjects[-1].filled:.1f} s", flush=True)
        measure(subjects, options.ticks, options.scan_ticks)
        results = [summary(subject) for subject in subjects]
    for result in results:
        print({k: v for k, v in result.items() if "plan" not in k})
    report(results, options)


def report(results: list[dict[str, Any]], options: argparse.Namespace) -> None:
    smallest = results[0]
    rows = [
        [
            f"{r['size']:,}",
            f"{r['point'] * 1000:.2f}",
            f"{r['idle'] * 1000:.2f}",
            f"{r['idle'] / r['point']:.1f}",
            f"{r['idle'] / smallest['idle']:.2f}",
            f"{r['due'] * 1000:.2f} ({r['due_found']})",
            f"{r['due'] / r['point']:.1f}",
            f"{r['scan'] * 1000:,.1f}",
            f"{r['scan'] / r['idle']:,.0f}",
            f"{r['fill']:.1f}",
        ]
        for r in results
    ]
    header = [
        "bookings",
        "point query ms (baseline)",
        "tick, none due, ms",
        "÷ point query",
        f"÷ at {smallest['size']:,}",
        "tick, 10 due, ms (reminders)",
        "÷ point query",
        "scan (before) ms",
        "scan ÷ tick",
        "COPY s",
    ]
    table = plots.markdown_table(header, rows)
    largest = results[-1]
    plans = "\n".join(
        [
            f"The due lessons' statement at {largest['size']:,} bookings (the same plan at every"
            " N; after VACUUM, an index row counted may still be an old version of a lesson a"
            " tick has reminded, which the heap scan drops):",
            "",
            "```text",
            *largest["plan"],
            "```",
            "",
            "The former 14-day range at the same N:",
            "",
            "```text",
            *largest["scan_plan"],
            "```",
        ]
    )
    verdict = (
        f"**At {largest['size']:,} bookings a tick with none due takes "
        f"{largest['idle'] * 1000:.2f} ms, {largest['idle'] / largest['point']:.1f} times the "
        f"point query, {largest['idle'] / smallest['idle']:.2f} times the tick at "
        f"{smallest['size']:,}**; the former scan took {largest['scan'] * 1000:,.0f} ms "
        f"({largest['scan'] / largest['idle']:,.0f} times the tick). A tick is two units of work "
        "(lessons, then overdue invoices), each a pooled connection's ping, its statements and a "
        "commit, which is what it costs beyond the point query's one."
    )
    print(table)
    print(verdict)
    print(plans)
    if options.no_docs:
        return
    sizes = [float(r["size"]) for r in results]
    png = plots.lines(
        "reminders-due",
        "Reminders due: ms per worker tick vs bookings (PostgreSQL)",
        {
            "point query (baseline)": (sizes, [r["point"] * 1000 for r in results]),
            "tick, none due": (sizes, [r["idle"] * 1000 for r in results]),
            "tick, 10 due": (sizes, [r["due"] * 1000 for r in results]),
            "14-day scan (before)": (sizes, [r["scan"] * 1000 for r in results]),
        },
        "bookings in the table",
        "ms (log scale)",
        log_y=True,
    )
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.reminders_due` (part of `make bench`; `--sizes`,
`--ticks`).

{plots.machine()}

One school (SMS 24 h and email 72 h before), N bookings COPYed over 365 days around `now` as a
ticking worker leaves them (past lessons completed; upcoming ones confirmed, reminded on each
channel whose lead has come), then ANALYZE. Baseline in the same run: an indexed point query
through the same unit of work (`uow.bookings.get(id)`). A tick is `Reminders.send_due()` (lessons
and overdue invoices) in its own unit of work; "10 due" adds 10 fresh lessons 23 h ahead before
each tick (not timed), whose 20 reminders it decides and queues. "Scan (before)" is the former
lookup, every lesson of the next 14 days mapped and checked. Medians of {options.ticks} ticks
({options.scan_ticks} for the scan).

{table}

{verdict}

Plans (EXPLAIN ANALYZE of the SQL as sent, costs off):

{plans}

{plots.image(png, "reminders due, ms per tick vs bookings")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
