"""The relay's own CPU per message, in one process: `python -m benchmarks.relay_cpu
[--backends sqlite,postgresql] [--messages 400] [--in-flight 1,8,64]`.

One `Relay`, SMS announcements to 200 students queued at once, the in-memory FakeSmsSender (no
latency: only the relay's own work), `run_once()` until nothing is due. Prints, per backend
and RELAY_IN_FLIGHT: ms of CPU per message (`time.process_time()`), messages/s, SQL statements
and commits per message (counted by SQLAlchemy events). Run it on another checkout with
`PYTHONPATH=<checkout>/src:.` to compare (the section "Relay CPU per message" of
docs/benchmarks.md compares the branch point this way).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.relay import postgres_reachable
from benchmarks.relay_celery import Outbox, database
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.relay.engine import Relay, RelayPolicy


def measure(url: str, outbox: Outbox, messages: int, in_flight: int) -> str:
    outbox.queue(messages)
    engine = make_engine(url)
    counts = {"statements": 0, "commits": 0}

    def count(name: str) -> Any:
        return lambda *_: counts.__setitem__(name, counts[name] + 1)

    event.listen(engine, "before_cursor_execute", count("statements"))
    event.listen(engine, "commit", count("commits"))
    relay = Relay(
        SqlUnitOfWorkFactory(engine),
        SystemClock(),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        gateways=MemoryGatewayRegistry({}),
        policy=RelayPolicy(in_flight=in_flight),
        delivery=DeliveryPolicy(per_recipient_per_hour=10**9),
    )
    relay.run_once(in_flight)  # warm: statements compiled, threads started
    counts.update(statements=0, commits=0)
    cpu, wall, sent = time.process_time(), time.perf_counter(), 0
    while (report := relay.run_once()).claimed:
        sent += report.sent
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    getattr(relay, "close", lambda: None)()
    engine.dispose()
    return (
        f"in flight {in_flight}: {sent} sent, {1000 * cpu / sent:.2f} ms CPU/msg, "
        f"{sent / wall:,.0f} msg/s, {counts['statements'] / sent:.1f} statements/msg, "
        f"{counts['commits'] / sent:.2f} commits/msg"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_cpu", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--in-flight", default="1,8,64")
    options = parser.parse_args(argv)
    for backend in options.backends.split(","):
        if backend == "postgresql" and (why := postgres_reachable()) is not None:
            print(f"PostgreSQL skipped: {why}")
            continue
        with tempfile.TemporaryDirectory() as folder, database(backend, Path(folder)) as url:
            outbox = Outbox(url)
            for in_flight in (int(n) for n in options.in_flight.split(",")):
                print(f"{backend} {measure(url, outbox, options.messages, in_flight)}", flush=True)
            outbox.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
