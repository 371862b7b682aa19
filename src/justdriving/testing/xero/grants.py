"""A GrantStore in memory for tests of OAuth adapters: it records every save, can be made to
fail the next one, and hands out copies so that nobody changes a stored grant by accident."""

from __future__ import annotations

from collections.abc import Callable

from attrs import evolve

from justdriving.domain.accounting import OAuthGrant


class RecordingGrants:
    """Implements ports.accounting.GrantStore; `saved` lists every grant saved, in order."""

    def __init__(self, *grants: OAuthGrant, on_save: Callable[[OAuthGrant], None] | None = None):
        self._grants = {OAuthGrant.key(g.provider, g.tenant_id): evolve(g) for g in grants}
        self.saved: list[OAuthGrant] = []
        self.loads = 0
        self._on_save = on_save
        self._failures: list[Exception] = []

    def fail_next_save(self, error: Exception) -> None:
        self._failures.append(error)

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        self.loads += 1
        grant = self._grants.get(OAuthGrant.key(provider, tenant_id))
        return None if grant is None else evolve(grant)

    def save(self, grant: OAuthGrant) -> None:
        if self._failures:
            raise self._failures.pop(0)
        stored = evolve(grant, id=OAuthGrant.key(grant.provider, grant.tenant_id))
        self._grants[stored.id] = stored
        self.saved.append(evolve(stored))
        if self._on_save is not None:
            self._on_save(stored)

    def refresh_token(self, provider: str, tenant_id: str) -> str | None:
        grant = self._grants.get(OAuthGrant.key(provider, tenant_id))
        return None if grant is None else grant.refresh_token
