"""Serving the app with waitress, stoppable from a signal handler or another thread."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from waitress.server import create_server

log = logging.getLogger("justdriving.web")


class WebServer:
    """A waitress server bound at construction (port 0 picks a free one); `serve()` blocks
    until `stop()`, which any thread or a signal handler may call."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 8
    ) -> None:
        self._server: Any = create_server(app, host=host, port=port, threads=threads)
        self.host: str = str(self._server.effective_host)
        self.port: int = int(self._server.effective_port)

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve(self) -> None:
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown()

    def stop(self) -> None:
        """Close the listener and every connection, from inside the server's own loop."""
        self._server.trigger.pull_trigger(self._close_all)

    def _close_all(self) -> None:
        from waitress import wasyncore

        wasyncore.close_all(self._server._map)  # the loop ends once its map is empty
