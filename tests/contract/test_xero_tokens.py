"""XeroAccountingClient's OAuth2: refresh before expiry or after a 401, rotation of the refresh
token saved before the new access token is used, and the errors that need a person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from attrs import evolve

from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.identity import token_url
from justdriving.domain.accounting import AccountingContact, OAuthGrant
from justdriving.domain.errors import ConfigurationError
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator

START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
STUDENT = AccountingContact("stu_1", "Sofie Hansen", "sofie@example.dk")


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the adapter may catch it)."""


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime(START)


@pytest.fixture
def xero(time: SimulatedTime) -> Iterator[XeroSimulator]:
    with XeroSimulator(clock=time.now) as simulator:
        yield simulator


def client(
    xero: XeroSimulator,
    grants: RecordingGrants,
    time: SimulatedTime,
    http: httpx.Client | None = None,
    **options: object,
) -> XeroAccountingClient:
    settings: dict[str, object] = {
        "api_base": xero.base_url,
        "identity_base": xero.base_url,
        "clock": time.now,
        "monotonic": time.monotonic,
        "sleep": time.sleep,
        "http": http,
        **options,
    }
    return XeroAccountingClient(
        xero.client_id,
        xero.client_secret,
        xero.tenant_id,
        grants,
        **settings,  # type: ignore[arg-type]
    )


