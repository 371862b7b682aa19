"""How the PayPal simulator signs webhook deliveries and checks them on verify-webhook-signature.

PayPal signs `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>` with
RSA-SHA256 (its offline scheme). The simulator signs the same string with HMAC-SHA256 under a
key only it holds: the gateway never checks a signature itself, it asks the verify endpoint,
so the key type is invisible to it while every byte of the body still counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib

AUTH_ALGO = "SHA256withRSA"
CERT_URL = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-simulator"


def signed_string(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> str:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"


def signature(key: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()


def matches(key: bytes, text: str, candidate: str) -> bool:
    return hmac.compare_digest(signature(key, text), candidate)


_WHITESPACE = " \t\n\r"


def member_texts(document: str) -> dict[str, str]:
    """The raw text of each top-level member's value in a JSON object, exactly as sent: all
    that stands between its colon and the next comma or closing brace, whitespace included,
    so that a body with a byte added even outside its JSON value no longer matches.

    `document` must already be known to be a valid JSON object (json.loads succeeded).
    """
    decoder = json.JSONDecoder()
    members: dict[str, str] = {}
    index = _skip(document, _skip(document, 0) + 1)  # past "{"
    if document[index] == "}":
        return members
    while True:
        key, index = decoder.raw_decode(document, index)
        start = _skip(document, index) + 1  # past ":"
        _, end = decoder.raw_decode(document, _skip(document, start))
        separator = _skip(document, end)
        members[key] = document[start:separator]
        if document[separator] == "}":
            return members
        index = _skip(document, separator + 1)  # past ","


def _skip(document: str, index: int) -> int:
    while document[index] in _WHITESPACE:
        index += 1
    return index
