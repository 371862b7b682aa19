"""gunicorn's process model with waitress's buffering: `justdriving serve`'s worker class.

gunicorn's own sync and gthread workers give a thread to a connection as soon as it sends a
byte, so a few clients trickling their headers starve every worker (gunicorn's documentation
asks for a buffering proxy in front of them). `WaitressWorker` keeps gunicorn's arbiter (pre-forked
processes, restarts, graceful stops, the heartbeat) and serves each worker's inherited listening
socket with waitress (`web.server.WebServer`), which reads whole requests in its event loop
before a thread sees them and bounds how long one may take to arrive.

`GunicornLogs` sends gunicorn's own lines through the standard library's logging, where
`justdriving.logs` formats (LOG_FORMAT) and redacts them like every other line.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Final

from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker

from justdriving.entrypoints.web.server import WebServer

# waitress's request threads in each worker process (gunicorn's --threads, if set, wins).
DEFAULT_THREADS: Final = 8


class WaitressWorker(Worker):  # type: ignore[misc]
    """A gunicorn worker serving its listener with waitress until gunicorn stops it."""

    server: WebServer | None = None

    def run(self) -> None:
        threads = self.cfg.threads if self.cfg.threads > 1 else DEFAULT_THREADS
        sockets = [listener.sock for listener in self.sockets]
        self.server = WebServer(self.wsgi, sockets=sockets, threads=threads)
        if not self.alive:  # stopped while starting
            return
        self.server.serve(tick=self._heartbeat)

    def _heartbeat(self) -> None:
        self.notify()
        if not self.alive or self.ppid != os.getppid():  # told to stop, or orphaned
            self._stop()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: a graceful stop (the requests received are answered first)."""
        super().handle_exit(sig, frame)
        self._stop()

    def _stop(self) -> None:
        self.alive = False
        if self.server is not None:
            self.server.stop()


class GunicornLogs(Logger):  # type: ignore[misc]
    """gunicorn's error log through the root logger (justdriving's format and redaction);
    no access log of gunicorn's own (`web.access_log` writes one line per request)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True
        self.access_log.setLevel(logging.CRITICAL + 1)