def bearer(request: httpx.Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def test_a_fresh_access_token_is_used_as_stored(xero: XeroSimulator, time: SimulatedTime) -> None:
    grants = RecordingGrants(xero.grant())
    [result] = client(xero, grants, time).upsert_contacts([STUDENT], "key_1")
    assert result.ok
    assert grants.saved == []
    assert xero.tokens_issued == 1  # the connection only: no refresh


def test_a_token_with_less_than_a_minute_left_is_refreshed_and_rotated(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    first = xero.grant()
    grants = RecordingGrants(first)
    time.advance(1800 - 59)
    [result] = client(xero, grants, time).upsert_contacts([STUDENT], "key_1")
    assert result.ok
    [saved] = grants.saved
    assert saved.refresh_token != first.refresh_token
    assert saved.expires_at == time.now() + timedelta(seconds=1800)
    assert xero.refresh_tokens() == {saved.refresh_token}  # the old one no longer works


def test_the_rotated_grant_is_saved_before_its_access_token_is_used(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    log: list[str] = []
    grants = RecordingGrants(xero.grant(), on_save=lambda g: log.append(f"save {g.access_token}"))

    def sent(request: httpx.Request) -> None:
        if "/api.xro/" in request.url.path:
            log.append(f"call {bearer(request)}")

    http = httpx.Client(event_hooks={"request": [sent]})
    time.advance(1800)
    client(xero, grants, time, http=http).upsert_contacts([STUDENT], "key_1")
    new_access = grants.saved[0].access_token
    assert log == [f"save {new_access}", f"call {new_access}"]


def test_a_crash_right_after_the_refresh_loses_nothing(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    grants = RecordingGrants(xero.grant())

    def crash(request: httpx.Request) -> None:
        if "/api.xro/" in request.url.path:
            raise Crash

    time.advance(1800)
    doomed = client(xero, grants, time, http=httpx.Client(event_hooks={"request": [crash]}))
    with pytest.raises(Crash):
        doomed.upsert_contacts([STUDENT], "key_1")
    # A new process starts from the store alone: the rotated refresh token is there and works.
    assert grants.refresh_token("xero", xero.tenant_id) in xero.refresh_tokens()
    time.advance(1800)
    [result] = client(xero, grants, time).upsert_contacts([STUDENT], "key_1")
    assert result.ok


def test_a_failed_save_stops_the_call_and_is_tried_again_first(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    grants = RecordingGrants(xero.grant())
    grants.fail_next_save(OSError("database unavailable"))
    adapter = client(xero, grants, time)
    time.advance(1800)
    with pytest.raises(OSError, match="database unavailable"):
        adapter.upsert_contacts([STUDENT], "key_1")
    assert xero.requests_to("/Contacts") == []  # the new access token was not used unsaved
    [result] = adapter.upsert_contacts([STUDENT], "key_1")
    assert result.ok
    assert xero.tokens_issued == 2  # one refresh: the unsaved grant was saved, not refreshed again
    assert grants.refresh_token("xero", xero.tenant_id) in xero.refresh_tokens()


def test_a_401_refreshes_once_and_repeats_the_call_with_the_same_key(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    grants = RecordingGrants(xero.grant())
    adapter = client(xero, grants, time)
    xero.expire_access_tokens()  # Xero revoked the token early
    [result] = adapter.upsert_contacts([STUDENT], "key_401")
    assert result.ok
    calls = xero.requests_to("/Contacts")
    assert [c.idempotency_key for c in calls] == ["key_401", "key_401"]
    assert len(grants.saved) == 1
    assert xero.count("contacts") == 1


def test_another_process_that_rotated_first_is_followed_through_the_store(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    grants = RecordingGrants(xero.grant())
    ours, theirs = client(xero, grants, time), client(xero, grants, time)
    ours.upsert_contacts([STUDENT], "key_1")  # ours now holds the grant in memory
    time.advance(1800)
    theirs.upsert_contacts([STUDENT], "key_2")  # theirs refreshes: ours is stale
    [result] = ours.upsert_contacts([STUDENT], "key_3")
    assert result.ok
    assert xero.tokens_issued == 2  # ours found theirs in the store instead of refreshing


def test_no_stored_grant_says_how_to_connect(xero: XeroSimulator, time: SimulatedTime) -> None:
    with pytest.raises(ConfigurationError, match="not connected") as raised:
        client(xero, RecordingGrants(), time).upsert_contacts([STUDENT], "key_1")
    assert "GrantStore.save" in str(raised.value)


def test_a_disconnected_organisation_is_a_configuration_error(
    xero: XeroSimulator, time: SimulatedTime
) -> None:
    grants = RecordingGrants(xero.grant())
    xero.disconnect()
    with pytest.raises(ConfigurationError, match="invalid_grant"):
        client(xero, grants, time).upsert_contacts([STUDENT], "key_1")


def test_a_wrong_client_secret_names_the_settings(xero: XeroSimulator, time: SimulatedTime) -> None:
    grants = RecordingGrants(evolve(xero.grant(), expires_at=START))
    adapter = XeroAccountingClient(
        xero.client_id,
        "not-the-secret",
        xero.tenant_id,
        grants,
        api_base=xero.base_url,
        identity_base=xero.base_url,
        clock=time.now,
    )
    with pytest.raises(ConfigurationError) as raised:
        adapter.upsert_contacts([STUDENT], "key_1")
    assert "ACCOUNTING_API_SECRET" in raised.value.problems


def test_another_organisation_is_forbidden(xero: XeroSimulator, time: SimulatedTime) -> None:
    grant = xero.grant()
    other = "11111111-2222-3333-4444-555555555555"
    grants = RecordingGrants(evolve(grant, id=OAuthGrant.key("xero", other), tenant_id=other))
    adapter = XeroAccountingClient(
        xero.client_id,
        xero.client_secret,
        other,
        grants,
        api_base=xero.base_url,
        identity_base=xero.base_url,
        clock=time.now,
    )
    with pytest.raises(ConfigurationError, match="403"):
        adapter.upsert_contacts([STUDENT], "key_1")


def test_missing_credentials_are_refused_up_front() -> None:
    with pytest.raises(ConfigurationError) as raised:
        XeroAccountingClient("", "", "", RecordingGrants())
    assert "ACCOUNTING_API_KEY" in raised.value.problems


@pytest.mark.parametrize(
    ("setting", "endpoint"),
    [
        ("https://identity.xero.com", "https://identity.xero.com/connect/token"),
        ("https://identity.xero.com/", "https://identity.xero.com/connect/token"),
        ("https://identity.xero.com/connect/token", "https://identity.xero.com/connect/token"),
        ("http://127.0.0.1:8123/connect/token/", "http://127.0.0.1:8123/connect/token"),
    ],
)
def test_accounting_token_url_may_be_the_identity_root_or_the_endpoint(
    setting: str, endpoint: str
) -> None:
    assert token_url(setting) == endpoint
