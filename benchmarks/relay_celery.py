"""(d) The relay against what a user writes instead: a Celery task per message on Redis.

    .venv/bin/python -m benchmarks.relay_celery [--runs 3] [--configs 2x4,4x64]
        [--messages 400,2000] [--burst 100] [--backends sqlite,postgresql]

One provider for everyone, in a process of its own (benchmarks/relay_endpoint.py): a local
HTTP endpoint answering GatewayAPI's way after 30 ms, counting each message by its key. For
each configuration PxT, started once and kept running:

- Celery: P `celery worker --pool threads --concurrency T` processes on Redis (DB 6), the task
  posting one SMS with an httpx client kept per process (benchmarks/relay_celery_app.py);
- the relay: P processes of the thread worker's relay loop with RELAY_IN_FLIGHT=T, sending with
  the GatewayAPI adapter (one httpx client each, keep-alive), per database (SQLite file,
  PostgreSQL), every process sharing it (benchmarks/relay_process.py).

Then, run after run with the systems interleaved: a steady queue (N messages queued at once:
msg/s from the endpoint's first request to its last answer) and a burst of 100 into idle
workers (from the moment the first message can be taken — the relay's commit, Celery's first
`apply_async` — to the last answer, so waking up counts). Reported: medians, ideal (PxT sends
always in flight, 30 ms each), ratios to the ideal and to Celery's in the same runs, our own
CPU per message (the processes' user+system CPU time during the phase ÷ messages: the
endpoint's latency excluded), RSS per process, and sent twice / lost as the endpoint counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from attrs import define, field
from sqlalchemy import create_engine, text

from benchmarks import plots
from benchmarks.relay import POSTGRES_ADMIN_URL, postgres_reachable
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.schools import MessageType, SchoolSettings
from justdriving.domain.services.steps.messages import queue_message

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/6")
POSTGRES_DATABASE = "justdriving_bench_relay"
STUDENTS = 200
TITLE = "Relay against a Celery task per message"


# Processes --------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (every thread of it)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@define
class Processes:
    """Processes started for one system; stopped with SIGTERM (then killed) on close."""

    label: str
    started: list[subprocess.Popen[str]] = field(factory=list)

    def cpu(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.started)

    def rss(self) -> float:
        return statistics.mean(_rss_mib(p.pid) for p in self.started)

    def start(self, command: list[str], env: dict[str, str], ready: str) -> None:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.started.append(process)
        assert process.stdout is not None
        for line in process.stdout:
            if ready in line:
                # Read the rest of what it says, or it stops once the pipe is full.
                threading.Thread(target=process.stdout.read, daemon=True).start()
                return
        raise RuntimeError(f"{self.label}: {' '.join(command[:4])} exited before it was ready")

    def close(self) -> None:
        for process in self.started:
            process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def endpoint(latency: float) -> Iterator[str]:
    process = subprocess.Popen(
        [PYTHON, "-m", "benchmarks.relay_endpoint", "--latency", str(latency)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().split()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def _call(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        found: dict[str, Any] = json.loads(answer.read())
        return found


# Databases --------------------------------------------------------------------------------


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'relay-celery.db'}"
        _migrate(url)
        yield url
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    drop = f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)'
    try:
        with admin.connect() as connection:
            connection.execute(text(drop))
            connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DATABASE}"
        _migrate(url)
        yield url
        with admin.connect() as connection:
            connection.execute(text(drop))
    finally:
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


class Outbox:
    """The benchmark's side of one database: students to write to, messages queued to them."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.uow = SqlUnitOfWorkFactory(self.engine)
        app = Application(
            uow=self.uow,
            clock=SystemClock(),
            gateways=MemoryGatewayRegistry({}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        school = app.register_school(
            "Bench Køreskole", vat_number="DK12345678", settings=SchoolSettings(quiet_hours=None)
        )
        self.school_id = school.id
        self.students = [
            app.add_student(school.id, f"Elev {n}", phone=f"+45 2012{n:04d}").id
            for n in range(STUDENTS)
        ]
        self._serial = 0

    def queue(self, messages: int) -> tuple[set[str], float]:
        """`messages` SMS announcements, one student after another, in one transaction; and
        when they could be taken (the commit)."""
        ids: set[str] = set()
        now = SystemClock().now()
        with self.uow() as unit:
            school = unit.schools.get(self.school_id)
            students = {}
            for _ in range(messages):
                self._serial += 1
                student_id = self.students[self._serial % len(self.students)]
                if student_id not in students:
                    students[student_id] = unit.students.get(student_id)
                context = {"message": f"Nyhed nummer {self._serial}"}
                queued = queue_message(
                    unit, school, students[student_id], MessageType.ANNOUNCEMENT, context, now
                )
                ids |= {m.id for m in queued}
            unit.commit()
        return ids, time.time()

    def settled(self) -> bool:
        with self.uow() as unit:
            counts = unit.outbox.counts()
        return all(
            n == 0
            for status, n in counts.items()
            if status not in (OutboxStatus.SENT.value, OutboxStatus.DEAD.value)
        )


# Systems ----------------------------------------------------------------------------------


@define
class System:
    name: str
    processes: Processes
    queue: Callable[[int], tuple[set[str], float]]  # keys, when the first can be taken
    settled: Callable[[], bool]


def celery_system(config: tuple[int, int], url: str, stack: ExitStack) -> System:
    import redis

    from benchmarks.relay_celery_app import QUEUE, send_sms

    processes_, threads = config
    env = {"BENCH_ENDPOINT": url, "BENCH_BROKER": BROKER}
    redis.Redis.from_url(BROKER).delete(QUEUE)  # a clean queue
    processes = Processes("celery")
    stack.callback(processes.close)
    for n in range(processes_):
        processes.start(
            [
                str(Path(PYTHON).parent / "celery"),
                "-A",
                "benchmarks.relay_celery_app",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                str(threads),
                "--hostname",
                f"bench{n}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            env,
            "ready.",
        )
    serial = [0]

    def queue(messages: int) -> tuple[set[str], float]:
        keys, first = set(), 0.0
        for _ in range(messages):
            serial[0] += 1
            key = f"celery-{serial[0]}"
            send_sms.apply_async((key, "4530000000", f"Nyhed nummer {serial[0]}"))
            keys.add(key)
            first = first or time.time()
        return keys, first

    return System("Celery task per message", processes, queue, lambda: True)


def relay_system(
    config: tuple[int, int], url: str, backend: str, database_url: str, stack: ExitStack
) -> System:
    processes_, in_flight = config
    outbox = Outbox(database_url)
    stack.callback(outbox.engine.dispose)
    processes = Processes(f"relay {backend}")
    stack.callback(processes.close)
    for _ in range(processes_):
        processes.start(
            [
                PYTHON,
                "-m",
                "benchmarks.relay_process",
                "--database",
                database_url,
                "--endpoint",
                url,
                "--in-flight",
                str(in_flight),
            ],
            {},
            "ready",
        )
    return System(f"relay, {backend}", processes, outbox.queue, outbox.settled)


# One phase --------------------------------------------------------------------------------


@define
class Phase:
    messages: int
    seconds: float
    cpu: float
    twice: int
    lost: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.messages


def phase(system: System, url: str, messages: int, burst: bool, timeout: float = 300) -> Phase:
    _call(url + "/reset", "POST")
    cpu = system.processes.cpu()
    keys, ready = system.queue(messages)
    deadline = time.monotonic() + timeout
    while True:
        stats = _call(url + "/stats")
        seen = set(stats["keys"])
        if keys <= seen and stats["answered"] >= sum(stats["keys"].values()):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    while not system.settled() and time.monotonic() < deadline:
        time.sleep(0.02)
    used = system.processes.cpu() - cpu
    counts: dict[str, int] = stats["keys"]
    start = ready if burst else stats["first"]
    return Phase(
        messages=len(keys),
        seconds=max(stats["last"] - start, 1e-6),
        cpu=used,
        twice=sum(n - 1 for key, n in counts.items() if key in keys and n > 1),
        lost=len(keys - seen),
    )


# The table --------------------------------------------------------------------------------


@define
class Row:
    config: tuple[int, int]
    scenario: str
    system: str
    phases: list[Phase] = field(factory=list)
    rss: float = float("nan")

    @property
    def rate(self) -> float:
        return statistics.median(p.rate for p in self.phases)

    def ideal(self, latency: float) -> float:
        width = self.config[0] * self.config[1]
        messages = self.phases[0].messages
        return messages / (math.ceil(messages / width) * latency)


def cells(row: Row, baseline: Row | None, latency: float) -> list[str]:
    ideal = row.ideal(latency)
    return [
        f"{row.config[0]}x{row.config[1]}",
        row.scenario,
        row.system,
        str(row.phases[0].messages),
        f"{row.rate:,.0f}",
        " / ".join(f"{p.rate:,.0f}" for p in row.phases),
        f"{ideal:,.0f}",
        f"{row.rate / ideal:.2f}",
        "—" if baseline is None or baseline is row else f"{row.rate / baseline.rate:.2f}",
        f"{statistics.median(p.cpu_ms for p in row.phases):.2f}",
        f"{row.rss:.0f}",
        str(sum(p.twice for p in row.phases)),
        str(sum(p.lost for p in row.phases)),
    ]


HEADER = [
    "PxT",
    "scenario",
    "system",
    "messages",
    "msg/s (median)",
    "each run",
    "ideal msg/s",
    "÷ ideal",
    "÷ Celery",
    "CPU ms/msg",
    "RSS MiB/process",
    "sent twice",
    "lost",
]


# Main -------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_celery", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--configs", default="2x4,4x64", help="processes x concurrency each, comma-separated"
    )
    parser.add_argument(
        "--messages", default="400,2000", help="steady queue per configuration, comma-separated"
    )
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--latency", type=float, default=0.030)
    parser.add_argument("--no-celery", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    return parser.parse_args(argv)


def measure(
    config: tuple[int, int], steady: int, options: argparse.Namespace, url: str, folder: Path
) -> list[Row]:
    with ExitStack() as stack:
        systems = [] if options.no_celery else [celery_system(config, url, stack)]
        for backend in options.backends.split(","):
            if backend == "postgresql" and (why := postgres_reachable()) is not None:
                print(f"PostgreSQL skipped: {why}")
                continue
            database_url = stack.enter_context(database(backend, folder))
            systems.append(relay_system(config, url, backend, database_url, stack))
        width = config[0] * config[1]
        for system in systems:  # warm up: connections open, modules loaded
            phase(system, url, 2 * width, burst=True)
        rows = {
            (scenario, s.name): Row(config, scenario, s.name)
            for scenario in ("steady", "burst")
            for s in systems
        }
        for run in range(options.runs):
            for system in systems:
                for scenario, messages in (("steady", steady), ("burst", options.burst)):
                    done = phase(system, url, messages, burst=scenario == "burst")
                    rows[scenario, system.name].phases.append(done)
                    print(
                        f"run {run + 1} {config} {system.name} {scenario}: "
                        f"{done.rate:,.0f} msg/s, {done.cpu_ms:.2f} ms CPU/msg, "
                        f"twice {done.twice}, lost {done.lost}",
                        flush=True,
                    )
                    time.sleep(0.3)
        for system in systems:
            for scenario in ("steady", "burst"):
                rows[scenario, system.name].rss = system.processes.rss()
        return list(rows.values())


def main(argv: list[str] | None = None) -> None:
    import tempfile

    options = parse(argv if argv is not None else [])
    load = os.getloadavg()[0]
    configs = [tuple(int(n) for n in c.split("x")) for c in options.configs.split(",")]
    steady = [int(n) for n in options.messages.split(",")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder, endpoint(options.latency) as url:
        for config, messages in zip(configs, steady + steady[-1:] * len(configs), strict=False):
            assert len(config) == 2
            rows += measure((config[0], config[1]), messages, options, url, Path(folder))
    lines = []
    for row in rows:
        baseline = next(
            (
                r
                for r in rows
                if r.config == row.config
                and r.scenario == row.scenario
                and r.system.startswith("Celery")
            ),
            None,
        )
        lines.append(cells(row, baseline, options.latency))
    table = plots.markdown_table(HEADER, lines)
    print(table)
    if not options.no_docs:
        write_docs(rows, table, options, load)


def write_docs(rows: list[Row], table: str, options: argparse.Namespace, load: float) -> None:
    labels = [f"{r.system}\n{r.scenario} {r.config[0]}x{r.config[1]}" for r in rows]
    png = plots.bars(
        "relay-celery",
        "relay vs a Celery task per message, msg/s (median)",
        labels,
        [r.rate for r in rows],
        "messages/s",
        log=True,
    )
    plots.write_section(
        TITLE,
        f"""Command: `.venv/bin/python -m benchmarks.relay_celery` (part of `make bench`; `--help`
for the options).

{plots.machine()} Load average {load:.1f} at the start: the machine was shared with other work
while it ran, so rates are noisy; the ratios (each system measured in the same runs,
interleaved) and CPU per message are the figures to compare.

{(__doc__ or "").split(chr(10) + chr(10), 2)[2].strip()}

{table}

{findings(rows, options.latency)}

{plots.image(png, "relay vs Celery, messages per second")}
""",
    )


def findings(rows: list[Row], latency: float) -> str:
    """One line per configuration and scenario, and the targets met or not."""
    lines = []
    for row in rows:
        if row.system.startswith("Celery"):
            continue
        celery = next(
            (
                r
                for r in rows
                if r.config == row.config
                and r.scenario == row.scenario
                and r.system.startswith("Celery")
            ),
            None,
        )
        versus = "" if celery is None else f", {row.rate / celery.rate:.2f} x Celery's"
        cpu = statistics.median(p.cpu_ms for p in row.phases)
        lines.append(
            f"- {row.config[0]}x{row.config[1]} {row.scenario}, {row.system}: "
            f"{row.rate:,.0f} msg/s, {row.rate / row.ideal(latency):.2f} x ideal{versus}; "
            f"{cpu:.2f} ms of our CPU per message; "
            f"{sum(p.twice for p in row.phases)} sent twice, "
            f"{sum(p.lost for p in row.phases)} lost."
        )
    best = max((r.rate for r in rows if r.system == "relay, postgresql"), default=0.0)
    lines.append(
        f"- Best relay rate on PostgreSQL: {best:,.0f} msg/s (target 1,000 to the 30 ms endpoint "
        f"on 2 cores: {'met' if best >= 1000 else 'not met'})."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
