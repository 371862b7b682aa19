"""The accounting providers' OAuth2 (accounting.oauth, on Authlib), run against the Xero and
QuickBooks simulators, which issue single-use codes and rotate refresh tokens: consent URL,
code exchange, refresh with rotation stored before use, racing processes, refusals."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from attrs import define, evolve

from justdriving.adapters.accounting.oauth.app import OAuthApp
from justdriving.adapters.accounting.oauth.consent import OAuthConsent
from justdriving.adapters.accounting.oauth.tokens import GrantTokens
from justdriving.adapters.accounting.quickbooks import identity as quickbooks_identity
from justdriving.adapters.accounting.quickbooks.consent import quickbooks_consent
from justdriving.adapters.accounting.xero import identity as xero_identity
from justdriving.adapters.accounting.xero.consent import xero_consent
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected, ProviderRejected
from justdriving.ports.accounting import GrantStore
from justdriving.testing.quickbooks.simulator import TOKEN_PATH as QUICKBOOKS_TOKEN_PATH
from justdriving.testing.quickbooks.simulator import QuickBooksSimulator
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.endpoints import TOKEN_PATH as XERO_TOKEN_PATH
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator

REDIRECT = "https://school.example/accounting/callback"


@define
class Provider:
    """One provider's simulator, seen through the OAuth package."""

    name: str
    app: OAuthApp
    consent: OAuthConsent
    client_id: str
    tenant_id: str
    scopes: tuple[str, ...]
    authorize_url: str
    access_ttl: int
    connect: Callable[[], OAuthGrant]
    code: Callable[[str], str]
    token_requests: Callable[[], list[Any]]  # each simulator's RecordedRequest


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime()


@pytest.fixture(params=["xero", "quickbooks"])
def provider(request: pytest.FixtureRequest, time: SimulatedTime) -> Iterator[Provider]:
    http = httpx.Client()
    if request.param == "xero":
        with XeroSimulator(clock=time.now) as xero:
            endpoints = xero_identity.endpoints(xero.base_url)
            yield Provider(
                "xero",
                OAuthApp(xero.client_id, xero.client_secret, endpoints, provider="xero", http=http),
                xero_consent(
                    xero.client_id,
                    xero.client_secret,
                    identity_base=xero.base_url,
                    api_base=xero.base_url,
                    clock=time.now,
                ),
                xero.client_id,
                xero.tenant_id,
                xero_identity.SCOPES,
                xero_identity.AUTHORIZE_URL,
                xero.access_ttl,
                xero.grant,
                xero.authorization_code,
                lambda: [r for r in xero.requests if r.path == XERO_TOKEN_PATH],
            )
    else:
        with QuickBooksSimulator(clock=time.now) as quickbooks:
            endpoints = quickbooks_identity.endpoints(quickbooks.token_url)
            yield Provider(
                "quickbooks",
                OAuthApp(
                    quickbooks.client_id,
                    quickbooks.client_secret,
                    endpoints,
                    provider="quickbooks",
                    http=http,
                ),
                quickbooks_consent(
                    quickbooks.client_id,
                    quickbooks.client_secret,
                    token_url=quickbooks.token_url,
                    clock=time.now,
                ),
                quickbooks.client_id,
                quickbooks.realm_id,
                quickbooks_identity.SCOPES,
                quickbooks_identity.AUTHORIZE_URL,
                quickbooks.token_ttl,
                quickbooks.connect,
                quickbooks.authorization_code,
                lambda: [r for r in quickbooks.requests if r.path == QUICKBOOKS_TOKEN_PATH],
            )
    http.close()


def tokens(provider: Provider, grants: GrantStore, time: SimulatedTime) -> GrantTokens:
    return GrantTokens(provider.app, provider.tenant_id, grants, clock=time.now)


class StaleReads:
    """A GrantStore whose first `count` loads answer an old grant, while another process
    refreshes and saves underneath (`meanwhile`, run before the first stale answer)."""

    def __init__(self, store: RecordingGrants, stale: OAuthGrant, count: int) -> None:
        self.store, self.stale, self.count = store, stale, count
        self.meanwhile: Callable[[], object] = lambda: None

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        if self.count > 0:
            if self.count == 2:
                self.meanwhile()
            self.count -= 1
            return evolve(self.stale)
        return self.store.load(provider, tenant_id)

    def save(self, grant: OAuthGrant) -> None:
        self.store.save(grant)


# Connecting.


def test_the_consent_url_carries_state_scopes_and_redirect_uri(provider: Provider) -> None:
    url = provider.consent.authorize_url(REDIRECT, "st4te-from-the-cli")

    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    assert url.startswith(provider.authorize_url + "?")
    assert query["state"] == "st4te-from-the-cli"
    assert query["scope"].split(" ") == list(provider.scopes)
    assert query["redirect_uri"] == REDIRECT
    assert query["response_type"] == "code"
    assert query["client_id"]


