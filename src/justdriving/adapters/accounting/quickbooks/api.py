"""QuickBooks Online over httpx: the batch endpoint, pacing, and every failure translated into
a justdriving error at this boundary.

Tokens come from accounting.oauth (GrantTokens: the grant lives in the GrantStore, provider =
the client's name, tenant = the realm id; each refresh rotates the refresh token, saved before
use). A 401 renews the token once and sends the call again. Secrets never reach an error message.

Calls: POST /v3/company/{realm}/batch?minorversion=..&requestid=... A 429 was not processed:
it waits Retry-After (or a growing backoff) and sends the same request with the same
requestid. A 5xx or a lost answer may have been processed: ProviderUnavailable with
possibly_done=True, and the caller retries with the same key, which QuickBooks replays.
"""

from __future__ import annotations

from typing import Any

import httpx

from justdriving.adapters import exact_json
from justdriving.adapters.accounting.oauth.tokens import GrantTokens
from justdriving.adapters.accounting.quickbooks.limits import RequestPacer
from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import (
    BooksNotConnected,
    ProviderUnavailable,
)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
CREDENTIAL_SETTINGS = ("ACCOUNTING_API_KEY", "ACCOUNTING_API_SECRET")
MAX_RETRIES = 3  # 429s waited out per call before giving up with ProviderUnavailable
MAX_WAIT = 60.0  # a Retry-After longer than this is handed to the caller instead


class QuickBooksApi:
    """Authenticated batch calls to one QuickBooks company (realm)."""

    def __init__(
        self,
        tokens: GrantTokens,
        *,
        api_base: str,
        minorversion: int,
        provider: str,
        pacer: RequestPacer,
        http: httpx.Client,
        owns_http: bool,
    ) -> None:
        self.provider, self.realm_id = provider, tokens.tenant_id
        self._tokens, self._pacer, self._http = tokens, pacer, http
        self._owns_http = owns_http
        self._batch_url = f"{api_base.rstrip('/')}/v3/company/{self.realm_id}/batch"
        self._minorversion = minorversion
        self._errors = ProviderHttp(
            provider,
            "QuickBooks",
            settings=(*CREDENTIAL_SETTINGS, "reconnect the company"),
            reason=_fault,
            refused=BooksNotConnected,
        )

    def __repr__(self) -> str:
        return f"QuickBooksApi(realm={self.realm_id!r}, url={self._batch_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def batch(
        self, items: list[dict[str, Any]], *, request_id: str | None
    ) -> dict[str, dict[str, Any]]:
        """Send BatchItemRequest items; the BatchItemResponse items by bId. `request_id` makes
        a write idempotent (None for reads, which a lost answer cannot have done)."""
        body = exact_json.encode({"BatchItemRequest": items})
        params = {"minorversion": str(self._minorversion)}
        if request_id is not None:
            params["requestid"] = request_id
        response = self._send(body, params, writes=request_id is not None)
        answered = read_json(response, self.provider).get("BatchItemResponse")
        if not isinstance(answered, list):
            raise ProviderUnavailable(self.provider, "the batch answer has no BatchItemResponse")
        return {str(item.get("bId")): item for item in answered if isinstance(item, dict)}

    # Sending.

    def _send(self, body: bytes, params: dict[str, str], *, writes: bool) -> httpx.Response:
        renewed = False
        for attempt in range(MAX_RETRIES + 1):
            token = self._tokens.access_token()
            response = self._post(body, params, token, writes=writes)
            if response.status_code == 401 and not renewed:
                renewed = True
                response = self._post(body, params, self._tokens.renew(token), writes=writes)
            if response.status_code != 429:
                return self._checked(response, writes=writes)
            wait = _retry_after(response) or float(2**attempt)
            if attempt == MAX_RETRIES or wait > MAX_WAIT:
                raise ProviderUnavailable(
                    self.provider,
                    "QuickBooks throttled the call (429)",
                    provider_code="ThrottleExceeded",
                    retry_after=wait,
                )
            self._pacer.hold(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(
        self, body: bytes, params: dict[str, str], token: str, *, writes: bool
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        with self._pacer.call(batch=True):
            return self._errors.send(
                self._http,
                "POST",
                self._batch_url,
                what="POST batch",
                write=writes,
                params=params,
                headers=headers,
                content=body,
            )

    def _checked(self, response: httpx.Response, *, writes: bool) -> httpx.Response:
        if response.status_code >= 300:
            raise self._errors.error_for(response, "POST batch", write=writes)
        return response


def read_json(response: httpx.Response, provider: str) -> dict[str, Any]:
    """The JSON object QuickBooks answered, or ProviderUnavailable."""
    try:
        data = exact_json.decode(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderUnavailable(
            provider, f"QuickBooks answered {response.status_code} without JSON"
        )
    return data


def _fault(response: httpx.Response) -> Reason:
    """The reason in a QuickBooks Fault body, or the status when there is none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    fault = body.get("Fault") or body.get("fault") if isinstance(body, dict) else None
    errors = fault.get("Error") or fault.get("error") if isinstance(fault, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return Reason.of_status(response)
    code = str(first.get("code") or response.status_code)
    return Reason(
        code, f"{first.get('Message') or first.get('message', '')}: {first.get('Detail', '')}"
    )


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))
