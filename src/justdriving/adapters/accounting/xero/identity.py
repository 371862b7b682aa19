"""Xero's OAuth2 tokens for one organisation: the refresh-token flow on top of a GrantStore.

Xero's access tokens live 30 minutes; its refresh tokens 60 days, and each refresh ROTATES the
refresh token (the old one stops working). So the new grant is saved to the GrantStore (a durable
write) before the new access token is used: a crash after the refresh then loses nothing. A save
that fails is tried again before the next call, and the error is raised meanwhile.

The first grant comes from Xero's authorisation-code flow (a person consents in a browser):
xero.consent exchanges the code and `justdriving accounting connect` stores it.
When another process sharing the store refreshed first, Xero refuses our (now old) refresh token
with invalid_grant; the stored grant is then read again and used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected, ConfigurationError, ProviderUnavailable
from justdriving.ports.accounting import GrantStore

TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path


def token_url(identity: str) -> str:
    """Xero's token endpoint from ACCOUNTING_TOKEN_URL: the identity server's root
    (`https://identity.xero.com`, a simulator's address) or the endpoint's full URL."""
    identity = identity.rstrip("/")
    return identity if identity.endswith(TOKEN_PATH) else identity + TOKEN_PATH


REFRESH_MARGIN = timedelta(seconds=60)  # refresh when the access token has less left than this
CREDENTIAL_SETTINGS = ("ACCOUNTING_API_KEY", "ACCOUNTING_API_SECRET")


class XeroTokens:
    """The current access token for (provider, tenant), refreshed and rotated as needed."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        tenant_id: str,
        grants: GrantStore,
        *,
        identity_base: str,
        provider: str,
        http: httpx.Client,
        clock: Callable[[], datetime],
    ) -> None:
        self.provider, self.tenant_id = provider, tenant_id
        self._credentials = (client_id, client_secret)
        self._grants, self._http, self._clock = grants, http, clock
        self._token_url = token_url(identity_base)
        self._grant: OAuthGrant | None = None
        self._unsaved: OAuthGrant | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"XeroTokens(provider={self.provider!r}, tenant_id={self.tenant_id!r})"

    def access_token(self) -> str:
        """A token with at least REFRESH_MARGIN left (refreshing, and saving, if need be)."""
        with self._lock:
            return self._usable(self._current()).access_token

    def renew(self, refused: str) -> str:
        """After a 401 for `refused`: a newer token, from another thread, the store or Xero."""
        with self._lock:
            grant = self._current()
            if grant.access_token != refused:
                return grant.access_token
            stored = self._load()
            if stored.access_token != refused and not self._expiring(stored):
                self._grant = stored
                return stored.access_token
            return self._refresh(stored).access_token

    # Mechanics (under the lock).

    def _current(self) -> OAuthGrant:
        if self._unsaved is not None:
            self._keep(self._unsaved)
        if self._grant is None:
            self._grant = self._load()
        return self._grant

    def _usable(self, grant: OAuthGrant) -> OAuthGrant:
        return self._refresh(grant) if self._expiring(grant) else grant

    def _expiring(self, grant: OAuthGrant) -> bool:
        return grant.expires_at - self._clock() < REFRESH_MARGIN

    def _load(self) -> OAuthGrant:
        grant = self._grants.load(self.provider, self.tenant_id)
        if grant is None:
            raise BooksNotConnected(
                f"Xero is not connected for tenant {self.tenant_id}: no OAuth grant is stored. "
                "Connect the organisation in Xero (authorisation-code flow) and store the grant "
                f"with GrantStore.save under provider {self.provider!r}",
                (f"OAuthGrant {OAuthGrant.key(self.provider, self.tenant_id)}",),
            )
        return grant

    def _refresh(self, grant: OAuthGrant, *, again: bool = True) -> OAuthGrant:
        answer = self._ask(grant.refresh_token)
        if answer.get("error") == "invalid_grant":
            stored = self._load()
            if again and stored.refresh_token != grant.refresh_token:
                # Another process rotated it first and saved the result: carry on from there.
                self._grant = stored
                return self._refresh(stored, again=False) if self._expiring(stored) else stored
            raise BooksNotConnected(
                "Xero refused the stored refresh token (invalid_grant: expired after 60 days, "
                "already used, or the app was disconnected); connect the organisation again",
                (f"OAuthGrant {OAuthGrant.key(self.provider, self.tenant_id)}",),
            )
        fresh = grant_from(answer, self.provider, self.tenant_id, self._clock())
        fresh.version = grant.version
        self._unsaved = fresh
        self._keep(fresh)
        return fresh

    def _keep(self, grant: OAuthGrant) -> None:
        """Save, then (only then) use: the rotated refresh token must outlive a crash."""
        self._grants.save(grant)
        self._grant, self._unsaved = grant, None

    def _ask(self, refresh_token: str) -> dict[str, object]:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return ask_token(self._http, self._token_url, self._credentials, form, self.provider)


def ask_token(
    http: httpx.Client,
    token_url: str,
    credentials: tuple[str, str],
    form: dict[str, str],
    provider: str,
) -> dict[str, object]:
    """POST a grant to Xero's token endpoint (client id and secret as HTTP Basic auth): the
    answer, or the body of an invalid_grant refusal, for the caller to judge."""
    try:
        response = http.post(
            token_url, auth=credentials, data=form, headers={"Accept": "application/json"}
        )
    except httpx.TransportError as error:
        # Xero may have issued the tokens and the answer was lost (see the module docstring).
        raise ProviderUnavailable(
            provider, f"the token request failed: {type(error).__name__}", possibly_done=True
        ) from error
    body = _json(response)
    if response.status_code == 400 and body.get("error") == "invalid_grant":
        return body
    if response.status_code in (400, 401, 403):
        raise ConfigurationError(
            f"Xero refused the client credentials ({response.status_code} {body.get('error', '')})",
            CREDENTIAL_SETTINGS,
        )
    if response.status_code != 200:
        raise ProviderUnavailable(
            provider,
            f"the token endpoint answered {response.status_code}",
            possibly_done=response.status_code >= 500,
        )
    return body


def grant_from(
    answer: dict[str, object], provider: str, tenant_id: str, now: datetime
) -> OAuthGrant:
    """The OAuthGrant a token answer (refresh or code exchange) gives for `tenant_id`."""
    return OAuthGrant(
        id=OAuthGrant.key(provider, tenant_id),
        provider=provider,
        tenant_id=tenant_id,
        access_token=_text(answer, "access_token", provider),
        refresh_token=_text(answer, "refresh_token", provider),
        expires_at=now + timedelta(seconds=_seconds(answer, provider)),
    )


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(answer: dict[str, object], name: str, provider: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderUnavailable(
            provider, f"Xero's token answer has no {name}", possibly_done=True
        )
    return value


def _seconds(answer: dict[str, object], provider: str) -> int:
    value = answer.get("expires_in")
    if type(value) is not int or value <= 0:
        raise ProviderUnavailable(provider, "Xero's token answer has no expires_in")
    return value
