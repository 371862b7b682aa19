"""Serving the app with waitress, stoppable from a signal handler or another thread."""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger("justdriving.web")

# How long a stopping server goes on answering the requests it already received.
STOP_GRACE_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.05


class WebServer:
    """A waitress server bound at construction (port 0 picks a free one); `serve()` blocks
    until `stop()`, which any thread or a signal handler may call."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 8
    ) -> None:
        self._server: Any = create_server(app, host=host, port=port, threads=threads)
        self.host: str = str(self._server.effective_host)
        self.port: int = int(self._server.effective_port)
        self._stopping = False
        self._closed = False

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self) -> None:
        """Serve until `stop()`; then take no new connection, finish the requests already
        received (for up to STOP_GRACE_SECONDS), end the request threads, and only then close
        the connections and the loop's wake-up pipe, which those threads write to."""
        server = self._server
        try:
            while not self._stopping:
                self._poll(server.adj.asyncore_loop_timeout)
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

    def _busy(self) -> bool:
        """A request received and not yet answered, or an answer not yet all sent."""
        dispatcher = self._server.task_dispatcher
        if dispatcher.active_count or dispatcher.queue:
            return True
        channels = list(self._server.active_channels.values())
        return any(channel.requests or channel.total_outbufs_len for channel in channels)
