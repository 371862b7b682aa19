"""The fuzz campaign's request maker: raw HTTP/1.1 over a loopback socket (so that a request
may carry what http.client refuses to send: NULs and raw bytes in the target, broken chunking),
and generators of hostile requests, from a seeded random source."""

from __future__ import annotations

import contextlib
import json
import random
import socket
from collections.abc import Callable, Sequence
from typing import Any, Final

from attrs import frozen

from justdriving.entrypoints.web.routes import MAX_BODY_BYTES

TIMEOUT: Final = 20.0


@frozen
class Request:
    method: str
    target: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes = b""
    chunked: bool = False
    kind: str = ""


def send(port: int, request: Request) -> int:
    """Send `request`; the answer's status (0: the server closed without answering)."""
    lines = [request.method.encode() + b" " + request.target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name.encode() + b": " + value for name, value in request.headers]
    lines.append(b"Connection: close")
    if request.chunked:
        lines.append(b"Transfer-Encoding: chunked")
        body = (
            b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in _pieces(request.body))
            + b"0\r\n\r\n"
        )
    else:
        lines.append(b"Content-Length: %d" % len(request.body))
        body = request.body
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        # Answered before it read everything (413): the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    first = answer.split(b"\r\n", 1)[0].split(b" ")
    return int(first[1]) if len(first) > 1 and first[1].isdigit() else 0


def _pieces(body: bytes) -> list[bytes]:
    size = 4096
    return [body[i : i + size] for i in range(0, len(body), size)] or []


CONTENT_TYPES: Final = (
    b"application/json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=xyz",
    b"text/plain",
    b"application/json; charset=latin-1",
    b"application/xml",
    b"\xff\xfe/\x00",
    b"",
)
NASTY_TEXT: Final = (
    "\x00",
    "a\x00b",
    "\u202e\u0000\ufeff",
    "ø" * 300,
    "😀" * 100,
    "\ud7ff\ue000",
    "x" * 5000,
    "../../etc/passwd",
    "%00",
    "'; DROP TABLE payments; --",
    "9" * 40,
    "-1",
    "1e309",
    "NaN",
)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def json_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 3 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1.5e308, -0.0])
    if pick == 2:
        return rng.choice(NASTY_TEXT)
    if pick == 3:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(20)))
    if pick == 4:
        return rng.randrange(-(2**63), 2**63)
    if pick in (5, 6):
        return {rng.choice(FIELDS): json_value(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]


FIELDS: Final = (
    "id", "type", "data", "object", "event", "event_type", "resource", "MessageSid",
    "MessageStatus", "From", "To", "Body", "AccountSid", "status", "msisdn", "reference",
    "sg_message_id", "email", "timestamp", "signature", "token", "event-data", "ErrorCode",
    "message", "userref", "sender", "school_id", "return_url", "amount", "created",
    "payment_intent", "metadata", "payment_id", "recipient", "severity", "reason",
)  # fmt: skip


def body_for(rng: random.Random) -> tuple[bytes, str]:
    """A hostile body and its kind."""
    pick = rng.randrange(10)
    if pick == 0:
        return rng.randbytes(rng.randrange(1, 2000)), "random bytes"
    if pick == 1:
        return nested(rng.choice([100, 1000, 5000, 50000])), "deeply nested"
    if pick == 2:
        return nested_objects(rng.choice([100, 1000, 5000])), "deeply nested"
    if pick == 3:
        size = rng.choice([MAX_BODY_BYTES - 10, MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES])
        return b'{"id": "' + b"x" * size + b'"}', "huge"
    if pick == 4:
        text = rng.choice(NASTY_TEXT) + rng.choice(NASTY_TEXT)
        return text.encode("utf-8", "surrogatepass"), "unicode and NULs"
    if pick == 5:
        fields = {rng.choice(FIELDS): rng.choice(NASTY_TEXT) for _ in range(rng.randrange(1, 6))}
        return "&".join(f"{k}={v}" for k, v in fields.items()).encode(
            "utf-8", "surrogatepass"
        ), "form"
    value = {rng.choice(FIELDS): json_value(rng) for _ in range(rng.randrange(1, 8))}
    return json.dumps(value).encode(), "generated JSON"


def target_for(rng: random.Random, path: str) -> bytes:
    """`path`, sometimes with a hostile query string or id."""
    pick = rng.randrange(8)
    encoded = path.encode()
    if pick == 0:
        return encoded + b"?x=%00&y=%ff%fe&z=" + "ø".encode()
    if pick == 1:
        return encoded + b"/%00"
    if pick == 2:
        return encoded.replace(b"ID", b"a%00b")
    if pick == 3:
        return encoded.replace(b"ID", b"x" * 3000)
    if pick == 4:
        return encoded.replace(b"ID", "ø😀".encode())
    return encoded


def headers_for(
    rng: random.Random, names: Sequence[str], content_type: bytes | None = None
) -> tuple[tuple[str, bytes], ...]:
    chosen = [("Content-Type", content_type or rng.choice(CONTENT_TYPES))]
    for name in names:
        if rng.random() < 0.6:
            value = rng.choice(
                [
                    rng.randbytes(rng.randrange(1, 80)).hex().encode(),
                    b"t=1,v1=" + rng.randbytes(32).hex().encode(),
                    nested(200),
                    b"e30." + nested(300) + b".x",
                    "ø\u202e".encode(),
                    b"x" * 8000,
                ]
            )
            chosen.append((name, value))
    if rng.random() < 0.2:
        chosen.append(("Authorization", b"Bearer " + rng.randbytes(16).hex().encode()))
    if rng.random() < 0.1:
        chosen.append(("X-Request-Id", b"\xff" * 10))
    return tuple(chosen)


Generator = Callable[[random.Random], Request]
