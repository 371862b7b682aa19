"""Vipps MobilePay's HMAC-SHA256 signature on webhook deliveries.

The Webhooks API signs each delivery with the secret it gave when the webhook was registered:
`x-ms-content-sha256` is the base64 SHA-256 of the raw body, and `Authorization` is
`HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`, an HMAC of
`POST\\n<path and query>\\n<x-ms-date>;<host>;<content hash>`. The path and host are the ones of
the URL that was registered (ours: PUBLIC_BASE_URL + /webhook/payments/mobilepay), not whatever a
proxy hands on. Both hashes are compared in constant time; an `x-ms-date` more than five minutes
from now is a replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from attrs import field, frozen

from justdriving.domain.errors import InvalidSignature

TOLERANCE = timedelta(seconds=300)
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
SCHEME = "HMAC-SHA256"


@frozen
class Endpoint:
    """The URL the webhook was registered with: what Vipps MobilePay signs."""

    host: str
    path_and_query: str
    secret: str = field(repr=False)

    @classmethod
    def of(cls, url: str, secret: str) -> Endpoint:
        parts = urlsplit(url)
        path = parts.path or "/"
        return cls(parts.netloc, path + (f"?{parts.query}" if parts.query else ""), secret)


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def signature(secret: str, path_and_query: str, date: str, host: str, hashed: str) -> str:
    signed = f"POST\n{path_and_query}\n{date};{host};{hashed}"
    mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def authorization(signature_b64: str) -> str:
    return f"{SCHEME} SignedHeaders={SIGNED_HEADERS}&Signature={signature_b64}"


def verify(body: bytes, headers: Mapping[str, str], endpoint: Endpoint, now: datetime) -> None:
    """InvalidSignature unless the delivery is signed with the endpoint's secret, its body is the
    one hashed, and its date is within five minutes of `now`."""
    lower = {name.lower(): value for name, value in headers.items()}
    date = lower.get("x-ms-date", "").strip()
    hashed = lower.get("x-ms-content-sha256", "").strip()
    given = lower.get("authorization", "").strip()
    if not date or not hashed or not given:
        raise InvalidSignature("the delivery lacks x-ms-date, x-ms-content-sha256 or Authorization")
    if not hmac.compare_digest(hashed.encode(), content_hash(body).encode()):
        raise InvalidSignature("the body is not the one x-ms-content-sha256 hashes")
    sent_at = _http_date(date)
    if abs(now - sent_at) > TOLERANCE:
        raise InvalidSignature("x-ms-date is more than five minutes from now")
    expected = authorization(
        signature(endpoint.secret, endpoint.path_and_query, date, endpoint.host, hashed)
    )
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignature("the signature does not match")


def _http_date(value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise InvalidSignature("x-ms-date is not an HTTP date") from None
    if moment.utcoffset() is None:
        raise InvalidSignature("x-ms-date carries no zone")
    return moment
