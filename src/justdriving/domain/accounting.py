"""Documents as an accounting system sees them, mapped from invoices, payments and credit notes."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import define, field, frozen

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.entity import Entity
from justdriving.domain.money import Money
from justdriving.domain.tax import TaxRate

# Xero's limit on a contact's Name, the tighter of the providers' (QuickBooks takes 500).
MAX_CONTACT_NAME = 255


@frozen
class AccountingContact:
    record_id: str
    name: str
    email: str | None = None
    phone: str | None = None  # E.164
    address: PostalAddress | None = None  # printed on the provider's invoice to the contact

    def unique_name(self, limit: int = MAX_CONTACT_NAME) -> str:
        """The name the books know the contact by: "<name> (<record id>)".

        Xero refuses a contact whose name another active contact holds, QuickBooks a
        DisplayName another customer holds, and an import file matches contacts by name: two
        students called Jonas Madsen must not become one contact, nor the second be refused on
        every run. Our id makes the name unique and stable (it does not depend on who else is
        in the books); the name is cut, never the id, to keep within `limit`."""
        suffix = f" ({self.record_id})"
        name = " ".join(self.name.split())
        return name[: max(limit - len(suffix), 0)] + suffix


@frozen
class AccountingLine:
    description: str
    quantity: int
    unit_amount: Money
    account_code: str
    vat_code: str
    vat_inclusive: bool
    vat_rate: TaxRate | None = None  # the line's own rate, where the writer needs numbers


@frozen
class AccountingInvoice:
    record_id: str
    number: str
    contact_id: str
    issued_at: datetime
    due_at: datetime
    currency: str
    lines: tuple[AccountingLine, ...]


@frozen
class AccountingCreditNote:
    record_id: str
    number: str
    contact_id: str
    invoice_external_id: str
    issued_at: datetime
    currency: str
    lines: tuple[AccountingLine, ...]
    # The part paid back to the student (a refund): booked as the note's refund, not
    # allocated to the invoice, which the payment before it has already settled.
    refunded: Money | None = None


@frozen
class AccountingPayment:
    record_id: str
    invoice_external_id: str
    amount: Money
    paid_at: datetime
    reference: str


@frozen
class PushResult:
    """Per record: the external id on success, or the provider's reason for refusing it."""

    record_id: str
    external_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.external_id is not None and self.error is None


class SyncStatus(enum.StrEnum):
    SYNCED = "synced"
    FAILED = "failed"  # the provider refused it, or its mapping is missing: see `error`


@define(eq=False)
class SyncRecord(Entity):
    """What the accounting system holds of one of our records: its id there and the
    fingerprint of what we last pushed, so a re-run pushes only what changed."""

    id: str  # SyncRecord.key(provider, kind, record_id)
    provider: str
    kind: str  # contact, invoice, payment, credit_note
    record_id: str
    school_id: str
    status: SyncStatus
    updated_at: datetime
    external_id: str | None = None
    fingerprint: str | None = None
    error: str | None = None
    version: int = 0

    @staticmethod
    def key(provider: str, kind: str, record_id: str) -> str:
        return f"{provider}:{kind}:{record_id}"


@define(eq=False)
class SyncRun(Entity):
    """One sync or export: what it pushed, skipped and failed (with reasons), and up to
    when records were considered (`watermark`), so the next run can start from there."""

    id: str
    provider: str
    school_id: str
    started_at: datetime
    dry_run: bool = False
    finished_at: datetime | None = None
    watermark: datetime | None = None
    pushed: int = 0
    skipped: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (record id, reason)
    stopped_early: str | None = None  # e.g. the provider's daily limit was reached
    version: int = 0
    # The school's books were not reachable (no connection, a revoked grant): nothing was
    # pushed, nothing is lost, and the run is no failure of the others.
    not_connected: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)


@define(eq=False)
class OAuthGrant(Entity):
    """An accounting provider's OAuth2 tokens for one organisation (id: provider + tenant),
    or for the one a school connected (`school_id`; id: provider + school): a school's own
    books take precedence over the platform's organisation.

    Refresh tokens rotate (Xero, QuickBooks): the new one must be stored before the access
    token it came with is used, or a crash in between locks the platform out."""

    id: str
    provider: str
    tenant_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    version: int = 0
    school_id: str | None = None

    @staticmethod
    def key(provider: str, tenant_id: str) -> str:
        return f"{provider}:{tenant_id}"

    @staticmethod
    def school_key(provider: str, school_id: str) -> str:
        """The id of the grant for the organisation a school connected (one per provider)."""
        return f"{provider}:school:{school_id}"


@frozen
class AccountingConnection:
    """What a person's consent connected: the first grant, and the organisation's name where
    the provider tells it (Xero does; QuickBooks' redirect carries only the realm id)."""

    grant: OAuthGrant
    tenant_name: str | None = None
