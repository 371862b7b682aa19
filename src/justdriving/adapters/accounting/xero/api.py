"""Calls to Xero's Accounting API for one organisation, over httpx: the bearer token and the
`xero-tenant-id` header, an Idempotency-Key on every write, pacing by the XeroRateLimiter, and
every failure translated into a justdriving error here.

- 401: the token is renewed once and the call repeated; a second 401, or a 403 (wrong tenant,
  app disconnected, missing scope), is a ConfigurationError.
- 429: `X-Rate-Limit-Problem: day` raises ProviderUnavailable(provider_code="daily_limit",
  retry_after=seconds to Xero's reset): the sync stops cleanly and resumes on its next run.
  Any other problem (minute, concurrent) pauses the tenant for Retry-After seconds and sends
  the same request again, with the same Idempotency-Key, up to MAX_THROTTLED times.
- 400 with per-element validation errors raises RefusedElements (a ProviderRejected carrying
  the elements, for the caller to map to records); any other 400/404 is ProviderRejected.
- 5xx, timeouts and lost connections are ProviderUnavailable, possibly_done for a write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from justdriving.adapters import exact_json
from justdriving.adapters.accounting.oauth.tokens import GrantTokens
from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import BooksNotConnected, ProviderRejected, ProviderUnavailable

API_PATH = "/api.xro/2.0"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
MAX_KEY = 128  # Idempotency-Key: at most 128 characters
MAX_THROTTLED = 4  # minute/concurrency 429s in a row before giving up on a call
MAX_PAUSE = 120.0  # a Retry-After longer than this is not waited for in-process
_WRITES = frozenset({"POST", "PUT"})


def idempotency_key(key: str, part: str = "") -> str:
    """The header for our key (and a stable sub-request suffix), hashed when too long."""
    value = f"{key}:{part}" if part else key
    if not value or len(value) > MAX_KEY:
        return hashlib.sha256(value.encode()).hexdigest()
    return value


class RefusedElements(ProviderRejected):
    """Xero answered 400 with the request's elements, each with its ValidationErrors."""

    def __init__(self, provider: str, message: str, elements: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(provider, message, provider_code="ValidationException")
        self.elements = list(elements)


class XeroApi:
    """Authenticated, paced JSON calls for one tenant."""

    def __init__(
        self,
        tokens: GrantTokens,
        limiter: XeroRateLimiter,
        *,
        api_base: str,
        provider: str,
        http: httpx.Client,
    ) -> None:
        self.provider, self.tenant_id = provider, tokens.tenant_id
        self._tokens, self._limiter, self._http = tokens, limiter, http
        self._base = api_base.rstrip("/") + API_PATH
        self._errors = ProviderHttp(
            provider,
            "Xero",
            settings=(
                "ACCOUNTING_API_KEY",
                "ACCOUNTING_API_SECRET",
                f"tenant {self.tenant_id} (is the organisation still connected?)",
            ),
            reason=_reason,
            refused=BooksNotConnected,
        )

    def __repr__(self) -> str:
        return f"XeroApi({self._base!r}, tenant_id={self.tenant_id!r})"

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        content = None if body is None else exact_json.encode(body)
        for attempt in range(MAX_THROTTLED + 1):
            response = self._authorised(method, path, content, params, key)
            if response.status_code != 429:
                return self._result(method, path, response)
            wait = self._throttled(method, path, response, final=attempt == MAX_THROTTLED)
            self._limiter.pause(self.tenant_id, wait)
        raise AssertionError("unreachable")  # pragma: no cover - _throttled raises at the end

    def _authorised(
        self,
        method: str,
        path: str,
        content: bytes | None,
        params: Mapping[str, str] | None,
        key: str | None,
    ) -> httpx.Response:
        token = self._tokens.access_token()
        response = self._send(method, path, token, content, params, key)
        if response.status_code == 401:
            response = self._send(method, path, self._tokens.renew(token), content, params, key)
        if response.status_code in (401, 403):
            raise self._errors.refused_credentials(
                response.status_code, self._errors.reason(response)
            )
        return response

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        content: bytes | None,
        params: Mapping[str, str] | None,
        key: str | None,
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
        }
        if content is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        with self._limiter.call(self.tenant_id):
            return self._errors.send(
                self._http,
                method,
                self._base + path,
                what=f"{method} {path}",
                write=method in _WRITES,
                headers=headers,
                content=content,
                params=params,
            )

    def _throttled(self, method: str, path: str, response: httpx.Response, *, final: bool) -> float:
        """Seconds to wait before sending again, or the ProviderUnavailable to stop with."""
        problem = response.headers.get("X-Rate-Limit-Problem", "").strip().lower()
        wait = _retry_after(response)
        if problem == "day":
            raise ProviderUnavailable(
                self.provider,
                f"Xero's daily call limit for tenant {self.tenant_id} is reached",
                provider_code="daily_limit",
                retry_after=wait,
            )
        if final or (wait is not None and wait > MAX_PAUSE):
            raise ProviderUnavailable(
                self.provider,
                f"{method} {path} stayed throttled ({problem or 'no problem given'})",
                provider_code=f"{problem or 'rate'}_limit",
                retry_after=wait,
            )
        return 1.0 if wait is None else wait

    def _result(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        status, what = response.status_code, f"{method} {path}"
        body = _body(response)
        if status >= 300:
            elements = body.get("Elements") if body is not None else None
            if status == 400 and isinstance(elements, list) and elements:
                message = f"{what} answered 400 {self._errors.reason(response).text}"
                raise RefusedElements(self.provider, message, elements)
            raise self._errors.error_for(response, what, write=method in _WRITES)
        if body is None:
            raise ProviderUnavailable(
                self.provider,
                f"{what} answered {status} without a JSON object",
                possibly_done=method in _WRITES,
            )
        return body


def _body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = exact_json.decode(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _reason(response: httpx.Response) -> Reason:
    """Xero's error Type (else the status) and its Message, Detail or Title."""
    body = _body(response) or {}
    text = body.get("Message") or body.get("Detail") or body.get("Title") or ""
    phrase = f"{response.reason_phrase}: {text}" if text else response.reason_phrase
    return Reason(str(body.get("Type") or response.status_code), phrase)


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))
