"""The web server's own bounds (web.server.WebServer, what `serve` runs in each worker): a
request trickled in too slowly is dropped while others are answered; a connection that sends
nothing is closed; every request is logged on one line, its secret query values dropped."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from justdriving.config import LogFormat, LogLevel, Settings
from justdriving.entrypoints.web.server import WebServer
from justdriving.logs import configure_logging
from unit.entrypoints.web.support import build_site, settings_for


@contextmanager
def serving(read_limit: float) -> Iterator[WebServer]:
    from justdriving.entrypoints.flask_app import serving_app

    site = build_site(settings_for())
    server = WebServer(serving_app(site.container), "127.0.0.1", 0, read_limit=read_limit)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(10)


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` s while it keeps trickling."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"X-Slow: 1\r\n")
            sock.settimeout(0.2)
            if sock.recv(1) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_a_request_trickled_in_beyond_the_read_limit_is_dropped_and_others_answered() -> None:
    with serving(read_limit=1.0) as server:
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as answer:
                assert answer.status == 200
            started = time.monotonic()
            assert _closed_by_server(slow, within=10)
            assert 0.9 < time.monotonic() - started < 5
        finally:
            slow.close()


def test_a_prompt_request_is_not_dropped() -> None:
    with serving(read_limit=1.0) as server:
        for _ in range(3):
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as answer:
                assert answer.status == 200
            time.sleep(0.6)  # more than the limit over all, each request prompt


def test_the_access_line_is_json_redacted_and_drops_secret_query_values() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format=LogFormat.JSON, log_level=LogLevel.DEBUG), stream=stream)
    with serving(read_limit=5.0) as server:
        query = "email=elev00%40example.com&to=%2B4520123456&msisdn=4520123456&token=s3cr3t-value"
        with urllib.request.urlopen(f"{server.url}/healthz?{query}", timeout=5) as answer:
            assert answer.status == 200
        time.sleep(0.2)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "justdriving.access"]
    assert len(access) == 1
    event = access[0]["event"]
    assert event.startswith("GET /healthz?")
    assert " -> 200 (" in event
    for leaked in ("elev00", "20123456", "s3cr3t-value"):
        assert leaked not in event, event
