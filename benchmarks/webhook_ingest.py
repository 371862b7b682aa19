"""Webhook ingest: signed Stripe events POSTed over HTTP, events/s, latency and CPU per event.

    .venv/bin/python -m benchmarks.webhook_ingest [--requests 2000] [--runs 3] [--threads 8]
        [--database sqlite|postgresql] [--postgres-admin URL]

(a) `justdriving serve` (gunicorn, 2 workers) on a migrated database (a SQLite file, or a
PostgreSQL database of its own), PAYMENT_PROVIDER=stripe, QUEUE_BACKEND=worker: POST
/webhook/payments/stripe verifies, stores in the inbox and answers (applying is the worker's
job, not measured). Baselines under gunicorn with the same settings (2 sync workers, access log
to stdout): (b) a bare Flask app that only calls stripe.Webhook.construct_event and answers 200;
(c) the same that then INSERTs the raw event (id, type, body) with the database's own driver
(sqlite3 or psycopg, one connection per worker, ON CONFLICT DO NOTHING, WAL and
synchronous=NORMAL on SQLite as justdriving's engine sets) — what a user would write instead.
The load generator is another process (this module with --load): threads using http.client, a
new connection per request (gunicorn's sync workers close them), each event with a unique id,
signed just before it is sent. Everything on 127.0.0.1. CPU per event: the user+system time
of the server's processes over the measured runs, divided by the events sent.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from benchmarks import plots

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "whsec_benchmark_secret"
TITLE = "Webhook ingest (Stripe, gunicorn)"

BARE_APP = f'''
import stripe
from flask import Flask, request

app = Flask(__name__)

@app.post("/webhook")
def webhook():
    stripe.Webhook.construct_event(
        request.get_data(), request.headers["Stripe-Signature"], "{SECRET}"
    )
    return "", 200
'''

# (c): verify, then store the raw event once, as a user would with the driver at hand.
INSERT_APP = f'''
import os
import stripe
from flask import Flask, request

app = Flask(__name__)
URL = os.environ["BENCH_DATABASE"]
_connection = None

def connection():
    global _connection
    if _connection is None:
        if URL.startswith("postgresql"):
            import psycopg
            _connection = psycopg.connect(URL.replace("postgresql+psycopg", "postgresql"))
        else:
            import sqlite3
            _connection = sqlite3.connect(URL.removeprefix("sqlite:///"), isolation_level=None)
            _connection.execute("PRAGMA journal_mode=WAL")
            _connection.execute("PRAGMA synchronous=NORMAL")
            _connection.execute("PRAGMA busy_timeout=10000")
    return _connection

@app.post("/webhook")
def webhook():
    body = request.get_data()
    event = stripe.Webhook.construct_event(body, request.headers["Stripe-Signature"], "{SECRET}")
    db = connection()
    mark = "%s" if URL.startswith("postgresql") else "?"
    sql = ("INSERT INTO events (id, type, body) VALUES (" + ", ".join([mark] * 3) + ")"
           " ON CONFLICT DO NOTHING")
    if URL.startswith("postgresql"):
        with db.transaction():
            db.execute(sql, (event["id"], event["type"], body))
    else:
        db.execute("BEGIN")
        db.execute(sql, (event["id"], event["type"], body))
        db.execute("COMMIT")
    return "", 200
'''
EVENTS_TABLE = "CREATE TABLE events (id VARCHAR(255) PRIMARY KEY, type VARCHAR(128), body {blob})"


# The load generator (runs in its own process) ----------------------------------------------


def event_body() -> bytes:
    ident = uuid.uuid4().hex
    event = {
        "id": f"evt_{ident}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": f"pi_{ident}",
                "object": "payment_intent",
                "amount": 50000,
                "amount_received": 50000,
                "currency": "dkk",
                "status": "succeeded",
                "metadata": {"invoice_id": "inv_unknown"},
            }
        },
    }
    return json.dumps(event).encode()


def signed(body: bytes) -> dict[str, str]:
    stamp = int(time.time())
    v1 = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={v1}", "Content-Type": "application/json"}


def load(port: int, path: str, requests: int, threads: int) -> dict[str, object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))
    bodies = [event_body() for _ in range(requests)]

    def work() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            body = bodies[n]
            began = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("POST", path, body=body, headers=signed(body))
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                connection.close()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    pool = [threading.Thread(target=work) for _ in range(threads)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - began
    latencies.sort()
    return {
        "rate": requests / seconds,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "statuses": statuses,
    }


# Servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(0.5)  # let every worker boot
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_justdriving(
    folder: Path, port: int, workers: int, url: str, *, sync: bool = False
) -> subprocess.Popen[bytes]:
    """`justdriving serve`; with `sync`, the same app under gunicorn's sync workers instead,
    as (b) and (c) run (a diagnostic: what the serving stack adds)."""
    from justdriving.adapters.sql.engine import make_engine
    from justdriving.adapters.sql.schema import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "PAYMENT_PROVIDER": "stripe",
        "PAYMENT_PROVIDER_SECRET": "sk_test_benchmark",
        "PAYMENT_WEBHOOK_SECRET": SECRET,
        "PAYMENT_API_BASE_URL": "http://127.0.0.1:9",
        "QUEUE_BACKEND": "worker",
    }
    command = [
        str(BIN / "justdriving"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if sync:
        command = [str(BIN / "gunicorn"), "--workers", str(workers)]
        command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "-"]
        command += ["justdriving.entrypoints.flask_app:create_app()"]
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def start_bare(
    folder: Path, port: int, workers: int, url: str | None = None
) -> subprocess.Popen[bytes]:
    """(b) without `url`; (c), storing in the database at `url`, with it."""
    (folder / "bare_webhook.py").write_text(BARE_APP if url is None else INSERT_APP)
    env = dict(os.environ)
    if url is not None:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        blob = "BYTEA" if url.startswith("postgresql") else "BLOB"
        with engine.begin() as connection:
            connection.execute(text(EVENTS_TABLE.format(blob=blob)))
        engine.dispose()
        env["BENCH_DATABASE"] = url
    command = [
        str(BIN / "gunicorn"),
        "--chdir",
        str(folder),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "bare_webhook:app",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tree(server: subprocess.Popen[bytes]) -> list[int]:
    """The server's process and all its descendants."""
    found, pending = [], [server.pid]
    while pending:
        pid = pending.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            pending.extend(int(kid) for kid in (task / "children").read_text().split())
    return found


