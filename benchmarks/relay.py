"""Relay throughput: outbox messages relayed per second, by backend, sender and concurrency.

    .venv/bin/python -m benchmarks.relay [--runs 3] [--relays 1,4,8] [--backends sqlite,postgresql]

For each backend (SQLite file; PostgreSQL when reachable) and each sender —

- `memory`: the in-memory FakeSmsSender / FakeEmailSender (the relay's own cost);
- `http-30ms`: a local HTTP endpoint (ThreadingHTTPServer) that answers after 30 ms, called
  with urllib, our message reference as the Idempotency-Key header —

it queues messages (an SMS and an email per announcement), starts N relay threads (each a Relay
of its own, with its own worker id and engine) that call `run_once()` until nothing is left,
and times them. Reported: messages/s (median of the runs), for the HTTP sender the ideal
(relays ÷ latency: every relay always waiting on the provider) and measured ÷ ideal, and how
many messages were sent more than once (should be 0). Prints a table and writes the section
"Relay throughput" of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from attrs import define, field
from sqlalchemy import create_engine, text

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.tables import metadata
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.messages import EmailMessage, SendReceipt, SmsMessage
from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import MessageType, SchoolSettings
from justdriving.domain.services.steps.messages import queue_message
from justdriving.relay.engine import Relay, RelayPolicy

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Relay throughput"
COMMAND = ".venv/bin/python -m benchmarks"
POSTGRES_ADMIN_URL = os.environ.get(
    "JUSTDRIVING_TEST_POSTGRES_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_DATABASE = "justdriving_bench"


# Senders ----------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the listen backlog: read in the constructor, so set here


class SlowProvider:
    """A local HTTP endpoint answering every POST with 200 after `latency` seconds; counts keys."""

    def __init__(self, latency: float) -> None:
        self.keys: Counter[str] = Counter()
        lock, keys = threading.Lock(), self.keys

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    keys[self.headers.get("Idempotency-Key", "")] += 1
                time.sleep(latency)
                body = b'{"id": "prov"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _post(url: str, key: str, payload: dict[str, str]) -> SendReceipt:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return SendReceipt("http", json.loads(response.read())["id"])


class HttpSms:
    name = "http"

    def __init__(self, url: str) -> None:
        self._url = url + "/sms"

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        return _post(self._url, message.reference, {"to": str(to), "body": message.body})


class HttpEmail:
    name = "http"

    def __init__(self, url: str) -> None:
        self._url = url + "/email"

    def send(self, message: EmailMessage) -> SendReceipt:
        return _post(self._url, message.reference, {"to": str(message.to), "text": message.text})


@define
class Senders:
    sms: Any
    email: Any
    sent: Callable[[], Counter[str]]  # how often each message reference was sent
    close: Callable[[], None] = lambda: None


def memory_senders(latency: float) -> Senders:
    sms, email = FakeSmsSender(), FakeEmailSender()

    def sent() -> Counter[str]:
        references = [m.reference for _, m, _ in sms.sent]
        return Counter(references + [m.reference for _, m, _ in email.sent])

    return Senders(sms, email, sent)


def http_senders(latency: float) -> Senders:
    provider = SlowProvider(latency)
    return Senders(
        HttpSms(provider.url), HttpEmail(provider.url), provider.keys.copy, provider.close
    )


# Databases --------------------------------------------------------------------------------


def empty(url: str) -> None:
    """Delete every row: each run starts from an empty, migrated database."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names}"))
            else:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())
    finally:
        engine.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield _migrated(f"sqlite:///{Path(folder) / 'bench.db'}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of the benchmark's own, created for the run and dropped after it."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    drop = f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'
    try:
        with admin.connect() as connection:
            connection.execute(text(drop))
            connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
        yield _migrated(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DATABASE}")
        with admin.connect() as connection:
            connection.execute(text(drop))
    finally:
        admin.dispose()


def _migrated(url: str) -> str:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def postgres_reachable() -> str | None:
    """None when reachable, else why not."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return None


def queue(uow: SqlUnitOfWorkFactory, messages: int) -> set[str]:
    """One school, one student, messages/2 announcements to them (an SMS and an email each)."""
    app = Application(
        uow=uow,
        clock=SystemClock(),
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    school = app.register_school(
        "Bench Køreskole", vat_number="DK12345678", settings=SchoolSettings(quiet_hours=None)
    )
    student = app.add_student(
        school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
    )
    ids: set[str] = set()
    now = SystemClock().now()
    with uow() as unit:
        stored = unit.schools.get(school.id)
        for n in range((messages + 1) // 2):
            context = {"message": f"Nyhed nummer {n}"}
            queued = queue_message(unit, stored, student, MessageType.ANNOUNCEMENT, context, now)
            ids |= {m.id for m in queued}
        unit.commit()
    return ids


def due(uow: SqlUnitOfWorkFactory) -> bool:
    with uow() as unit:
        return bool(unit.outbox.due(SystemClock().now(), 1))


# One run ----------------------------------------------------------------------------------


@define
class Run:
    messages: int
    seconds: float
    duplicates: int
    errors: int
    per_relay: list[int] = field(factory=list)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def relay_run(
    url: str, senders: Senders, relays: int, messages: int, batch: int, in_flight: int = 1
) -> Run:
    engines = [make_engine(url) for _ in range(relays)]
    try:
        ids = queue(SqlUnitOfWorkFactory(engines[0]), messages)
        workers = [
            Relay(
                SqlUnitOfWorkFactory(engine),
                SystemClock(),
                sms=senders.sms,
                email=senders.email,
                renderer=MemoryTemplateRenderer(),
                gateways=MemoryGatewayRegistry({}),
                policy=RelayPolicy(batch=batch, in_flight=in_flight),
                worker=f"bench_{n}",
                # One recipient gets every message here: no throttle, this measures the relay.
                delivery=DeliveryPolicy(per_recipient_per_hour=10**9),
            )
            for n, engine in enumerate(engines)
        ]
        sent = [0] * relays
        errors = [0]
        start = threading.Barrier(relays + 1)

        def work(n: int) -> None:
            """Relay until nothing is due (a round that claimed nothing because another
            relay was claiming the same rows is no reason to stop)."""
            start.wait()
            while True:
                try:
                    report = workers[n].run_once()
                except Exception:
                    errors[0] += 1  # e.g. SQLite busy beyond its retries: try again
                    continue
                sent[n] += report.sent
                if not report.claimed and not due(SqlUnitOfWorkFactory(engines[n])):
                    return

        threads = [threading.Thread(target=work, args=(n,)) for n in range(relays)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began

        with SqlUnitOfWorkFactory(engines[0])() as unit:
            left = [r for r in unit.outbox.list() if r.status is not OutboxStatus.SENT]
        if left:
            raise RuntimeError(f"{len(left)} outbox rows not sent")
        counts = senders.sent()
        if set(counts) != ids:
            raise RuntimeError("the senders did not see every message")
        duplicates = sum(n - 1 for n in counts.values())
        return Run(len(ids), seconds, duplicates, errors[0], sent)
    finally:
        for engine in engines:
            engine.dispose()


# The table --------------------------------------------------------------------------------


@define
class Row:
    backend: str
    sender: str
    relays: int
    runs: list[Run]
    latency: float | None
    in_flight: int = 1

    @property
    def rate(self) -> float:
        return statistics.median(run.rate for run in self.runs)

    @property
    def ideal(self) -> float | None:
        return None if self.latency is None else self.relays * self.in_flight / self.latency

    def cells(self) -> list[str]:
        ideal = self.ideal
        return [
            self.backend,
            self.sender,
            str(self.relays),
            str(self.in_flight),
            str(self.runs[0].messages),
            f"{self.rate:,.0f}",
            "—" if ideal is None else f"{ideal:,.0f}",
            "—" if ideal is None else f"{self.rate / ideal:.2f}",
            " / ".join(f"{run.rate:,.0f}" for run in self.runs),
            str(sum(run.duplicates for run in self.runs)),
        ]


HEADER = [
    "backend",
    "sender",
    "relays",
    "in flight",
    "messages",
    "msg/s (median)",
    "ideal msg/s",
    "measured ÷ ideal",
    "each run",
    "sent twice",
]


def table(rows: list[Row]) -> str:
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def write_docs(rows: list[Row], notes: list[str], options: argparse.Namespace) -> None:
    load = _load()
    section = "\n".join(
        [
            SECTION,
            "",
            f"Command: `{COMMAND}` (`make bench`); this section alone: "
            "`.venv/bin/python -m benchmarks.relay` (`--help` for the options).",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
            f"(`os.cpu_count()`), {platform.system()} {platform.machine()}, Python "
            f"{platform.python_version()}; load average {options.load:.1f} at the start, "
            f"{load:.1f} at the end (anything else running on the machine shows here).",
            "",
            f"Each relay is a thread with a `Relay` of its own (worker id, engine) calling "
            f"`run_once()` until nothing is due; claim batch {options.batch}, lease 120 s. "
            f"Messages: an SMS and an email per announcement, queued before the clock starts. "
            f"`memory`: FakeSmsSender/FakeEmailSender; `http-{options.latency * 1000:.0f}ms`: "
            f"urllib POST (a new connection per message) to a local ThreadingHTTPServer that "
            f"answers after {options.latency * 1000:.0f} ms. Median of {options.runs} runs; "
            f"ideal = relays * in flight ÷ latency (RELAY_IN_FLIGHT: rows of a claimed batch "
            f"each relay sends at once, each on a thread of its own). The relay's own work "
            f"(Python, holding the GIL) is what "
            f"bounds the `memory` rows and what keeps the HTTP rows below the ideal.",
            "",
            table(rows),
            "",
            *(f"- {note}" for note in notes),
            "",
        ]
    )
    DOCS.parent.mkdir(exist_ok=True)
    text_ = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n\n"
    start = text_.find(SECTION)
    if start < 0:
        text_ = text_.rstrip("\n") + "\n\n" + section
    else:
        end = text_.find("\n## ", start + len(SECTION))
        text_ = text_[:start] + section + ("" if end < 0 else "\n" + text_[end + 1 :])
    DOCS.write_text(text_.rstrip("\n") + "\n")


# Main -------------------------------------------------------------------------------------


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--relays", default="1,4,8", help="relay threads, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--latency", type=float, default=0.030, help="HTTP answer delay, s")
    parser.add_argument("--memory-messages", type=int, default=400)
    parser.add_argument(
        "--http-messages", type=int, default=40, help="per relay thread (HTTP sender)"
    )
    parser.add_argument("--batch", type=int, default=10, help="rows claimed at a time")
    parser.add_argument(
        "--in-flight", default="1", help="rows each relay sends at once, comma-separated"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


def measure(
    url: str,
    backend: str,
    relay_counts: list[int],
    options: argparse.Namespace,
    notes: list[str],
) -> list[Row]:
    rows = []
    for sender, make, latency in (
        ("memory", memory_senders, None),
        (f"http-{options.latency * 1000:.0f}ms", http_senders, options.latency),
    ):
        for relays, in_flight in [
            (r, f) for r in relay_counts for f in (int(n) for n in options.in_flight.split(","))
        ]:
            messages = options.memory_messages if latency is None else options.http_messages
            messages *= 1 if latency is None else relays * in_flight
            runs = []
            for _ in range(options.runs):
                empty(url)
                senders = make(options.latency)
                try:
                    runs.append(relay_run(url, senders, relays, messages, options.batch, in_flight))
                finally:
                    senders.close()
            row = Row(backend, sender, relays, runs, latency, in_flight)
            rows.append(row)
            print(" | ".join(row.cells()), flush=True)
            errors = sum(run.errors for run in runs)
            if errors:
                notes.append(
                    f"{backend} {sender}, {relays} relay(s): run_once() raised {errors} time(s) "
                    "(the thread tried again)."
                )
    return rows


def main(argv: list[str] | None = None) -> None:
    options = parse(argv if argv is not None else [])
    options.load = _load()
    relay_counts = [int(n) for n in options.relays.split(",")]
    databases: dict[str, Callable[[], Any]] = {
        "sqlite": sqlite_database,
        "postgresql": postgres_database,
    }
    rows: list[Row] = []
    notes: list[str] = []
    for backend in options.backends.split(","):
        if backend == "postgresql" and (why := postgres_reachable()) is not None:
            notes.append(f"PostgreSQL skipped: not reachable at {POSTGRES_ADMIN_URL} ({why}).")
            print(notes[-1])
            continue
        with databases[backend]() as url:
            rows += measure(url, backend, relay_counts, options, notes)
    duplicates = sum(run.duplicates for row in rows for run in row.runs)
    if duplicates:
        notes.append(
            f"{duplicates} message(s) were sent more than once: see the 'sent twice' column."
        )
    print()
    print(table(rows))
    for note in notes:
        print(f"- {note}")
    if not options.no_docs:
        write_docs(rows, notes, options)
        print(f"\nwrote {DOCS} ({SECTION[3:]})")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
