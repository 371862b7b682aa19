"""Accounting port: push contacts, invoices, payments and credit notes in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from justdriving.domain.accounting import (
    AccountingConnection,
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    OAuthGrant,
    PushResult,
)


class GrantStore(Protocol):
    """Where an adapter keeps its OAuth grant. `save` is durable when it returns (its own
    transaction), so a rotated refresh token is never lost to a crash."""

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None: ...

    def save(self, grant: OAuthGrant) -> None: ...


class AccountingConsent(Protocol):
    """A provider's OAuth2 authorisation-code flow, for connecting an organisation.

    `authorize_url` is where a person signs in and consents; the provider then redirects to
    `redirect_uri` with a code and `state`. `exchange_code` buys the first grant with that code
    (single-use, and only with the same redirect_uri) for `tenant_id`, or the one organisation
    the consent connected when None. Raises ProviderRejected for a code the provider refuses
    and ConfigurationError for bad credentials or an organisation it cannot pick."""

    def authorize_url(self, redirect_uri: str, state: str) -> str: ...

    def exchange_code(
        self, code: str, redirect_uri: str, tenant_id: str | None
    ) -> AccountingConnection: ...


class AccountingClient(Protocol):
    """One accounting system.

    Each method takes at most `max_batch` records and returns one PushResult per record, in
    order: a record the provider refused carries its error and does not fail the others.
    The same `idempotency_key` with the same batch creates nothing twice. Raises
    ProviderUnavailable for rate limits and outages (retry_after when known) and
    ConfigurationError for bad credentials.
    """

    name: str
    max_batch: int

    def upsert_contacts(
        self, contacts: Sequence[AccountingContact], idempotency_key: str
    ) -> list[PushResult]: ...

    def push_invoices(
        self, invoices: Sequence[AccountingInvoice], idempotency_key: str
    ) -> list[PushResult]: ...

    def push_payments(
        self, payments: Sequence[AccountingPayment], idempotency_key: str
    ) -> list[PushResult]: ...

    def push_credit_notes(
        self, credit_notes: Sequence[AccountingCreditNote], idempotency_key: str
    ) -> list[PushResult]: ...


class AccountingBooks(Protocol):
    """Where each school's books are: the AccountingClient for a school's own organisation
    (the one it connected), else the platform's one. `name` is the provider's, as on the
    clients. `for_school` raises BooksNotConnected when the school has no books to push to;
    a client's calls raise it too when the school's grant is refused (revoked, expired)."""

    name: str

    def for_school(self, school_id: str) -> AccountingClient: ...
