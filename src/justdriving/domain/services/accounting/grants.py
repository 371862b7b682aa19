"""The store accounting adapters keep their OAuth grants in (the database, one commit each),
and connecting an organisation: the first grant, bought with a consent's code, stored there,
for the platform or for one school (its own books)."""

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
    school_id: str | None = None,
) -> AccountingConnection:
    """Exchange a consent's code for the first grant and store it (for `school_id`'s own
    books when given), replacing any earlier one: the next sync uses it. Nothing is stored
    when the exchange fails."""
    connection = consent.exchange_code(code, redirect_uri, tenant_id)
    connection.grant.school_id = school_id
    grants.save(connection.grant)
    return connection


def grant_id(grant: OAuthGrant) -> str:
    if grant.school_id is not None:
        return OAuthGrant.school_key(grant.provider, grant.school_id)
    return OAuthGrant.key(grant.provider, grant.tenant_id)


class StoredGrants:
    """Implements ports.accounting.GrantStore on the unit of work: the platform's grants by
    (provider, tenant), and each school's own by (provider, school)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        with self._uow() as uow:
            return uow.grants.find(OAuthGrant.key(provider, tenant_id))

    def for_school(self, provider: str, school_id: str) -> OAuthGrant | None:
        """The grant for the organisation the school connected, if it connected one."""
        with self._uow() as uow:
            return uow.grants.find(OAuthGrant.school_key(provider, school_id))

    def save(self, grant: OAuthGrant) -> None:
        grant.id = grant_id(grant)
        with self._uow() as uow:
            stored = uow.grants.find(grant.id)
            if stored is None:
                uow.grants.add(grant)
            else:
                stored.access_token, stored.refresh_token = grant.access_token, grant.refresh_token
                stored.expires_at, stored.tenant_id = grant.expires_at, grant.tenant_id
            uow.commit()

    def of_school(self, school_id: str) -> SchoolGrants:
        return SchoolGrants(self, school_id)


class SchoolGrants:
    """Implements ports.accounting.GrantStore for one school's own organisation: what an
    adapter loads and saves (a rotated refresh token) is the school's grant."""

    def __init__(self, grants: StoredGrants, school_id: str) -> None:
        self._grants, self.school_id = grants, school_id

    def __repr__(self) -> str:
        return f"SchoolGrants(school_id={self.school_id!r})"

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        grant = self._grants.for_school(provider, self.school_id)
        if grant is None or grant.tenant_id.lower() != tenant_id.lower():
            return None  # reconnected to another organisation since: not this client's
        return grant

    def save(self, grant: OAuthGrant) -> None:
        grant.school_id = self.school_id
        self._grants.save(grant)
