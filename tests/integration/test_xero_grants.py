"""Xero's rotating refresh tokens kept in the database (StoredGrants on the SQL unit of work):
a process killed right after a refresh — before it used the new access token — loses nothing,
and the next process carries on from what the first one committed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from attrs import evolve
from conftest import Database

from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.accounting import AccountingContact, OAuthGrant
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.testing.xero.simulator import XeroSimulator

# Refreshes (the stored access token is about to expire), then dies at its first API call.
DOOMED = textwrap.dedent(
    """
    import os, sys
    import httpx
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient
    from justdriving.adapters.sql.engine import make_engine
    from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
    from justdriving.domain.accounting import AccountingContact
    from justdriving.domain.services.accounting.grants import StoredGrants

    url, base, client_id, secret, tenant = sys.argv[1:6]

    def die(request):
        if "/api.xro/" in request.url.path:
            os._exit(17)  # killed: no cleanup, no flush, nothing after this

    grants = StoredGrants(SqlUnitOfWorkFactory(make_engine(url)))
    client = XeroAccountingClient(
        client_id, secret, tenant, grants, api_base=base, identity_base=base,
        http=httpx.Client(event_hooks={"request": [die]}),
    )
    client.upsert_contacts([AccountingContact("stu_1", "Sofie Hansen")], "key_1")
    """
)


def stored(database: Database, tenant_id: str) -> OAuthGrant:
    grant = StoredGrants(database.uow).load("xero", tenant_id)
    assert grant is not None
    return grant


def test_a_process_killed_right_after_a_refresh_leaves_the_new_token_stored(
    database: Database,
) -> None:
    with XeroSimulator() as xero:
        # Long expired: any process, whatever its clock says, must refresh it before a call.
        expiring = evolve(xero.grant(), expires_at=datetime.now(UTC) - timedelta(days=1))
        StoredGrants(database.uow).save(expiring)
        killed = subprocess.run(
            [sys.executable, "-c", DOOMED, database.url, xero.base_url, xero.client_id,
             xero.client_secret, xero.tenant_id],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        assert killed.returncode == 17, killed.stderr
        after = stored(database, xero.tenant_id)
        assert after.refresh_token != expiring.refresh_token
        assert xero.refresh_tokens() == {after.refresh_token}  # the only one that works
        assert xero.requests_to("/Contacts") == []  # it died before the call went out

        # The next process: from the database alone (a pool of its own), with the stored and
        # never used access token.
        grants = StoredGrants(SqlUnitOfWorkFactory(database.new_engine()))
        client = XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            xero.tenant_id,
            grants,
            api_base=xero.base_url,
            identity_base=xero.base_url,
        )
        [result] = client.upsert_contacts([AccountingContact("stu_1", "Sofie Hansen")], "key_1")
        client.close()
    assert result.ok
    assert xero.tokens_issued == 2  # the connection and the one refresh


def test_each_rotation_is_committed_as_it_happens(database: Database) -> None:
    with XeroSimulator(access_ttl=60) as xero:
        grants = StoredGrants(database.uow)
        grants.save(xero.grant())
        client = XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            xero.tenant_id,
            grants,
            api_base=xero.base_url,
            identity_base=xero.base_url,
        )
        seen = set()
        for n in range(3):  # a 60 s token always has less than REFRESH_MARGIN left
            client.upsert_contacts([AccountingContact(f"stu_{n}", f"Student {n}")], f"key_{n}")
            grant = stored(database, xero.tenant_id)
            assert xero.refresh_tokens() == {grant.refresh_token}
            seen.add(grant.refresh_token)
        client.close()
    assert len(seen) == 3
