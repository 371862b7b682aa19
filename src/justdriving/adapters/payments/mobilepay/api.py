"""Vipps MobilePay's APIs over httpx: the access token, the headers every call carries, and each
failure translated into a justdriving error at this boundary.

The token comes from `POST /accesstoken/get` with the sales unit's `client_id`, `client_secret`
and `Ocp-Apim-Subscription-Key` as headers (no body); it is kept until `TOKEN_MARGIN` seconds
before its `expires_in` (Vipps MobilePay sends it as a string: 3600 in the test environment,
86400 in production) and fetched again once when a call answers 401. Every call carries the
token, the subscription key, the Merchant-Serial-Number and the Vipps-System-* headers; every
call that moves money an Idempotency-Key. Errors come as RFC 7807 problems (`title`, `detail`,
`extraDetails`). Neither the token nor a secret is ever put in an error message or a log line.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from attrs import field, frozen

from justdriving.adapters.bearer_tokens import BearerTokens
from justdriving.adapters.json_answers import json_answer
from justdriving.adapters.provider_http import ProviderHttp, Reason, problem_of
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    ProviderUnavailable,
)

TOKEN_PATH = "/accesstoken/get"  # noqa: S105 - a URL path, not a secret
TOKEN_MARGIN = 300.0
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CREDENTIAL_SETTINGS = (
    "MOBILEPAY_CLIENT_ID",
    "MOBILEPAY_CLIENT_SECRET",
    "MOBILEPAY_SUBSCRIPTION_KEY",
    "MOBILEPAY_MERCHANT_SERIAL_NUMBER",
)
SYSTEM_HEADERS = {
    "Vipps-System-Name": "justdriving",
    "Vipps-System-Version": "0.1",
    "Vipps-System-Plugin-Name": "justdriving-payments",
    "Vipps-System-Plugin-Version": "0.1",
}


@frozen
class Credentials:
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)
    merchant_serial_number: str


class MobilePayApi:
    """Authenticated JSON calls to one Vipps MobilePay environment (`api_base`)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_base: str,
        provider: str,
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._api_base = api_base.rstrip("/")
        self._credentials = credentials
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._tokens = BearerTokens(self._fetch_token, margin=TOKEN_MARGIN, monotonic=monotonic)
        self._errors = ProviderHttp(
            provider,
            "Vipps MobilePay",
            settings=CREDENTIAL_SETTINGS,
            reason=_describe,
            address_settings=["MOBILEPAY_API_BASE"],
        )

    def __repr__(self) -> str:
        return f"MobilePayApi({self._api_base!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def call(
        self, method: str, path: str, *, body: Any = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """One call; a 401 renews the token and repeats the call once, with the same key."""
        content = None if body is None else json.dumps(body).encode()
        response = self._tokens.call(
            lambda token: self._send(method, path, token, content, idempotency_key)
        )
        return self._result(method, path, response)

    def call_list(self, method: str, path: str) -> list[Any]:
        """A call whose answer is a JSON array (the Recurring API's lists)."""
        response = self._tokens.call(lambda token: self._send(method, path, token, None, None))
        if response.status_code >= 300:
            raise self.error_for(method, path, response)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, list):
            raise ProviderUnavailable(
                self.provider, f"{method} {path} answered {response.status_code} without a list"
            )
        return data

    # Tokens.

    def _fetch_token(self) -> tuple[str, float]:
        credentials = self._credentials
        headers = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "Ocp-Apim-Subscription-Key": credentials.subscription_key,
            "Merchant-Serial-Number": credentials.merchant_serial_number,
            **SYSTEM_HEADERS,
        }
        response = self._errors.send(
            self._http,
            "POST",
            self._api_base + TOKEN_PATH,
            what=f"POST {TOKEN_PATH}",
            write=False,  # a token changes nothing
            headers=headers,
        )
        if response.status_code in (400, 401, 403):
            raise ConfigurationError(
                f"Vipps MobilePay refused the API keys ({response.status_code})",
                CREDENTIAL_SETTINGS,
            )
        data = self._result("POST", TOKEN_PATH, response)
        value, lifetime = data.get("access_token"), _seconds(data.get("expires_in"))
        if not isinstance(value, str) or not value or lifetime is None:
            raise ProviderUnavailable(self.provider, "the token response has no token")
        return value, lifetime

    # Requests and answers.

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        content: bytes | None,
        idempotency_key: str | None,
    ) -> httpx.Response:
        headers = {
            "Ocp-Apim-Subscription-Key": self._credentials.subscription_key,
            "Merchant-Serial-Number": self._credentials.merchant_serial_number,
            **SYSTEM_HEADERS,
        }
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self._errors.send_json(
            self._http, method, self._api_base, path, token=token, content=content, headers=headers
        )

    def _result(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        return json_answer(self.provider, method, path, response, self.error_for)

    def error_for(self, method: str, path: str, response: httpx.Response) -> JustDrivingError:
        """The justdriving error for a Vipps MobilePay error answer."""
        return self._errors.error_for(response, f"{method} {path}", write=method != "GET")


def _seconds(value: Any) -> float | None:
    if type(value) is int and value > 0:
        return float(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return float(int(value))
    return None


def _describe(response: httpx.Response) -> Reason:
    """The reason in a problem body: the code or first extraDetails name, else the title."""
    problem = problem_of(response, "extraDetails")
    if problem is None:
        return Reason.of_status(response)
    body, first = problem
    named = first.get("name")
    code = body.get("code") or named or body.get("title") or body.get("error")
    text = body.get("detail") or body.get("error_description") or ""
    trace = body.get("traceId")
    suffix = f" (traceId {trace})" if trace else ""
    # A problem's detail may quote the request: no phone number (a run of 8+ digits) goes on.
    detail = re.sub(r"\+?\d[\d ]{7,}\d", "<number>", str(text)[:300])
    return Reason(str(code or response.status_code), f"{detail}{suffix}")
