"""Books per school: each school's own Xero organisation or QuickBooks company (the grant it
connected, `justdriving accounting connect --school ID`), else the platform's one
(ACCOUNTING_TENANT_ID with its grant), else none (BooksNotConnected: its records wait).

One client is kept per (school, organisation); they share one rate limiter, which counts per
organisation, so each organisation has its own budget (Xero's limits are per tenant) and two
schools in the platform's organisation share its one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from justdriving.domain.errors import BooksNotConnected
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.ports.accounting import AccountingClient, GrantStore

Build = Callable[[str, GrantStore], AccountingClient]
"""A client for (tenant id, the grants it loads and saves its tokens in)."""


class BooksPerSchool:
    """Implements ports.accounting.AccountingBooks over the stored grants."""

    def __init__(
        self, name: str, grants: StoredGrants, build: Build, platform_tenant: str | None
    ) -> None:
        self.name = name
        self._grants, self._build, self._platform = grants, build, platform_tenant or None
        self._clients: dict[tuple[str | None, str], AccountingClient] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BooksPerSchool(name={self.name!r}, platform_tenant={self._platform!r})"

    def for_school(self, school_id: str) -> AccountingClient:
        grant = self._grants.for_school(self.name, school_id)
        if grant is not None:
            return self._client(school_id, grant.tenant_id)
        if self._platform is not None:
            return self._client(None, self._platform)
        raise BooksNotConnected(
            f"school {school_id} has connected no {self.name} books and there is no "
            "platform-wide organisation",
            [f"justdriving accounting connect --school {school_id}", "ACCOUNTING_TENANT_ID"],
            school_id=school_id,
        )

    def _client(self, school_id: str | None, tenant_id: str) -> AccountingClient:
        key = (school_id, tenant_id)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                store = self._grants if school_id is None else self._grants.of_school(school_id)
                client = self._clients[key] = self._build(tenant_id, store)
            return client
