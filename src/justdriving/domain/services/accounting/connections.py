"""Connecting a school's own Xero organisation or QuickBooks company: the consent URL to send
the school to, and the grant from the answer, stored per school."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from justdriving.domain.accounting import AccountingConnection
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidInput,
)
from justdriving.domain.services.accounting.grants import StoredGrants, connect_accounting
from justdriving.ports.accounting import AccountingConsent
from justdriving.ports.persistence import UnitOfWorkFactory


class BooksConnections:
    """Connecting a school's own books: the provider's consent URL, then the code its redirect
    carries exchanged for the grant stored for the school (encrypted at rest as every grant).
    Arguments are checked before the provider is asked; a refusal stores nothing."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        consent: Callable[[], AccountingConsent] | None,
        grants: StoredGrants | None,
    ) -> None:
        self._uow, self._consent, self._grants = uow, consent, grants

    def school_books_authorize_url(self, school_id: str, redirect_uri: str, state: str) -> str:
        """Where the school's bookkeeper signs in and picks the organisation to connect."""
        self._school(school_id)
        _text("redirect_uri", redirect_uri, 2000, URL)
        _text("state", state, 500, TOKEN)
        return self._configured()[0].authorize_url(redirect_uri, state)

    def connect_school_books(
        self, school_id: str, code: str, redirect_uri: str, tenant_id: str | None = None
    ) -> AccountingConnection:
        """Exchange the redirect's code for the grant of the school's own organisation
        (`tenant_id`: the Xero tenant or QuickBooks realm it connected; the only one when
        None) and store it: the school's next push and sync go there."""
        self._school(school_id)
        _text("code", code, 2000, TOKEN)
        _text("redirect_uri", redirect_uri, 2000, URL)
        if tenant_id is not None:
            _text("tenant_id", tenant_id, 64, TENANT)
        consent, grants = self._configured()
        return connect_accounting(consent, grants, code, redirect_uri, tenant_id, school_id)

    def _school(self, school_id: str) -> None:
        with self._uow() as uow:
            uow.schools.get(school_id)  # NotFound for a school we do not know

    def _configured(self) -> tuple[AccountingConsent, StoredGrants]:
        if self._consent is None or self._grants is None:
            raise ConfigurationError(
                "connecting books is for ACCOUNTING_PROVIDER=xero or quickbooks",
                ["ACCOUNTING_PROVIDER"],
            )
        return self._consent(), self._grants


URL: Final = re.compile(r"https?://[^\s]+")


TOKEN: Final = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space


TENANT: Final = re.compile(r"[A-Za-z0-9-]+")


def _text(name: str, value: str, longest: int, pattern: re.Pattern[str]) -> None:
    if not 0 < len(value) <= longest or not pattern.fullmatch(value):
        raise InvalidInput(f"{name} is not a usable value (1 to {longest} characters)")