def test_a_code_is_exchanged_with_http_basic_client_auth_and_the_same_redirect_uri(
    provider: Provider, time: SimulatedTime
) -> None:
    connection = provider.consent.exchange_code(
        provider.code(REDIRECT), REDIRECT, provider.tenant_id
    )

    grant = connection.grant
    assert grant.tenant_id.lower() == provider.tenant_id.lower()
    assert grant.expires_at == time.now() + timedelta(seconds=provider.access_ttl)
    [request] = provider.token_requests()
    form = parse_qs(request.body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == [REDIRECT]
    assert "client_secret" not in form
    scheme, _, credentials = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode().split(":")[0] == provider.client_id


def test_a_code_used_twice_is_refused(provider: Provider) -> None:
    code = provider.code(REDIRECT)
    provider.consent.exchange_code(code, REDIRECT, provider.tenant_id)

    with pytest.raises(ProviderRejected, match="authorisation code") as refused:
        provider.consent.exchange_code(code, REDIRECT, provider.tenant_id)
    assert refused.value.provider_code == "invalid_grant"
    assert "authorize-url" in str(refused.value)  # how to get a new code


def test_a_code_sent_with_another_redirect_uri_is_refused(provider: Provider) -> None:
    code = provider.code(REDIRECT)

    with pytest.raises(ProviderRejected) as refused:
        provider.consent.exchange_code(code, REDIRECT + "/elsewhere", provider.tenant_id)
    assert refused.value.provider_code == "invalid_grant"


# Refreshing.


def test_a_rotated_refresh_token_is_stored_before_the_access_token_is_used(
    provider: Provider, time: SimulatedTime
) -> None:
    first = provider.connect()
    log: list[tuple[str, str]] = []
    grants = RecordingGrants(first, on_save=lambda g: log.append(("saved", g.access_token)))
    time.advance(provider.access_ttl)

    token = tokens(provider, grants, time).access_token()
    log.append(("used", token))

    assert log == [("saved", token), ("used", token)]
    [saved] = grants.saved
    assert saved.refresh_token != first.refresh_token


def test_a_token_that_could_not_be_stored_is_not_used_and_is_stored_first_next_time(
    provider: Provider, time: SimulatedTime
) -> None:
    grants = RecordingGrants(provider.connect())
    grants.fail_next_save(OSError("database unavailable"))
    ours = tokens(provider, grants, time)
    time.advance(provider.access_ttl)

    with pytest.raises(OSError, match="database unavailable"):
        ours.access_token()
    token = ours.access_token()

    [saved] = grants.saved
    assert saved.access_token == token
    assert len(provider.token_requests()) == 1  # saved now, not refreshed a second time
    time.advance(provider.access_ttl)
    assert tokens(provider, grants, time).access_token() != token  # the stored one rotates on


def test_a_refused_refresh_says_the_school_must_reconnect(
    provider: Provider, time: SimulatedTime
) -> None:
    revoked = evolve(provider.connect(), refresh_token="revoked-long-ago")
    grants = RecordingGrants(revoked)
    time.advance(provider.access_ttl)

    with pytest.raises(BooksNotConnected, match="invalid_grant") as refused:
        tokens(provider, grants, time).access_token()
    assert "the school must connect its books again" in str(refused.value)
    assert grants.saved == []


def test_a_process_that_rotated_first_is_followed_through_the_store(
    provider: Provider, time: SimulatedTime
) -> None:
    grants = RecordingGrants(provider.connect())
    ours, theirs = tokens(provider, grants, time), tokens(provider, grants, time)
    ours.access_token()  # ours holds the grant in memory
    time.advance(provider.access_ttl)

    token = theirs.access_token()  # theirs rotates it: what ours holds is spent

    assert ours.access_token() == token
    assert len(provider.token_requests()) == 1


def test_a_refresh_that_loses_the_race_to_another_process_carries_on_with_its_token(
    provider: Provider, time: SimulatedTime
) -> None:
    old = provider.connect()
    store = RecordingGrants(old)
    racing = StaleReads(store, old, count=2)
    theirs = tokens(provider, store, time)
    racing.meanwhile = theirs.access_token  # rotates the refresh token ours read a moment ago
    time.advance(provider.access_ttl)

    token = tokens(provider, racing, time).access_token()

    [theirs_saved] = store.saved  # ours' refresh was refused; theirs' rotated token survives
    assert token == theirs_saved.access_token
    assert store.refresh_token(provider.name, provider.tenant_id) == theirs_saved.refresh_token
    assert len(provider.token_requests()) == 2  # theirs' refresh, and ours' refused one
