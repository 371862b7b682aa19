"""Which books a school's records go to: the simplest answer to the AccountingBooks port, one
accounting system for every school (the fake, CSV files, or a single organisation); and whether
a school keeps its books in a given provider (`uses`). Connecting a school's own organisation is
`connections.py`."""

from __future__ import annotations

from typing import cast

from justdriving.domain.errors import (
    ConfigurationError,
)
from justdriving.domain.schools import School
from justdriving.ports.accounting import AccountingBooks, AccountingClient


class OneOrganisation:
    """Implements ports.accounting.AccountingBooks: the same client for every school."""

    def __init__(self, client: AccountingClient) -> None:
        self.client = client
        self.name = client.name

    def __repr__(self) -> str:
        return f"OneOrganisation({self.client!r})"

    def for_school(self, school_id: str) -> AccountingClient:
        return self.client


def as_books(accounting: AccountingClient | AccountingBooks | None) -> AccountingBooks | None:
    """A client given where books are expected serves every school."""
    if accounting is not None and hasattr(accounting, "push_invoices"):
        return OneOrganisation(cast(AccountingClient, accounting))
    return accounting


def configured(books: AccountingBooks | None) -> AccountingBooks:
    if books is None:
        raise ConfigurationError("ACCOUNTING_PROVIDER is none")
    return books


def uses(school: School, books: AccountingClient | AccountingBooks) -> bool:
    """The school keeps its books in this provider, or left the choice to the platform."""
    return school.settings.accounting_provider in (None, books.name)
