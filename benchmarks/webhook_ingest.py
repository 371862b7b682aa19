"""Webhook ingest: signed Stripe events POSTed over HTTP, events/s and latency.

    .venv/bin/python -m benchmarks.webhook_ingest [--requests 2000] [--runs 3] [--threads 8]

(a) `justdriving serve` (gunicorn, 2 workers) on a migrated SQLite file, PAYMENT_PROVIDER=stripe,
QUEUE_BACKEND=worker: POST /webhook/payments/stripe verifies, stores in the inbox and answers
(applying is the worker's job, not measured). (b) a bare Flask app under gunicorn with the same
settings (2 sync workers, access log to stdout) that only calls stripe.Webhook.construct_event
and answers 200. The load generator is another process (this module with --load): threads
using http.client, a new connection per request (gunicorn's sync workers close them), each
event with a unique id, signed just before it is sent. Everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
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


def start_justdriving(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    from justdriving.adapters.sql.engine import make_engine
    from justdriving.adapters.sql.schema import upgrade

    url = f"sqlite:///{folder / 'ingest.db'}"
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
    return subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def start_bare(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    (folder / "bare_webhook.py").write_text(BARE_APP)
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
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


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


def inbox_rows(folder: Path) -> int:
    from sqlalchemy import func, select

    from justdriving.adapters.sql.engine import make_engine
    from justdriving.adapters.sql.tables import inbox

    engine = make_engine(f"sqlite:///{folder / 'ingest.db'}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(inbox)).scalar_one())
    finally:
        engine.dispose()


def run_load(port: int, path: str, requests: int, threads: int) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.webhook_ingest", "--load", str(port), path]
    command += ["--requests", str(requests), "--threads", str(threads)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=True, timeout=600)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def measure(target: str, options: argparse.Namespace) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as name:
        folder, port = Path(name), free_port()
        if target == "justdriving":
            process, path = (
                start_justdriving(folder, port, options.workers),
                "/webhook/payments/stripe",
            )
        else:
            process, path = start_bare(folder, port, options.workers), "/webhook"
        try:
            wait_up(port, process)
            run_load(port, path, min(100, options.requests), options.threads)  # warm-up
            runs = [
                run_load(port, path, options.requests, options.threads) for _ in range(options.runs)
            ]
            rss = worker_rss(process)
        finally:
            stop(process)
        if target == "justdriving":
            stored = inbox_rows(folder)
            expected = min(100, options.requests) + options.requests * options.runs
            print(f"inbox rows: {stored} (events sent: {expected})")
            if stored != expected:
                raise RuntimeError(f"{stored} inbox rows for {expected} events")
    for run in runs:
        run["rss"] = statistics.median(rss) if rss else float("nan")
        print(target, json.dumps(run), flush=True)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook_ingest", description=__doc__
    )
    parser.add_argument("--requests", type=int, default=2000, help="per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="load generator threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--load", nargs=2, metavar=("PORT", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--no-docs", action="store_true")
    options = parser.parse_args(argv or [])
    if options.load:
        result = load(int(options.load[0]), options.load[1], options.requests, options.threads)
        print(json.dumps(result))
        return

    results = {target: measure(target, options) for target in ("justdriving", "bare")}

    def med(target: str, key: str) -> float:
        return statistics.median(float(run[key]) for run in results[target])  # type: ignore[arg-type]

    rows, labels, values = [], [], []
    for target, label in (
        ("justdriving", "(a) justdriving: verify + store in inbox"),
        ("bare", "(b) bare Flask + stripe.Webhook.construct_event"),
    ):
        statuses: dict[str, int] = {}
        for run in results[target]:
            for status, count in run["statuses"].items():  # type: ignore[attr-defined]
                statuses[status] = statuses.get(status, 0) + count
        rows.append(
            [
                label,
                f"{med(target, 'rate'):,.0f}",
                f"{med(target, 'p50') * 1000:.1f}",
                f"{med(target, 'p99') * 1000:.1f}",
                " / ".join(f"{float(run['rate']):,.0f}" for run in results[target]),  # type: ignore[arg-type]
                ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                f"{med(target, 'rss'):.1f}",
            ]
        )
        labels.append(target)
        values.append(med(target, "rate"))
    ratio = med("justdriving", "rate") / med("bare", "rate")
    table = plots.markdown_table(
        [
            "server",
            "events/s (median)",
            "p50 ms",
            "p99 ms",
            "each run",
            "HTTP statuses",
            "RSS per worker MiB",
        ],
        rows,
    )
    memory = med("justdriving", "rss") / med("bare", "rss")
    print(table)
    print(f"a/b = {ratio:.2f}; RSS per worker a/b = {memory:.2f}")
    if options.no_docs:
        return
    png = plots.bars(
        "webhook-ingest", "Stripe webhook ingest, events/s", labels, values, "events/s"
    )
    plots.write_section(
        TITLE,
        f"""
Command: `.venv/bin/python -m benchmarks.webhook_ingest` (also part of `make bench`).

{plots.machine()}

Both servers: gunicorn, {options.workers} sync workers, bound to 127.0.0.1, access log to
stdout (discarded). (a) `justdriving serve` on a migrated SQLite file, PAYMENT_PROVIDER=stripe
(a `sk_test_` key and a webhook secret), QUEUE_BACKEND=worker: the endpoint verifies the
signature, stores the event in the inbox and answers; applying it is the worker's job and is
not measured. (b) a bare Flask app that only calls `stripe.Webhook.construct_event` and answers
200. Load generator: another process, {options.threads} threads with http.client, a new
connection per request, {options.requests:,} distinct signed `payment_intent.succeeded` events
per run, after a 100-request warm-up; every event of (a) is checked to be in the inbox
afterwards; median of {options.runs} runs (p50/p99: medians of the
runs' percentiles, client-side, including the connect).

{table}

**a/b = {ratio:.2f}** (justdriving's ingest rate ÷ the bare verify-only rate); **RSS per
worker a/b = {memory:.2f}** (VmRSS of each gunicorn worker after the runs, median over the
workers).

{plots.image(png, "webhook ingest events/s")}
""",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
