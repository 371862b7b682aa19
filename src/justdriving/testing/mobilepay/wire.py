"""What the Vipps MobilePay simulator's APIs share: their problems (RFC 7807), JSON bodies and
answers, and the error a test gets when it asks for what Vipps MobilePay could not do."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from justdriving.testing.wire import ApiReply


class SimulatorError(Exception):
    """A test asked the simulator for something the payer or Vipps MobilePay could not do."""


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, name: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.name = status, title, detail, name

    def reply(self) -> ApiReply:
        body: dict[str, Any] = {
            "type": f"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/errors#{self.status}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": f"/epayment/errors/{uuid.uuid4()}",
            "traceId": uuid.uuid4().hex,
        }
        if self.name:
            body["extraDetails"] = [{"name": self.name, "reason": self.detail}]
        return ApiReply(
            self.status,
            json.dumps(body).encode(),
            {"Content-Type": "application/problem+json"},
        )


def bad(detail: str, name: str | None = None) -> Problem:
    return Problem(400, "Bad Request", detail, name)


def json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise bad("the body is not JSON") from None
    if not isinstance(data, dict):
        raise bad("the body is a JSON object")
    return data


def ok(payload: Mapping[str, Any] | list[Any], status: int = 200) -> ApiReply:
    return ApiReply(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})
