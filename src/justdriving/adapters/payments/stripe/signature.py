"""Stripe webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, checked by hand.

The signed payload is `"<t>."` followed by the raw body bytes, HMAC-SHA256 keyed with the whole
`whsec_…` secret. Every v1 value is compared in constant time (during a secret roll Stripe sends
one per secret); other schemes (v0) are ignored. Unlike stripe-python, a timestamp too far in
the future is refused as well as one too old.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

from justdriving.domain.errors import InvalidInput, InvalidSignature, MalformedWebhook

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE = timedelta(seconds=300)


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 signature of `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Return when `body` was signed with `secret` within `tolerance` of `now`.

    Raises InvalidSignature (no header, no v1, no match, too old or too new) or
    MalformedWebhook (a header that is not `t=<unix>,v1=<hex>`).
    """
    if now.utcoffset() is None:
        raise InvalidInput("now must be timezone-aware")
    timestamp, candidates = parse_header(_header(headers))
    expected = expected_signature(secret, timestamp, body).encode()
    matched = False
    for candidate in candidates:  # no early exit: every candidate costs the same
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise InvalidSignature("no v1 signature matches the body")
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise InvalidSignature("the signature's timestamp is outside the tolerance")


def parse_header(value: str) -> tuple[int, list[str]]:
    """`(t, [v1, …])` from a Stripe-Signature value."""
    pairs = [part.strip().partition("=") for part in value.split(",")]
    if any(not sep or not key for key, sep, _ in pairs):
        raise MalformedWebhook(f"the {SIGNATURE_HEADER} header is not a list of key=value")
    stamps = [v for k, _, v in pairs if k == "t"]
    if len(stamps) != 1 or not (stamps[0].isascii() and stamps[0].isdigit()):
        raise MalformedWebhook(f"the {SIGNATURE_HEADER} header needs one t=<unix time>")
    signatures = [v for k, _, v in pairs if k == "v1"]
    if not signatures:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header has no v1 signature")
    return int(stamps[0]), signatures


def _header(headers: Mapping[str, str]) -> str:
    wanted = SIGNATURE_HEADER.lower()
    for name, value in headers.items():
        if name.lower() == wanted:
            return value
    raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
