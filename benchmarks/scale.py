"""Scale: the reminders query (bookings starting in the next hour) among N bookings.

    .venv/bin/python -m benchmarks.scale [--sizes 10000,100000] [--full] [--queries 20]

For each backend (SQLite file; PostgreSQL when reachable, in a database of its own created and
dropped here) and each N: bulk-insert N booking rows straight into the `bookings` table with
SQLAlchemy Core (valid Booking documents, starts spread evenly over 365 days around now), then
time `SqlBookings.starting_between(now, now + 1 h)` through a SqlUnitOfWork (a new unit of work
per query, median of `--queries`), and show the backend's plan for the same SQL (EXPLAIN QUERY
PLAN / EXPLAIN) to check that ix_bookings_starts_at is used, not a scan. `--full` adds 1,000,000.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text

from benchmarks import plots
from benchmarks.relay import POSTGRES_ADMIN_URL, postgres_reachable
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.mapping import to_document
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.tables import UtcDateTime, bookings
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.bookings import Booking, BookingStatus, TimeSlot
from justdriving.domain.money import Money

TITLE = "Scale: reminders query among N bookings"
DATABASE = "justdriving_bench_scale"
SPAN = timedelta(days=365)
LESSON = timedelta(minutes=45)
CHUNK = 20_000


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'scale.db'}"


@contextmanager
def postgres_url(database: str = DATABASE) -> Iterator[str]:
    """A database of its own, created empty and dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
    try:
        with admin.connect() as connection:
            connection.execute(text(drop))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(drop))
    finally:
        admin.dispose()


def template(now: datetime) -> dict[str, Any]:
    booking = Booking(
        id="bok_template",  # type: ignore[arg-type]
        school_id="sch_bench",  # type: ignore[arg-type]
        teacher_id="tch_bench",  # type: ignore[arg-type]
        student_ids=("stu_bench",),  # type: ignore[arg-type]
        booking_type_id="bt_bench",  # type: ignore[arg-type]
        slot=TimeSlot.starting(now, LESSON),
        price=Money(50000, "DKK"),
        status=BookingStatus.CONFIRMED,
    )
    document = to_document(booking)
    document.pop("id")
    document.pop("version")
    document["status"] = "confirmed"
    return document


def fill(engine: Any, size: int, now: datetime) -> None:
    """`size` bookings, starts evenly over SPAN from now - SPAN/2 (50 teachers)."""
    base = template(now)
    first = now - SPAN / 2
    step = SPAN / size
    with engine.begin() as connection:
        for offset in range(0, size, CHUNK):
            rows = []
            for n in range(offset, min(size, offset + CHUNK)):
                start = first + step * n
                end = start + LESSON
                document = {**base, "slot": {"start": start.isoformat(), "end": end.isoformat()}}
                rows.append(
                    {
                        "id": f"bok_{n:08d}",
                        "version": 1,
                        "document": document,
                        "school_id": "sch_bench",
                        "teacher_id": f"tch_{n % 50:02d}",
                        "starts_at": start,
                        "ends_at": end,
                        "status": "confirmed",
                    }
                )
            connection.execute(bookings.insert(), rows)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def plan(engine: Any, now: datetime) -> str:
    """The backend's plan for the SQL starting_between sends."""
    sql = "SELECT * FROM bookings WHERE starts_at >= :a AND starts_at < :b ORDER BY starts_at"
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    statement = text(prefix + sql).bindparams(
        bindparam("a", type_=UtcDateTime), bindparam("b", type_=UtcDateTime)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement, {"a": now, "b": now + timedelta(hours=1)}).all()
    if engine.dialect.name == "sqlite":
        return "; ".join(str(row[-1]) for row in rows)
    return str(rows[0][0]).split("  (cost=")[0].strip()  # the node, without costs


def measure(url: str, size: int, queries: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(bookings.delete())
        now = datetime.now(UTC).replace(microsecond=0)
        began = time.perf_counter()
        fill(engine, size, now)
        filled = time.perf_counter() - began
        uow = SqlUnitOfWorkFactory(engine)
        times, found = [], 0
        for _ in range(queries):
            began = time.perf_counter()
            with uow() as unit:
                found = len(unit.bookings.starting_between(now, now + timedelta(hours=1)))
            times.append(time.perf_counter() - began)
        return {
            "size": size,
            "fill": filled,
            "median": statistics.median(times),
            "found": found,
            "plan": plan(engine, now),
        }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full", action="store_true", help="add 1,000,000 bookings")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    sizes = [int(n) for n in options.sizes.split(",")]
    if options.full and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    results: dict[str, list[dict[str, Any]]] = {}
    notes = []
    for backend in options.backends.split(","):
        if backend == "postgresql" and (why := postgres_reachable()) is not None:
            notes.append(f"PostgreSQL skipped: not reachable at {POSTGRES_ADMIN_URL} ({why}).")
            print(notes[-1])
            continue
        database = sqlite_url if backend == "sqlite" else postgres_url
        with database() as url:
            for size in sizes:
                result = measure(url, size, options.queries)
                results.setdefault(backend, []).append(result)
                print(backend, {k: v for k, v in result.items()}, flush=True)
    rows = []
    for backend, runs in results.items():
        smallest = runs[0]["median"]
        for run in runs:
            rows.append(
                [
                    backend,
                    f"{run['size']:,}",
                    str(run["found"]),
                    f"{run['median'] * 1000:.2f}",
                    f"{run['median'] / smallest:.2f}",
                    f"{run['fill']:.1f}",
                    f"`{run['plan']}`",
                ]
            )
    header = [
        "backend",
        "bookings",
        "found (1 h)",
        "ms per query (median)",
        f"÷ {sizes[0]:,}",
        "insert s",
        "plan",
    ]
    table = plots.markdown_table(header, rows)
    print(table)
    if options.no_docs:
        return
    png = plots.lines(
        "scale",
        "starting_between(now, now + 1 h), ms per query",
        {
            backend: ([r["size"] for r in runs], [r["median"] * 1000 for r in runs])
            for backend, runs in results.items()
        },
        "bookings in the table",
        "ms per query",
    )
    size_text = ", ".join(f"{n:,}" for n in sizes)
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.scale --full` (sizes {size_text}; what `make bench`
runs); without `--full`, 10,000 and 100,000 only.

{plots.machine()}

N bookings bulk-inserted straight into `bookings` with SQLAlchemy Core (valid Booking documents,
starts evenly over 365 days around now, so the hour holds about N ÷ 8,760 lessons), then
ANALYZE; each query is `SqlBookings.starting_between(now, now + 1 h)` (what the announcements use)
in a new SqlUnitOfWork, mapping the rows to Booking objects; median of {options.queries}.
The plan is the backend's EXPLAIN (QUERY PLAN) of the same SQL. Growth: ms per query ÷ the
smallest N; it follows the rows found (and mapped), not the table's size, as long as the plan is
an index range scan.

{table}

{"".join(f"- {note}" + chr(10) for note in notes)}
{plots.image(png, "reminders query time vs bookings")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
