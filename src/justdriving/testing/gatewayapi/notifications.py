"""GatewayAPI's webhook requests as the simulator makes them: JSON bodies and their JWT.

GatewayAPI sends the notification as JSON and again as the claims of an HS256 JWT in
`X-Gwapi-Signature`, signed with the secret configured on the webhook (REST API docs,
"Webhooks"). The payload fields follow the documented DSN and MO SMS callbacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import phonenumbers
from attrs import frozen

SIGNATURE_HEADER = "X-Gwapi-Signature"


@frozen
class GatewayApiCallback:
    """A webhook request as GatewayAPI makes it: the URL, the JSON body and the headers."""

    url: str
    body: bytes
    headers: dict[str, str]

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


def jwt_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """A compact JWT (HS256) of `claims`, as GatewayAPI puts in X-Gwapi-Signature."""
    header = _segment({"typ": "JWT", "alg": "HS256"})
    payload = _segment(dict(claims))
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(mac.digest())}"


def status_payload(
    message: Mapping[str, Any],
    msisdn: int,
    status: str,
    at: datetime,
    error: str | None,
    code: str | None,
) -> dict[str, Any]:
    """A delivery status notification (DSN) for one recipient of `message`."""
    return {
        "id": message["id"],
        "msisdn": msisdn,
        "time": int(at.timestamp()),
        "status": status,
        "error": error,
        "code": code,
        "userref": message.get("userref"),
        "callback_url": message.get("callback_url"),
        **_country(msisdn),
    }


def mo_payload(
    mo_id: int, msisdn: int, receiver: int, message: str, at: datetime, label: str
) -> dict[str, Any]:
    """An incoming (MO) SMS."""
    return {
        "id": mo_id,
        "msisdn": msisdn,
        "receiver": receiver,
        "message": message,
        "senttime": int(at.timestamp()),
        "webhook_label": label,
        **_country(msisdn),
    }


def callback(url: str, payload: Mapping[str, Any], secret: str) -> GatewayApiCallback:
    headers = {
        "Content-Type": "application/json",
        "Accept": "*/*",
        SIGNATURE_HEADER: jwt_hs256(payload, secret),
    }
    return GatewayApiCallback(url, json.dumps(payload).encode(), headers)


def country_of(msisdn: int) -> str | None:
    """The ISO country of an MSISDN, as GatewayAPI reports it (DK for 45…)."""
    try:
        number = phonenumbers.parse(f"+{msisdn}")
    except phonenumbers.NumberParseException:
        return None
    region: str | None = phonenumbers.region_code_for_number(number)
    return region


def _country(msisdn: int) -> dict[str, Any]:
    region = country_of(msisdn)
    prefix = msisdn_prefix(msisdn)
    return {"country_code": region, "country_prefix": prefix} if region else {}


def msisdn_prefix(msisdn: int) -> int | None:
    try:
        return phonenumbers.parse(f"+{msisdn}").country_code
    except phonenumbers.NumberParseException:
        return None


def _segment(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
