"""One OAuth2 app (client id and secret) at one provider's endpoints, through Authlib's OAuth 2
client: the consent URL, the authorization-code exchange and the refresh-token grant, the
client authenticated by HTTP Basic. Every answer or refusal of the token endpoint becomes a
justdriving error here; no token ever reaches a message.

Authlib sends over the httpx client it is given (the adapter's own, with its timeouts), and
calls `keep` (its update_token hook) with each refreshed grant before handing it back, so a
rotated refresh token is stored before its access token can be used.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from attrs import frozen
from authlib.oauth2 import ClientAuth, OAuth2Error
from authlib.oauth2.client import OAuth2Client

from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable

CREDENTIAL_SETTINGS = ("ACCOUNTING_API_KEY", "ACCOUNTING_API_SECRET")
RECONNECT = "open `justdriving accounting authorize-url` again for a new code"


@frozen
class Endpoints:
    """What tells one provider's OAuth2 from another's."""

    name: str  # "Xero", "QuickBooks": for messages
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    refresh_margin: timedelta  # refresh when the access token has less left than this


class InvalidGrant(ProviderRejected):
    """The token endpoint refused the code or refresh token (invalid_grant): used, expired,
    revoked, or issued for another redirect URI."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(provider, message, provider_code="invalid_grant")


class _ClientAuth(httpx.Auth, ClientAuth):
    """Authlib's client authentication (client_secret_basic) on an httpx request."""

    requires_request_body = True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self.prepare(  # type: ignore[no-untyped-call]  # stubs lack it
            request.method, str(request.url), request.headers, b""
        )
        request.headers.update(headers)
        yield request


class _Session(OAuth2Client):
    """Authlib's protocol client over the adapter's httpx client. (Authlib's httpx_client
    integration would be an httpx client of its own, and it is deprecated for httpx2.)"""

    client_auth_class = _ClientAuth


class OAuthApp:
    """The consent URL, code exchange and refresh of one app at one provider."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: Endpoints,
        *,
        provider: str,
        http: httpx.Client,
    ) -> None:
        self.provider, self.endpoints = provider, endpoints
        self._credentials, self._http = (client_id, client_secret), http

    def __repr__(self) -> str:
        return f"OAuthApp(provider={self.provider!r}, token_url={self.endpoints.token_url!r})"

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        """Where a person consents; the redirect brings back `state` and a code."""
        url, _ = self._session().create_authorization_url(
            self.endpoints.authorize_url,
            state=state,
            redirect_uri=redirect_uri,
            scope=" ".join(self.endpoints.scopes),
        )
        return str(url)

    def exchange(self, code: str, redirect_uri: str) -> Mapping[str, Any]:
        """The token answer for a consent's code (sent with the consent's redirect URI)."""
        try:
            return self._token(
                "the code exchange",
                lambda session: session.fetch_token(
                    self.endpoints.token_url,
                    grant_type="authorization_code",
                    code=code,
                    redirect_uri=redirect_uri,
                ),
                possibly_done=False,
                advice=f"; {RECONNECT}",
            )
        except InvalidGrant as refused:
            raise InvalidGrant(
                self.provider,
                f"{self.endpoints.name} refused the authorisation code (invalid_grant: already "
                f"used, expired, or issued for another redirect URI); {RECONNECT}",
            ) from refused

    def refresh(
        self, refresh_token: str, tenant_id: str, now: datetime, keep: Callable[[OAuthGrant], None]
    ) -> OAuthGrant:
        """The next grant for `tenant_id`, given to `keep` (Authlib's update_token hook) before
        it is returned. An answer without a refresh token keeps the one sent."""
        kept: list[OAuthGrant] = []

        def update_token(token: Mapping[str, Any], **_: object) -> None:
            kept.append(grant_from(token, self.provider, tenant_id, now))
            keep(kept[-1])

        self._token(
            "the token refresh",
            lambda session: session.refresh_token(
                self.endpoints.token_url, refresh_token=refresh_token
            ),
            possibly_done=True,  # the provider may have rotated the token and the answer was lost
            update_token=update_token,
        )
        return kept[-1]

    # Mechanics.

    def _session(self, update_token: Callable[..., None] | None = None) -> _Session:
        client_id, client_secret = self._credentials
        session = _Session(
            self._http,
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            update_token=update_token,
        )
        session.register_compliance_hook("access_token_response", self._judged)
        session.register_compliance_hook("refresh_token_response", self._judged)
        return session

    def _token(
        self,
        what: str,
        ask: Callable[[_Session], Mapping[str, Any]],
        *,
        possibly_done: bool,
        update_token: Callable[..., None] | None = None,
        advice: str = "",
    ) -> Mapping[str, Any]:
        try:
            return ask(self._session(update_token))
        except httpx.TransportError as error:
            raise ProviderUnavailable(
                self.provider,
                f"{what} failed: {type(error).__name__}{advice}",
                possibly_done=possibly_done,
            ) from error
        except OAuth2Error as refusal:
            if refusal.error == "invalid_grant":
                raise InvalidGrant(self.provider, f"{what} was refused (invalid_grant)") from None
            raise ConfigurationError(
                f"{self.endpoints.name} refused the client credentials ({refusal.error})",
                CREDENTIAL_SETTINGS,
            ) from None

    def _judged(self, response: httpx.Response) -> httpx.Response:
        """An OAuth answer (a token, or an `error` for Authlib to raise) passes; anything else
        becomes our error before Authlib reads it."""
        status, body = response.status_code, _json(response)
        if status == 200 and not body:
            raise ProviderUnavailable(
                self.provider, "the token endpoint answered 200 without a token", possibly_done=True
            )
        if status == 200 or "error" in body:
            return response
        if status in (400, 401, 403):
            raise ConfigurationError(
                f"{self.endpoints.name} refused the client credentials ({status})",
                CREDENTIAL_SETTINGS,
            )
        raise ProviderUnavailable(
            self.provider, f"the token endpoint answered {status}", possibly_done=status >= 500
        )


def check_app(name: str, client_id: str, client_secret: str, tenant: tuple[str, str]) -> None:
    """ConfigurationError naming what is missing of the app's client id and secret and of the
    organisation (`tenant`: what the provider calls it, its id)."""
    label, tenant_id = tenant
    given = (("ACCOUNTING_API_KEY", client_id), ("ACCOUNTING_API_SECRET", client_secret))
    missing = [setting for setting, value in (*given, (f"{name} {label}", tenant_id)) if not value]
    if missing:
        raise ConfigurationError(f"{name} needs a client id, a secret and a {label}", missing)


def grant_from(
    token: Mapping[str, Any], provider: str, tenant_id: str, now: datetime
) -> OAuthGrant:
    """The OAuthGrant a token answer (refresh or code exchange) gives for `tenant_id`."""
    return OAuthGrant(
        id=OAuthGrant.key(provider, tenant_id),
        provider=provider,
        tenant_id=tenant_id,
        access_token=_text(token, "access_token", provider),
        refresh_token=_text(token, "refresh_token", provider),
        expires_at=now + timedelta(seconds=_seconds(token)),
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(token: Mapping[str, Any], name: str, provider: str) -> str:
    value = token.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderUnavailable(provider, f"the token answer has no {name}", possibly_done=True)
    return value


def _seconds(token: Mapping[str, Any]) -> int:
    """The access token's lifetime. Without a usable expires_in it counts as spent (0), so it
    is renewed on its next use: refusing here would lose the rotated refresh token, which the
    provider has already swapped for the old one, and with it the school's connection."""
    value = token.get("expires_in")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return 0
    return int(value)
