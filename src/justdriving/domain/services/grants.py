"""The store accounting adapters keep their OAuth grants in (the database, one commit each),
and connecting an organisation: the first grant, bought with a consent's code, stored there."""

from __future__ import annotations

from justdriving.domain.accounting import AccountingConnection, OAuthGrant
from justdriving.ports.accounting import AccountingConsent, GrantStore
from justdriving.ports.persistence import UnitOfWorkFactory


def connect_accounting(
    consent: AccountingConsent,
    grants: GrantStore,
    code: str,
    redirect_uri: str,
    tenant_id: str | None = None,
) -> AccountingConnection:
    """Exchange a consent's code for the first grant and store it, replacing any earlier one
    for the organisation: the next sync uses it. Nothing is stored when the exchange fails."""
    connection = consent.exchange_code(code, redirect_uri, tenant_id)
    grants.save(connection.grant)
    return connection


class StoredGrants:
    """Implements ports.accounting.GrantStore on the unit of work."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        with self._uow() as uow:
            return uow.grants.find(OAuthGrant.key(provider, tenant_id))

    def save(self, grant: OAuthGrant) -> None:
        grant.id = OAuthGrant.key(grant.provider, grant.tenant_id)
        with self._uow() as uow:
            stored = uow.grants.find(grant.id)
            if stored is None:
                uow.grants.add(grant)
            else:
                stored.access_token, stored.refresh_token = grant.access_token, grant.refresh_token
                stored.expires_at = grant.expires_at
            uow.commit()
