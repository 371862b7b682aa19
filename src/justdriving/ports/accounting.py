"""Accounting port: push contacts, invoices, payments and credit notes in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from justdriving.domain.accounting import (
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