def tree_cpu(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU seconds of the server's live processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in tree(server):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def worker_rss(server: subprocess.Popen[bytes]) -> list[float]:
    """VmRSS (MiB) of each worker: the leaves of the server's process tree (gunicorn's
    arbiter forks the workers), read after the runs, so it counts what serving loaded."""
    workers, pending = [], [server.pid]
    while pending:
        pid = pending.pop()
        kids = [
            int(kid)
            for task in Path(f"/proc/{pid}/task").glob("*")
            for kid in (task / "children").read_text().split()
        ]
        if kids:
            pending.extend(kids)
        elif pid != server.pid:
            workers.append(pid)
    sizes = []
    for pid in workers:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def stored_rows(url: str, table: str) -> int:
    from sqlalchemy import text

    from justdriving.adapters.sql.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT count(*) FROM {table}")
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


class Database:
    """Where a target stores: a fresh SQLite file in its folder, or a fresh PostgreSQL database
    made through the admin URL and dropped after."""

    def __init__(self, kind: str, admin: str) -> None:
        self.kind, self.admin = kind, admin

    def url(self, folder: Path, target: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{folder / 'ingest.db'}"
        name = self.name(target)
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {name}")
        return self.admin.rsplit("/", 1)[0] + f"/{name}"

    def drop(self, target: str) -> None:
        if self.kind != "sqlite":
            self._admin(f"DROP DATABASE IF EXISTS {self.name(target)} WITH (FORCE)")

    @staticmethod
    def name(target: str) -> str:
        return "justdriving_bench_ingest_" + target.replace("-", "_")

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()


def run_load(port: int, path: str, requests: int, threads: int) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.webhook_ingest", "--load", str(port), path]
    command += ["--requests", str(requests), "--threads", str(threads)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=True, timeout=600)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def measure(options: argparse.Namespace) -> dict[str, list[dict[str, object]]]:
    """Every target's server up at once; the runs interleaved (a, b, c, a, b, c, …) so that a
    change in the machine's load falls on all of them alike."""
    database = Database(options.database, options.postgres_admin)
    with contextlib.ExitStack() as stack:
        servers: dict[str, tuple[subprocess.Popen[bytes], int, str, str | None]] = {}
        for target in TARGETS:
            folder, port = Path(stack.enter_context(tempfile.TemporaryDirectory())), free_port()
            url = database.url(folder, target) if target != "bare" else None
            if target.startswith("justdriving"):
                assert url is not None
                sync = target == "justdriving-sync"
                process = start_justdriving(folder, port, options.workers, url, sync=sync)
                path = "/webhook/payments/stripe"
            else:
                process, path = start_bare(folder, port, options.workers, url), "/webhook"
            stack.callback(stop, process)
            servers[target] = (process, port, path, url)
        for process, port, path, _ in servers.values():
            wait_up(port, process)
            run_load(port, path, min(100, options.requests), options.threads)  # warm-up
        results: dict[str, list[dict[str, object]]] = {target: [] for target in TARGETS}
        for _ in range(options.runs):
            for target, (process, port, path, _) in servers.items():
                cpu = tree_cpu(process)
                run = run_load(port, path, options.requests, options.threads)
                run["cpu_ms"] = (tree_cpu(process) - cpu) / options.requests * 1000
                results[target].append(run)
                print(target, json.dumps(run), flush=True)
        for target, (process, _, _, url) in servers.items():
            rss = worker_rss(process)
            for run in results[target]:
                run["rss"] = statistics.median(rss) if rss else float("nan")
            stop(process)
            if url is not None:
                table = "inbox" if target.startswith("justdriving") else "events"
                stored = stored_rows(url, table)
                database.drop(target)
                expected = min(100, options.requests) + options.requests * options.runs
                print(f"{target}: {stored} rows stored (events sent: {expected})")
                if stored != expected:
                    raise RuntimeError(f"{target}: {stored} rows stored for {expected} events")
    return results


TARGETS = {
    "justdriving": "(a) justdriving: verify + store in inbox",
    "bare": "(b) bare Flask + stripe.Webhook.construct_event",
    "insert": "(c) bare Flask: construct_event + INSERT the raw event",
    "justdriving-sync": "(d) justdriving's app under gunicorn sync workers (diagnostic)",
}


def report(database: str, results: dict[str, list[dict[str, object]]]) -> tuple[str, str]:
    """The table of one database's runs, and the ratios under it."""

    def med(target: str, key: str) -> float:
        return statistics.median(float(run[key]) for run in results[target])  # type: ignore[arg-type]

    rows = []
    for target, label in TARGETS.items():
        statuses: dict[str, int] = {}
        for run in results[target]:
            for status, count in run["statuses"].items():  # type: ignore[attr-defined]
                statuses[status] = statuses.get(status, 0) + count
        rows.append(
            [
                label,
                f"{med(target, 'rate'):,.0f}",
                f"{med(target, 'rate') / med('insert', 'rate'):.2f}",
                f"{med(target, 'p50') * 1000:.1f}",
                f"{med(target, 'p99') * 1000:.1f}",
                f"{med(target, 'cpu_ms'):.2f}",
                " / ".join(f"{float(run['rate']):,.0f}" for run in results[target]),  # type: ignore[arg-type]
                ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                f"{med(target, 'rss'):.1f}",
            ]
        )
    table = plots.markdown_table(
        [
            f"server ({database})",
            "events/s (median)",
            "÷ (c)",
            "p50 ms",
            "p99 ms",
            "CPU ms/event",
            "each run",
            "HTTP statuses",
            "RSS per worker MiB",
        ],
        rows,
    )
    ratios = (
        f"**{database}: a/c = {med('justdriving', 'rate') / med('insert', 'rate'):.2f}**, "
        f"a/b = {med('justdriving', 'rate') / med('bare', 'rate'):.2f}; CPU per event a/c = "
        f"{med('justdriving', 'cpu_ms') / med('insert', 'cpu_ms'):.2f}; RSS per worker a/c = "
        f"{med('justdriving', 'rss') / med('insert', 'rss'):.2f}; the same app under sync "
        f"workers (d): d/c = {med('justdriving-sync', 'rate') / med('insert', 'rate'):.2f}, "
        f"CPU d/c = {med('justdriving-sync', 'cpu_ms') / med('insert', 'cpu_ms'):.2f}."
    )
    return table, ratios


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook_ingest", description=__doc__
    )
    parser.add_argument("--requests", type=int, default=2000, help="per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="load generator threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-admin",
        default=os.environ.get(
            "JUSTDRIVING_TEST_POSTGRES_ADMIN",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
        help="a URL that may create and drop the benchmark's databases",
    )
    parser.add_argument("--load", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    if options.load:
        result = load(int(options.load[0]), options.load[1], options.requests, options.threads)
        print(json.dumps(result))
        return

    databases = ("sqlite", "postgresql") if options.database == "both" else (options.database,)
    sections, labels, values = [], [], []
    for database in databases:
        options.database = database
        results = measure(options)
        table, ratios = report(database, results)
        print(table)
        print(ratios)
        sections.append(f"{table}\n\n{ratios}")
        for target in TARGETS:
            labels.append(f"{target}\n{database}")
            values.append(statistics.median(float(run["rate"]) for run in results[target]))  # type: ignore[arg-type]
    if options.no_docs:
        return
    png = plots.bars(
        "webhook-ingest", "Stripe webhook ingest, events/s", labels, values, "events/s"
    )
    tables = "\n\n".join(sections)
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.webhook_ingest` (also part of `make bench`).

{plots.machine()}

Four servers, each gunicorn with {options.workers} worker processes bound to 127.0.0.1, all up
at once and measured in turn (a, b, c, d, a, b, c, d, …) so that the machine's load falls on
each alike. (a) `justdriving serve` (its own worker class: waitress in each gunicorn worker,
8 threads, its redacted access log), PAYMENT_PROVIDER=stripe (a
`sk_test_` key and a webhook secret), QUEUE_BACKEND=worker: the endpoint verifies the
signature on the raw body, reads the event's id and type, stores the raw event with one
INSERT … ON CONFLICT DO NOTHING and answers; translating and applying it is the worker's job
and is not measured. (b) a bare Flask app that only calls `stripe.Webhook.construct_event`
and answers 200, under gunicorn's sync workers with its access log to stdout (discarded), as
are (c) and (d). (c) the same, then an INSERT of the raw event (id, type, body) with the
database driver itself (sqlite3 or psycopg, one connection per worker, ON CONFLICT DO
NOTHING; WAL and synchronous=NORMAL on SQLite, as justdriving sets): what a user would write
instead. (d) justdriving's app (`create_app()`) under sync workers, a diagnostic: (a) less
what its serving stack adds. (a), (c) and (d) each on a database of their own (a SQLite
file; a fresh PostgreSQL
database on the local server). Load generator: another process, {options.threads} threads
with http.client, a new connection per request, {options.requests:,} distinct signed
`payment_intent.succeeded` events per run, after a 100-request warm-up; every event of (a)
and (c) is checked to be stored once afterwards; median of {options.runs} runs (p50/p99:
medians of the runs' percentiles, client-side, including the connect). CPU ms/event: user +
system time of the server's processes during a run ÷ its events.

{tables}

{plots.image(png, "webhook ingest events/s")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
