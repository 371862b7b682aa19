"""PayPal's REST API over httpx: an OAuth2 client-credentials token, PayPal-Request-Id, and every
failure translated into a justdriving error at this boundary.

The token is cached until `TOKEN_MARGIN` seconds before `expires_in` and fetched again once when
a call answers 401 (PayPal may revoke a token early). Neither the token nor the client secret is
ever put into an error message or a log line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from justdriving.adapters.bearer_tokens import BearerTokens
from justdriving.adapters.json_answers import json_answer
from justdriving.adapters.provider_http import ProviderHttp, Reason, problem_of
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    PaymentDeclined,
    ProviderUnavailable,
)

TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 - a URL path, not a secret
TOKEN_MARGIN = 300.0  # renew a token this many seconds before PayPal says it expires
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CREDENTIAL_SETTINGS = ("PAYMENT_PROVIDER_KEY", "PAYMENT_PROVIDER_SECRET")

# 422 issues that mean the payer's funding was refused, not that our request was wrong
# (Orders v2 capture/authorize and Payments v2 capture error tables).
DECLINE_ISSUES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "TRANSACTION_REFUSED",
        "PAYER_CANNOT_PAY",
        "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
        "PAYER_ACCOUNT_RESTRICTED",
        "PAYER_ACTION_REQUIRED",
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
        "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
        "TRANSACTION_LIMIT_EXCEEDED",
        "TRANSACTION_BLOCKED_BY_PAYEE",
        "DECLINED_DUE_TO_RELATED_TXN",
        "COMPLIANCE_VIOLATION",
        "AUTHORIZATION_DENIED",
        "CARD_EXPIRED",
    }
)


class PayPalApi:
    """Authenticated JSON calls to one PayPal environment (`api_base`)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        api_base: str,
        provider: str,
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._api_base = api_base.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._tokens = BearerTokens(self._fetch_token, margin=TOKEN_MARGIN, monotonic=monotonic)
        self._errors = ProviderHttp(
            provider, "PayPal", settings=CREDENTIAL_SETTINGS, reason=_describe
        )

    def __repr__(self) -> str:
        return f"PayPalApi({self._api_base!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """One call; a 401 renews the token and repeats the call once, with the same request id."""
        content = raw if raw is not None else None if body is None else json.dumps(body).encode()
        response = self._tokens.call(
            lambda token: self._send(method, path, token, content, request_id)
        )
        return self._result(method, path, response)

    # Tokens.

    def _fetch_token(self) -> tuple[str, float]:
        response = self._errors.send(
            self._http,
            "POST",
            self._api_base + TOKEN_PATH,
            what=f"POST {TOKEN_PATH}",
            write=False,  # a token changes nothing
            auth=self._credentials,
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            raise ConfigurationError(
                f"PayPal refused the client credentials ({_oauth_error(response)})",
                CREDENTIAL_SETTINGS,
            )
        data = self._result("POST", TOKEN_PATH, response)
        value, lifetime = data.get("access_token"), data.get("expires_in")
        if not isinstance(value, str) or not value or type(lifetime) is not int:
            raise ProviderUnavailable(self.provider, "PayPal sent a token response without a token")
        return value, lifetime

    # Requests and answers.

    def _send(
        self, method: str, path: str, token: str, content: bytes | None, request_id: str | None
    ) -> httpx.Response:
        headers = {"Prefer": "return=representation"}
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        return self._errors.send_json(
            self._http, method, self._api_base, path, token=token, content=content, headers=headers
        )

    def _result(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        return json_answer(self.provider, method, path, response, self.error_for)

    def error_for(self, method: str, path: str, response: httpx.Response) -> JustDrivingError:
        """The justdriving error for a PayPal error answer."""
        what, write = f"{method} {path}", method != "GET"
        reason = self._errors.reason(response)
        if response.status_code == 409:  # an earlier request with this id is still running
            return ProviderUnavailable(
                self.provider,
                f"{what} answered 409 {reason}",
                provider_code=reason.code,
                possibly_done=write,
            )
        if response.status_code == 422 and reason.code in DECLINE_ISSUES:
            return PaymentDeclined(
                self.provider, f"{what} answered 422 {reason}", provider_code=reason.code
            )
        return self._errors.error_for(response, what, write=write)


def _describe(response: httpx.Response) -> Reason:
    """PayPal's reason: details[0].issue, else name, else the status; its description."""
    problem = problem_of(response, "details")
    if problem is None:
        return Reason.of_status(response)
    body, first = problem
    name = body.get("name") or body.get("error")
    code = first.get("issue") or name or str(response.status_code)
    text = first.get("description") or body.get("message", body.get("error_description", ""))
    debug_id = body.get("debug_id")
    suffix = f" (debug_id {debug_id})" if debug_id else ""
    return Reason(str(code), f"{text}{suffix}")


def _oauth_error(response: httpx.Response) -> str:
    return f"{response.status_code} {_describe(response)}"
