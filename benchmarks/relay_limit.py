"""SMS relay against a provider's rate limit: messages/s vs the ideal, and the 429s it causes.

    .venv/bin/python -m benchmarks.relay_limit [--messages 10000] [--relays 8] [--runs 3]
        [--margin 0.1] [--no-docs]

Queues `--messages` SMS in the outbox (SQLite file), then `--relays` relay threads (each a
Relay of its own) send them to a local HTTP endpoint answering after 30 ms:

- `unlimited`: the endpoint accepts everything; measured msg/s vs the ideal relays ÷ latency;
- `limit 100/s`: the endpoint accepts at most `--limit` messages in any rolling second and
  answers the rest at once with 429 and `Retry-After: 1`; the sender turns that into
  ProviderUnavailable(retry_after=1), as the real SMS adapters do;
- `paced 100/s`: the same endpoint, with the sender wrapped in PacedSmsSender under one
  RollingWindowLimiter shared by all relays (what SMS_RATE_LIMIT=`--limit` wires): `--limit`
  sends in any rolling second, each counted from its start until a second (plus `--margin`,
  default the adapter's own 0) after its answer; no concurrency limit beyond the relays.

Without pacing a 429 is retried later (backoff from 30 s, or Retry-After if longer) and
repeated 429s open the circuit breaker (60 s). The first pass runs on the real clock until
nothing is due; the rest (retries) is drained on a clock that jumps ahead to the next due row
instead of sleeping, and that skipped time is reported too. `--no-docs` prints the results
only (docs/benchmarks.md and the plot are left alone): use it for small runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks import plots
from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import FakeEmailSender, FakeSmsSender, MemoryTemplateRenderer
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.rate_limits import RollingWindowLimiter
from justdriving.adapters.sms.pacing import MARGIN, WINDOW, PacedSmsSender
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.tables import outbox
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import Channel, SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import MessageType, SchoolSettings
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.messaging import SmsSender
from justdriving.relay.engine import Relay, RelayPolicy

TITLE = "SMS relay against a provider rate limit"


class Provider:
    """POST /sms: 200 after `latency` s, or 429 at once above `limit` accepted per second."""

    def __init__(self, latency: float, limit: int | None) -> None:
        self.accepted: Counter[str] = Counter()
        self.refused = 0
        self.busiest = 0  # most messages accepted in one rolling second
        window: deque[float] = deque()
        lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.monotonic()
                with lock:
                    while window and window[0] <= now - 1.0:
                        window.popleft()
                    allowed = limit is None or len(window) < limit
                    if allowed:
                        window.append(now)
                        provider.busiest = max(provider.busiest, len(window))
                        provider.accepted[self.headers.get("Idempotency-Key", "")] += 1
                    else:
                        provider.refused += 1
                if allowed:
                    time.sleep(latency)
                    self._answer(200, b'{"id": "prov"}')
                else:
                    self._answer(429, b'{"error": "rate limited"}', {"Retry-After": "1"})

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/sms"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class HttpSms:
    name = "http"

    def __init__(self, url: str) -> None:
        self._url = url

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        request = urllib.request.Request(
            self._url,
            data=json.dumps({"to": str(to), "body": message.body}).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": message.reference},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return SendReceipt("http", json.loads(response.read())["id"])
        except urllib.error.HTTPError as error:
            if error.code == 429:
                after = float(error.headers.get("Retry-After", "1"))
                raise ProviderUnavailable("http", "429 rate limited", retry_after=after) from None
            raise


class JumpingClock:
    """The real time plus an offset that `jump_to` moves forward (never back)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, moment: datetime) -> None:
        self.offset += max(moment - self.now(), timedelta())


def queue_sms(uow: SqlUnitOfWorkFactory, messages: int) -> None:
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
    student = app.add_student(school.id, "Anna Andersen", phone="20 12 34 56")
    now = SystemClock().now()
    with uow() as unit:
        stored = unit.schools.get(school.id)
        for n in range(messages):
            context = {"message": f"Nyhed nummer {n}"}
            sms = frozenset({Channel.SMS})
            queue_message(unit, stored, student, MessageType.ANNOUNCEMENT, context, now, sms)
        unit.commit()


def counts(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
        return {status: int(n) for status, n in rows}


def due(engine: Any, clock: JumpingClock) -> bool:
    with SqlUnitOfWorkFactory(engine)() as unit:
        return bool(unit.outbox.due(clock.now(), 1))


def next_due(engine: Any) -> datetime | None:
    with engine.connect() as connection:
        query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status != "sent")
        value = connection.execute(query).scalar_one()
    return None if value is None else value.replace(tzinfo=UTC)


