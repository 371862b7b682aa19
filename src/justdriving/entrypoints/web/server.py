"""Serving the app with waitress, stoppable from a signal handler or another thread.

waitress buffers: its event loop reads each request's headers and body whole before a thread
runs the app, so a slow client holds a socket, never a thread, and `/healthz` answers while
hundreds dawdle. On top of waitress's own limits (`ADJUSTMENTS`), `WebServer` bounds how long
one request may take to arrive: a request not complete READ_LIMIT_SECONDS after its first
byte is dropped (slowloris), as is a connection silent for IDLE_LIMIT_SECONDS.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from justdriving.entrypoints.web.routes import MAX_BODY_BYTES

log = logging.getLogger("justdriving.web")

# How long a stopping server goes on answering the requests it already received.
STOP_GRACE_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.05
# A request's headers and body must have arrived within this long of its first byte.
READ_LIMIT_SECONDS: Final = 15.0
# A keep-alive connection that sends nothing for this long is closed (waitress's check).
IDLE_LIMIT_SECONDS: Final = 30
ADJUSTMENTS: Final[dict[str, Any]] = {
    "channel_timeout": IDLE_LIMIT_SECONDS,
    "cleanup_interval": 5,
    "connection_limit": 500,
    "max_request_header_size": 64 * 1024,
    # The routes' own limit: waitress answers 413 to a longer body, chunked or not, before
    # the app reads any of it.
    "max_request_body_size": MAX_BODY_BYTES,
    "asyncore_loop_timeout": 1,
    "ident": "justdriving",
}


class WebServer:
    """A waitress server bound at construction (port 0 picks a free one); `serve()` blocks
    until `stop()`, which any thread or a signal handler may call."""

    def __init__(
        self,
        app: Flask | Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 8000,
        threads: int = 8,
        *,
        sockets: Sequence[socket.socket] = (),
        read_limit: float = READ_LIMIT_SECONDS,
    ) -> None:
        """Bound to `host`:`port`, or serving on `sockets` already bound (one listener: a
        gunicorn worker's inherited socket)."""
        where: dict[str, Any] = (
            {"sockets": list(sockets)} if sockets else {"host": host, "port": port}
        )
        self._server: Any = create_server(app, threads=threads, **ADJUSTMENTS, **where)
        self.host: str = str(self._server.effective_host)
        self.port: int = int(self._server.effective_port)
        self._stopping = False
        self._closed = False
        self._read_limit = read_limit
        self._arriving: dict[int, tuple[Any, float]] = {}  # channel → (its request, first seen)
        self._next_sweep = 0.0

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self, tick: Callable[[], None] | None = None) -> None:
        """Serve until `stop()`; then take no new connection, finish the requests already
        received (for up to STOP_GRACE_SECONDS), end the request threads, and only then close
        the connections and the loop's wake-up pipe, which those threads write to.

        `tick` is called on the loop's thread at least once a second (a gunicorn worker's
        heartbeat)."""
        server = self._server
        try:
            while not self._stopping:
                self._poll(server.adj.asyncore_loop_timeout)
                self._drop_slow_requests()
                if tick is not None:
                    tick()
            wasyncore.dispatcher.close(server)  # the listener only (server.close() shuts all)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while self._busy() and time.monotonic() < deadline:
                self._poll(_POLL_SECONDS)
        finally:
            server.task_dispatcher.shutdown(timeout=1)
            self._closed = True
            wasyncore.close_all(server._map)

    def stop(self) -> None:
        """Ask `serve()` to stop. Sets a flag and wakes the loop with one byte: no lock is
        taken, so a signal handler may call it whatever the interrupted loop was doing."""
        self._stopping = True
        if not self._closed:
            self._server.trigger.pull_trigger()  # without a thunk: the trigger's lock untouched

    def _poll(self, timeout: float) -> None:
        server = self._server
        wasyncore.loop(timeout, server.adj.asyncore_use_poll, server._map, count=1)

    def _drop_slow_requests(self) -> None:
        """Close each connection whose request has been arriving for longer than the read
        limit (a slow client trickling its headers or body); at most twice a second."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + 0.5
        arriving: dict[int, tuple[Any, float]] = {}
        for key, channel in list(self._server.active_channels.items()):
            request = channel.request
            if request is None or channel.requests:  # idle, or its last request is running
                continue
            seen, since = self._arriving.get(key, (None, now))
            since = since if seen is request else now
            if now - since > self._read_limit:
                log.warning(
                    "dropped a connection whose request took over %.0f s to arrive",
                    self._read_limit,
                )
                channel.handle_close()
                continue
            arriving[key] = (request, since)
        self._arriving = arriving

    def _busy(self) -> bool:
        """A request received and not yet answered, or an answer not yet all sent."""
        dispatcher = self._server.task_dispatcher
        if dispatcher.active_count or dispatcher.queue:
            return True
        channels = list(self._server.active_channels.values())
        return any(channel.requests or channel.total_outbufs_len for channel in channels)
