"""The store accounting adapters keep their OAuth grants in: the database, one commit each."""

from __future__ import annotations

from justdriving.domain.accounting import OAuthGrant
from justdriving.ports.persistence import UnitOfWorkFactory


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
