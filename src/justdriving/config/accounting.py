"""Accounting: the system invoices are pushed to, its OAuth app, schedule and token key."""

import enum
import re
from typing import Final

import attrs
from attrs import field, frozen

from justdriving.config.fields import between, fake, missing, not_https, secret, split_list


class AccountingProvider(enum.StrEnum):
    NONE = "none"
    FAKE = "fake"
    CSV = "csv"
    XERO = "xero"
    QUICKBOOKS = "quickbooks"


# A Fernet key: 32 bytes in url-safe base64, as Fernet.generate_key() makes it.
_FERNET_KEY: Final = re.compile(r"[A-Za-z0-9_-]{43}=")


def _fernet_keys(
    _instance: object, _attribute: "attrs.Attribute[str | None]", value: str | None
) -> None:
    """One or more comma separated Fernet keys. The message never quotes a key."""
    if value is None:
        return
    keys = split_list(value)
    if not keys:
        raise ValueError("must hold at least one Fernet key")
    for position, key in enumerate(keys, start=1):
        if not _FERNET_KEY.fullmatch(key):
            raise ValueError(
                f"key {position} of {len(keys)} is not a Fernet key (44 characters of url-safe "
                "base64, as cryptography's Fernet.generate_key() makes; see the README)"
            )


@frozen(kw_only=True, slots=False)
class AccountingSettings:
    """ACCOUNTING_PROVIDER and every ACCOUNTING_* variable."""

    accounting_provider: AccountingProvider = AccountingProvider.NONE
    accounting_api_key: str | None = secret()
    accounting_api_secret: str | None = secret()
    accounting_sync_enabled: bool = False
    accounting_sync_interval: int = field(default=3600, validator=between(1, 31 * 24 * 3600))
    accounting_export_dir: str | None = None
    # Added by justdriving: the organisation (Xero tenant id, QuickBooks realm id), and the
    # provider's API root and token URL (simulators in tests; unset: the live services).
    accounting_tenant_id: str | None = None
    accounting_payment_account: str | None = None  # Xero: the bank account payments go to
    accounting_api_base_url: str | None = None
    accounting_token_url: str | None = None
    # Added by justdriving: Fernet keys encrypting the stored OAuth tokens, comma separated;
    # the first encrypts, every one decrypts (rotation). Unset: tokens stored as they are.
    accounting_token_key: str | None = secret(validator=_fernet_keys)

    @property
    def accounting_token_keys(self) -> tuple[str, ...]:
        """ACCOUNTING_TOKEN_KEY's keys, the one that encrypts first; () when unset."""
        return split_list(self.accounting_token_key or "")

    def accounting_in_production(self) -> list[str]:
        """No fake; Xero and QuickBooks with their app, organisation and token key, over
        https; CSV with its folder."""
        provider = self.accounting_provider
        if provider is AccountingProvider.FAKE:
            return [fake("ACCOUNTING_PROVIDER", provider, "none, csv, xero or quickbooks")]
        problems: list[str] = []
        if provider in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
            problems += missing(
                ACCOUNTING_API_KEY=self.accounting_api_key,
                ACCOUNTING_API_SECRET=self.accounting_api_secret,
            )  # ACCOUNTING_TENANT_ID is optional: schools may each connect their own books
            if provider is AccountingProvider.XERO:
                problems += missing(ACCOUNTING_PAYMENT_ACCOUNT=self.accounting_payment_account)
            if not self.accounting_token_key:
                problems.append(
                    "ACCOUNTING_TOKEN_KEY is not set; production stores the OAuth tokens "
                    "encrypted (see the README)"
                )
            problems += not_https(
                ACCOUNTING_API_BASE_URL=self.accounting_api_base_url,
                ACCOUNTING_TOKEN_URL=self.accounting_token_url,
            )
        elif provider is AccountingProvider.CSV:
            problems += missing(ACCOUNTING_EXPORT_DIR=self.accounting_export_dir)
        return [f"{p} (ACCOUNTING_PROVIDER={provider})" for p in problems]
