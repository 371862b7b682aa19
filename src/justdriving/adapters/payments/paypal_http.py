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
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from justdriving.adapters.bearer_tokens import BearerTokens
from justdriving.adapters.json_answers import json_answer
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    PaymentDeclined,
    ProviderRejected,
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
        try:
            response = self._http.post(
                self._api_base + TOKEN_PATH,
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as error:
            raise self._unreachable("POST", TOKEN_PATH, error, possibly_done=False) from error
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
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Prefer": "return=representation",
        }
        if content is not None:
            headers["Content-Type"] = "application/json"
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        try:
            return self._http.request(
                method, self._api_base + path, headers=headers, content=content
            )
        except httpx.UnsupportedProtocol as error:
            raise ConfigurationError(
                f"PayPal API base {self._api_base!r} is not an http(s) URL"
            ) from error
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise self._unreachable(method, path, error, possibly_done=False) from error
        except httpx.TransportError as error:
            raise self._unreachable(method, path, error, possibly_done=method != "GET") from error

    def _unreachable(
        self, method: str, path: str, error: Exception, *, possibly_done: bool
    ) -> ProviderUnavailable:
        return ProviderUnavailable(
            self.provider,
            f"{method} {path} failed: {type(error).__name__}",
            possibly_done=possibly_done,
        )

    def _result(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        return json_answer(self.provider, method, path, response, self.error_for)

    def error_for(self, method: str, path: str, response: httpx.Response) -> JustDrivingError:
        """The justdriving error for a PayPal error answer."""
        status = response.status_code
        issue, text = _describe(response)
        message = f"{method} {path} answered {status} {issue}: {text}"
        if status in (401, 403):
            return ConfigurationError(
                f"PayPal refused the call ({status} {issue})", CREDENTIAL_SETTINGS
            )
        if status == 429 or status == 409 or status >= 500:
            return ProviderUnavailable(
                self.provider,
                message,
                provider_code=issue,
                retry_after=_retry_after(response),
                # 429 was not processed; a 409 is an earlier request with this id still running.
                possibly_done=status != 429 and method != "GET",
            )
        if status == 422 and issue in DECLINE_ISSUES:
            return PaymentDeclined(self.provider, message, provider_code=issue)
        return ProviderRejected(self.provider, message, provider_code=issue)


def _describe(response: httpx.Response) -> tuple[str, str]:
    """(issue, human text) from PayPal's error body: details[0].issue, else name, else status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return str(response.status_code), response.reason_phrase
    details = body.get("details")
    first = details[0] if isinstance(details, list) and details else {}
    issue = first.get("issue") if isinstance(first, dict) else None
    name = body.get("name") or body.get("error")
    code = issue or name or str(response.status_code)
    text = (first.get("description") if isinstance(first, dict) else None) or body.get(
        "message", body.get("error_description", "")
    )
    debug_id = body.get("debug_id")
    suffix = f" (debug_id {debug_id})" if debug_id else ""
    return str(code), f"{text}{suffix}"


def _oauth_error(response: httpx.Response) -> str:
    issue, text = _describe(response)
    return f"{response.status_code} {issue}: {text}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
