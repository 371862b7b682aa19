"""One log line per request, through justdriving's logging (its format, its redaction).

`AccessLog(app)` wraps a WSGI app: after each answer it logs the method, the path, the query
string (each value under a secret-looking name dropped, the rest redacted with every other
line), the status, the bytes sent and the time taken, on the `justdriving.access` logger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from justdriving.logs import REDACTED, is_secret_field

log = logging.getLogger("justdriving.access")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def safe_query(query: str) -> str:
    """The query string with the value of every secret-named parameter dropped."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(name, REDACTED if is_secret_field(name) else value) for name, value in pairs],
        safe="[]@+",
    )


class AccessLog:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        started = time.monotonic()
        status: list[str] = []

        def start(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [code]
            return start_response(code, headers, exc_info)

        sent = 0
        body = self._app(environ, start)
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self._line(environ, status[0] if status else "-", sent, time.monotonic() - started)

    @staticmethod
    def _line(environ: dict[str, Any], status: str, sent: int, took: float) -> None:
        query = environ.get("QUERY_STRING", "")
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        target = f"{path}?{safe_query(query)}" if query else path
        log.info(
            "%s %s -> %s (%d bytes, %.1f ms)",
            environ.get("REQUEST_METHOD", "-"),
            target,
            status.split(" ", 1)[0],
            sent,
            took * 1000,
        )
