"""SendGrid's side of the Event Webhook for the simulator: events shaped like SendGrid's and
signed like them (ECDSA P-256 over timestamp + body, with a key pair made per simulator).

Events follow SendGrid's Event Webhook reference: `sg_event_id`, `sg_message_id` (the send's
X-Message-Id, a dot, then the filter's suffix), `smtp-id`, the custom_args at the top level,
and per kind the fields a consumer reads (`type`/`status`/`reason` of a bounce, the `reason`
of a drop, the `response` of a delivery or deferral). A delivery is a compact JSON array
ending in CRLF, as SendGrid sends it.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from justdriving.testing.sendgrid.mail import SentMail

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
FILTER = "filterdrecv-5bd9d8ff5-x2kqg-1"  # the suffix SendGrid's filter adds to the send's id

# What SendGrid adds to each kind of event (a test may override any of it).
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "processed": {},
    "deferred": {"response": "400 try again later", "attempt": "5"},
    "delivered": {"response": "250 OK", "tls": 1},
    "bounce": {
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
    },
    "dropped": {"reason": "Bounced Address", "status": "5.0.0"},
    "open": {"useragent": "Mozilla/5.0", "ip": "192.0.2.10", "sg_machine_open": False},
    "click": {"useragent": "Mozilla/5.0", "ip": "192.0.2.10", "url": "https://example.dk/"},
    "spamreport": {},
    "unsubscribe": {},
    "group_unsubscribe": {"asm_group_id": 1},
    "group_resubscribe": {"asm_group_id": 1},
}


class EventSigner:
    """A fresh P-256 key pair; `public_key` is what SendGrid shows under Mail Settings."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def sign(self, body: bytes, timestamp: int) -> dict[str, str]:
        signed = str(timestamp).encode() + body
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
            TIMESTAMP_HEADER: str(timestamp),
            "Content-Type": "application/json",
        }


def event(mail: SentMail, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """One event about `mail`, as SendGrid would report it at `at`."""
    if kind not in EVENT_FIELDS:
        raise ValueError(f"SendGrid sends no {kind!r} event")
    return {
        "email": mail.to,
        "timestamp": int(at.timestamp()),
        "smtp-id": f"<{mail.message_id}@ismtpd0001p1lon1.sendgrid.net>",
        "event": kind,
        "category": [],
        "sg_event_id": secrets.token_urlsafe(36),
        "sg_message_id": f"{mail.message_id}.{FILTER}-{secrets.token_hex(4)}-0",
        **mail.custom_args,
        **EVENT_FIELDS[kind],
        **fields,
    }


def delivery_body(events: list[dict[str, Any]]) -> bytes:
    return json.dumps(events, separators=(",", ":")).encode() + b"\r\n"
