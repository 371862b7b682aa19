"""The provider both sides of the Celery comparison post to, in a process of its own (its CPU is
not counted as theirs): `python -m benchmarks.relay_endpoint --latency 0.03`.

Answers every POST after `latency` seconds with GatewayAPI's answer (`{"ids": [n]}`), over
HTTP/1.1 keep-alive, and counts each message by its own key (GatewayAPI's `userref`, else the
Idempotency-Key header): the count of messages sent twice and lost is the endpoint's own, not
the senders'. `GET /stats` answers the counts and the times of the first request and the last
answer (time.time(), comparable across processes); `POST /reset` forgets them. Prints
`port <n>` once listening.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.keys: Counter[str] = Counter()
        self.first: float | None = None
        self.last: float | None = None
        self.answered = 0
        self.in_flight = 0
        self.most_in_flight = 0

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "keys": dict(self.keys),
                "first": self.first,
                "last": self.last,
                "answered": self.answered,
                "most_in_flight": self.most_in_flight,
            }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog, read when the socket starts listening (in the constructor): a few
    # hundred senders connecting at once must not find it full (the default is 5).
    request_queue_size = 1024


def serve(latency: float, port: int) -> None:
    counts = Counts()
    serial = iter(range(1, 1 << 62))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer(200, json.dumps(counts.stats()).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/reset":
                with counts.lock:
                    counts.reset()
                self._answer(200, b"{}")
                return
            try:
                key = str(json.loads(body).get("userref") or "")
            except (ValueError, AttributeError):
                key = ""
            key = key or self.headers.get("Idempotency-Key", "")
            now = time.time()
            with counts.lock:
                counts.keys[key] += 1
                counts.first = now if counts.first is None else counts.first
                counts.in_flight += 1
                counts.most_in_flight = max(counts.most_in_flight, counts.in_flight)
                number = next(serial)
            time.sleep(latency)
            self._answer(200, json.dumps({"ids": [number]}).encode())
            with counts.lock:
                counts.in_flight -= 1
                counts.answered += 1
                counts.last = time.time()

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = Server(("127.0.0.1", port), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay_endpoint")
    parser.add_argument("--latency", type=float, default=0.030)
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    serve(options.latency, options.port)


if __name__ == "__main__":
    main()
