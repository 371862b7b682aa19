"""The simulators' HTTP server: ThreadingHTTPServer on 127.0.0.1, a free port, started on demand.

    LocalServer.answering(self.answer, provider="stripe")  # a callable answers each request
    LocalServer.serving(endpoints.serve(self), provider="xero")  # on kept-alive connections

Every request and reply is recorded (`justdriving.testing.exchanges`) under `provider`.

`Served` gives a simulator that keeps its server in `_server` start(), stop() and `with`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self

from justdriving.testing.exchanges import Exchange, record
from justdriving.testing.wire import ApiReply

__all__ = ["Answer", "KeptAliveHandler", "LocalServer", "Reply", "Serve", "Served"]

# (method, path, lower-cased headers, body) -> the reply, or None to drop the connection.
Answer = Callable[[str, str, Mapping[str, str], bytes], ApiReply | None]
# (method, path, query, lower-cased headers, body) -> the reply.
Serve = Callable[[str, str, str, Mapping[str, str], bytes], "Reply"]


class LocalServer:
    """Serves requests with `handler` on 127.0.0.1 from `start()` until `stop()`."""

    def __init__(self, handler: type[_Handler], *, provider: str) -> None:
        self._handler = type(handler.__name__, (handler,), {"provider": provider})
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def answering(cls, answer: Answer, *, provider: str) -> LocalServer:
        """A server whose every request `answer` answers."""

        class Handler(_AnswerHandler):
            def reply(
                self, method: str, path: str, headers: Mapping[str, str], body: bytes
            ) -> ApiReply | None:
                return answer(method, path, headers, body)

        return cls(Handler, provider=provider)

    @classmethod
    def serving(cls, serve: Serve, *, provider: str) -> LocalServer:
        """A server that keeps connections alive (HTTP/1.1) and whose every request `serve`
        answers."""

        class Handler(KeptAliveHandler):
            def serve(
                self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
            ) -> Reply:
                return serve(method, path, query, headers, body)

        return cls(Handler, provider=provider)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        if self._server is not None:
            return
        server = self._server = _Server(("127.0.0.1", 0), self._handler)
        # A short poll keeps stop() quick: a test suite starts hundreds of simulators.
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.02), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None


class Served:
    """start(), stop() and `with simulator:` for a simulator that serves through `_server`."""

    _server: LocalServer

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (killed, timed out) is a client's
        business, as at a real provider; anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Reply(Protocol):
    """What a handler writes back: ApiReply, or a simulator's own answer type."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class _Handler(BaseHTTPRequestHandler):
    """Reading a request and writing a reply, for both kinds of handler below."""

    provider = "unknown"  # LocalServer sets its provider's name

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the simulator's `requests` instead."""

    def _read(self) -> tuple[dict[str, str], bytes]:
        """The lower-cased headers and the body."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return {name.lower(): value for name, value in self.headers.items()}, body

    def _record(
        self, method: str, headers: Mapping[str, str], body: bytes, reply: Reply | None
    ) -> None:
        path, _, query = self.path.partition("?")
        record(
            Exchange(
                provider=self.provider,
                method=method,
                path=path,
                query=query,
                request_headers=dict(headers),
                request_body=body,
                status=None if reply is None else reply.status,
                response_headers={} if reply is None else dict(reply.headers),
                response_body=b"" if reply is None else reply.body,
            )
        )

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


class KeptAliveHandler(_Handler):
    """HTTP/1.1 with keep-alive, as the providers' own APIs and httpx clients speak it: a
    simulator subclasses it and implements `serve`. A client that gave up waiting (a stalled
    answer, a timeout) gets nothing."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm, a kept-alive client
    # waits for its delayed ACK (about 40 ms) on every call.
    disable_nagle_algorithm = True

    def serve(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        headers, body = self._read()
        path, _, query = self.path.partition("?")
        reply = self.serve(method, path, query, headers, body)
        self._record(method, headers, body, reply)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._write(reply)


class _AnswerHandler(_Handler):
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def reply(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        raise NotImplementedError  # LocalServer.answering gives each server its own

    def _handle(self, method: str) -> None:
        headers, body = self._read()
        reply = self.reply(method, self.path, headers, body)
        self._record(method, headers, body, reply)
        if reply is None:  # the connection closes with no answer: the client sees it dropped
            self.close_connection = True
            return
        self._write(reply)
