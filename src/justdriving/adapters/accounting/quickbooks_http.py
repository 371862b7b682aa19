"""QuickBooks Online over httpx: OAuth2 with rotating refresh tokens, the batch endpoint, pacing,
and every failure translated into a justdriving error at this boundary.

Tokens: the grant lives in the GrantStore (provider = the client's name, tenant = the realm id).
Each refresh returns a new refresh token that replaces the old one, so the new grant is saved
to the store *before* its access token is used: a crash after the save loses nothing, and a
save that fails stops the call. The grant is loaded from the store again before each refresh,
because another worker may have rotated it already. Secrets never reach an error message.

Calls: POST /v3/company/{realm}/batch?minorversion=..&requestid=... A 429 was not processed:
it waits Retry-After (or a growing backoff) and sends the same request with the same
requestid. A 5xx or a lost answer may have been processed: ProviderUnavailable with
possibly_done=True, and the caller retries with the same key, which QuickBooks replays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from justdriving.adapters import exact_json
from justdriving.adapters.accounting.quickbooks_limits import RequestPacer
from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected, ProviderUnavailable
from justdriving.ports.accounting import GrantStore

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
TOKEN_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires
CREDENTIAL_SETTINGS = ("ACCOUNTING_API_KEY", "ACCOUNTING_API_SECRET")
MAX_RETRIES = 3  # 429s waited out per call before giving up with ProviderUnavailable
MAX_WAIT = 60.0  # a Retry-After longer than this is handed to the caller instead


class QuickBooksApi:
    """Authenticated batch calls to one QuickBooks company (realm)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        realm_id: str,
        grants: GrantStore,
        *,
        api_base: str,
        token_url: str,
        minorversion: int,
        provider: str,
        clock: Callable[[], datetime],
        pacer: RequestPacer,
        http: httpx.Client | None = None,
    ) -> None:
        self.provider, self.realm_id = provider, realm_id
        self._credentials = (client_id, client_secret)
        self._grants, self._clock, self._pacer = grants, clock, pacer
        self._batch_url = f"{api_base.rstrip('/')}/v3/company/{realm_id}/batch"
        self._token_url, self._minorversion = token_url, minorversion
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._grant: OAuthGrant | None = None
        self._lock = threading.Lock()
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
            token = self._access_token()
            response = self._post(body, params, token, writes=writes)
            if response.status_code == 401 and not renewed:
                renewed = True
                response = self._post(body, params, self._access_token(token), writes=writes)
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

    # Tokens.

    def _access_token(self, rejected: str | None = None) -> str:
        """A live access token; `rejected` is one QuickBooks just refused (answered 401)."""
        with self._lock:
            grant = self._grant
            if grant is None or grant.access_token == rejected or self._expiring(grant):
                # From the store: another worker may have rotated the grant already.
                grant = self._grants.load(self.provider, self.realm_id)
                if grant is None:
                    raise BooksNotConnected(
                        f"QuickBooks company {self.realm_id} is not connected (no OAuth grant)"
                    )
                if grant.access_token == rejected or self._expiring(grant):
                    grant = self._refresh(grant)
                self._grant = grant
            return grant.access_token

    def _expiring(self, grant: OAuthGrant) -> bool:
        return self._clock() >= grant.expires_at - TOKEN_MARGIN

    def _refresh(self, grant: OAuthGrant) -> OAuthGrant:
        asked_at = self._clock()
        response = self._errors.send(
            self._http,
            "POST",
            self._token_url,
            what="the token refresh",
            write=False,  # the old refresh token stays valid until a new one is saved
            auth=self._credentials,
            data={"grant_type": "refresh_token", "refresh_token": grant.refresh_token},
            headers={"Accept": "application/json"},
        )
        if response.status_code in (400, 401, 403):
            raise BooksNotConnected(
                f"QuickBooks refused the token refresh ({oauth_error(response)}); "
                "reconnect the company",
                CREDENTIAL_SETTINGS,
            )
        data = read_json(self._checked(response, writes=False), self.provider)
        access, refresh, lifetime = (
            data.get("access_token"),
            data.get("refresh_token"),
            data.get("expires_in"),
        )
        if not isinstance(access, str) or not access or not isinstance(lifetime, int | Decimal):
            raise ProviderUnavailable(self.provider, "the token answer has no access token")
        renewed = OAuthGrant(
            id=OAuthGrant.key(self.provider, self.realm_id),
            provider=self.provider,
            tenant_id=self.realm_id,
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else grant.refresh_token,
            expires_at=asked_at + timedelta(seconds=int(lifetime)),
        )
        self._grants.save(renewed)  # before the access token is used: the old refresh is spent
        return renewed


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


def oauth_error(response: httpx.Response) -> str:
    """A token endpoint's refusal as status and OAuth error code, e.g. "400 invalid_grant"."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    return f"{response.status_code} {error or response.reason_phrase}"


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))