def one_run(
    messages: int, relays: int, latency: float, limit: int | None, pace: float | None = None
) -> dict[str, Any]:
    """One run; `pace` (a margin in seconds) wraps the relays' sender in PacedSmsSender under
    one limiter at `limit` per second, as SMS_RATE_LIMIT does for a process."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engines = [make_engine(url) for _ in range(relays)]
        upgrade(engines[0])
        queue_sms(SqlUnitOfWorkFactory(engines[0]), messages)
        provider = Provider(latency, limit)
        clock = JumpingClock()
        limiter = None
        if pace is not None and limit is not None:
            limiter = RollingWindowLimiter(per_window=limit, window=WINDOW, margin=pace)

        def sender() -> SmsSender:
            http = HttpSms(provider.url)
            return http if limiter is None else PacedSmsSender(http, limiter, key="http")

        workers = [
            Relay(
                SqlUnitOfWorkFactory(engine),
                clock,
                sms=sender(),
                email=FakeEmailSender(),
                renderer=MemoryTemplateRenderer(),
                gateways=MemoryGatewayRegistry({}),
                policy=RelayPolicy(batch=10),
                worker=f"bench_{n}",
                delivery=DeliveryPolicy(per_recipient_per_hour=10**9),
            )
            for n, engine in enumerate(engines)
        ]
        try:

            def relay_pass() -> float:
                def work(n: int) -> None:
                    while True:
                        try:
                            report = workers[n].run_once()
                        except Exception:
                            continue
                        if not report.claimed and not due(engines[n], clock):
                            return  # (a round that lost every claim to another relay goes on)

                threads = [threading.Thread(target=work, args=(n,)) for n in range(relays)]
                began = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                return time.perf_counter() - began

            first = relay_pass()
            first_sent = counts(engines[0]).get("sent", 0)
            first_refused = provider.refused
            wall, passes = first, 1
            while counts(engines[0]).get("sent", 0) < messages and passes < 5000:
                upcoming = next_due(engines[0])
                if upcoming is None:
                    break
                clock.jump_to(upcoming)
                wall += relay_pass()
                passes += 1
            final = counts(engines[0])
            return {
                "first_seconds": first,
                "first_sent": first_sent,
                "first_429": first_refused,
                "first_rate": first_sent / first,
                "total_429": provider.refused,
                "sent": final.get("sent", 0),
                "dead": final.get("dead", 0),
                "skipped": clock.offset.total_seconds(),
                "total_seconds": wall + clock.offset.total_seconds(),
                "overall": final.get("sent", 0) / (wall + clock.offset.total_seconds()),
                "busiest": provider.busiest,
                "duplicates": sum(n - 1 for n in provider.accepted.values()),
                "limiter_waits": limiter.waits("http") if limiter else 0,
            }
        finally:
            provider.close()
            for engine in engines:
                engine.dispose()


def paced_finding(options: argparse.Namespace, runs: list[dict[str, Any]]) -> str:
    """What the client-side limiter (SMS_RATE_LIMIT) changed, in one paragraph."""

    def med(key: str) -> float:
        return float(statistics.median(run[key] for run in runs))

    refused = med("total_429")
    outcome = "no 429s" if not refused else f"{refused:,.0f} responses of 429 (median per run)"
    return (
        f"**Paced at {options.limit}/s (PacedSmsSender, margin {options.margin} s): "
        f"{outcome}**; {med('first_rate'):,.0f} msg/s in the first pass (steady state at most "
        f"{options.limit / (WINDOW + options.margin + options.latency):,.0f} with the "
        "latency counted; a short run gains the first full window), all sent after "
        f"{med('total_seconds'):,.0f} s (busiest second {med('busiest'):,.0f}; "
        f"{sum(r['dead'] for r in runs)} dead, "
        f"{sum(options.messages - r['sent'] for r in runs)} never sent, "
        f"{sum(r['duplicates'] for r in runs)} sent twice over the runs)."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_limit", description=__doc__)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--relays", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.030)
    parser.add_argument("--limit", type=int, default=100, help="provider limit, messages/s")
    parser.add_argument(
        "--margin", type=float, default=MARGIN, help="paced: seconds added to the 1 s window"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print only; leave docs/benchmarks.md and plots"
    )
    options = parser.parse_args(argv or [])
    ideal = options.relays / options.latency
    rows, labels, values = [], [], []
    results: list[list[dict[str, Any]]] = []
    scenarios: list[tuple[str, int | None, float | None]] = [
        ("unlimited", None, None),
        (f"limit {options.limit}/s", options.limit, None),
        (f"paced {options.limit}/s", options.limit, options.margin),
    ]
    for name, limit, pace in scenarios:
        runs = []
        for _ in range(options.runs):
            runs.append(one_run(options.messages, options.relays, options.latency, limit, pace))
            print(name, json.dumps(runs[-1]), flush=True)
        results.append(runs)

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(run[key] for run in runs))

        cap = min(ideal, limit) if limit else ideal
        rows.append(
            [
                name,
                f"{options.messages:,}",
                f"{med('first_rate'):,.0f}",
                f"{cap:,.0f}",
                f"{med('first_rate') / cap:.2f}",
                " / ".join(f"{run['first_rate']:,.0f}" for run in runs),
                f"{med('first_sent'):,.0f}",
                f"{med('first_429'):,.0f}",
                f"{med('total_429'):,.0f}",
                f"{med('busiest'):,.0f}",
                f"{med('total_seconds'):,.0f} ({med('skipped'):,.0f} skipped)",
                f"{med('overall'):,.0f}",
                f"{sum(r['dead'] for r in runs)} / "
                f"{sum(options.messages - r['sent'] for r in runs)} / "
                f"{sum(r['duplicates'] for r in runs)}",
            ]
        )
        labels.append(name)
        values.append(med("overall"))
    header = [
        "provider",
        "messages",
        "msg/s first pass (median)",
        "ceiling msg/s",
        "measured ÷ ceiling",
        "each run",
        "sent in first pass",
        "429s first pass",
        "429s total",
        "busiest second",
        "all sent after s",
        "overall msg/s",
        "dead / never sent / sent twice",
    ]
    table = plots.markdown_table(header, rows)
    print(table)
    limited, paced = results[1], results[2]
    refused = statistics.median(run["total_429"] for run in limited)
    if refused:
        finding = (
            f"**Finding: {refused:,.0f} responses of 429 (median per run)** at a provider limit "
            f"of {options.limit}/s without pacing (SMS_RATE_LIMIT unset): its "
            f"{options.relays} relays send as fast as they can (busiest second: "
            f"{statistics.median(run['busiest'] for run in limited):,.0f} accepted, the "
            "limit), the refused messages wait for their retry (backoff from 30 s, at least "
            "Retry-After; five failures in a row open a relay's circuit breaker for 60 s), so the "
            "last "
            f"messages go out after {statistics.median(r['total_seconds'] for r in limited):,.0f}"
            " s instead of the "
            f"{options.messages / options.limit:,.0f} s the limit allows "
            f"({sum(r['dead'] for r in limited)} dead, "
            f"{sum(options.messages - r['sent'] for r in limited)} never sent, "
            f"{sum(r['duplicates'] for r in limited)} sent twice over the runs)."
        )
    else:
        finding = f"No 429s at a provider limit of {options.limit}/s without pacing."
    finding += "\n\n" + paced_finding(options, paced)
    print(finding)
    if options.no_docs:
        return
    png = plots.bars(
        "relay-limit",
        f"SMS relay, {options.relays} relays, {options.latency * 1000:.0f} ms provider",
        [*labels, "ideal", "provider limit"],
        [*values, ideal, float(options.limit)],
        "messages/s",
    )
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.relay_limit` (part of `make bench`; `--messages`
to change the size, 10,000 by default).

{plots.machine()}

{options.messages:,} SMS queued in the outbox (SQLite file), {options.relays} relay threads
(each a `Relay` of its own, claim batch 10), a local HTTP endpoint (ThreadingHTTPServer) that
answers after {options.latency * 1000:.0f} ms; urllib, a new connection per message. Ideal =
relays ÷ latency = {ideal:,.0f} msg/s; the ceiling is the ideal or the provider's limit,
whichever is lower. `limit {options.limit}/s`: the endpoint accepts at most {options.limit}
messages in any rolling second and answers the others at once with 429 and `Retry-After: 1`
(the sender raises ProviderUnavailable with retry_after, as the real adapters do).
`paced {options.limit}/s`: the same endpoint, the relays' sender wrapped in `PacedSmsSender`
under one `RollingWindowLimiter` shared by all relays (what `SMS_RATE_LIMIT={options.limit}`
wires in a process): {options.limit} sends in any rolling second, each counted from its
start until {WINDOW + options.margin:g} s after its answer; no other concurrency limit. The first
pass runs on the real clock until nothing is due; retries are then drained on a clock that
jumps to the next due row ("skipped" = waiting the relay would have done); overall msg/s =
messages ÷ the time until all were sent, skipped time included (the plot shows it). Median of
{options.runs} runs.

{table}

{finding}

{plots.image(png, "relay messages/s vs ideal and the provider limit")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
