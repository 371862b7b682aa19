"""The simulator's Stripe Connect side: the platform's connected accounts (`/v1/accounts`),
their onboarding links (`/v1/account_links`), and Stripe's review of a school's details,
shaped from Stripe's `account` and `account_link` examples."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from justdriving.testing.stripe.objects import (
    StripeObject,
    example,
    invalid,
    metadata,
    new_id,
    not_found,
)

ACCOUNT_TYPES = frozenset({"standard", "express", "custom"})
LINK_TYPES = frozenset({"account_onboarding", "account_update"})
LINK_LIFETIME = timedelta(minutes=5)


class ConnectedAccounts:
    """The accounts connected to the platform; `opened` is told of each new one (the
    simulator keeps a set of books for it)."""

    def __init__(self, clock: Callable[[], datetime], opened: Callable[[str], object]) -> None:
        self._clock, self._opened = clock, opened
        self.accounts: dict[str, StripeObject] = {}
        self.links: list[StripeObject] = []

    def create(self, params: StripeObject) -> StripeObject:
        kind = params.get("type") or "standard"
        if kind not in ACCOUNT_TYPES:
            raise invalid(f"Invalid type: must be one of {sorted(ACCOUNT_TYPES)}", param="type")
        account = example(
            "account",
            id=new_id("acct", 16),
            type=kind,
            country=params.get("country") or "DK",
            default_currency="dkk",
            email=params.get("email"),
            metadata=metadata(params),
            created=self._now(),
            charges_enabled=False,
            details_submitted=False,
            payouts_enabled=False,
        )
        account["external_accounts"]["url"] = f"/v1/accounts/{account['id']}/external_accounts"
        # Bacs Direct Debit is British: a Danish school's account has no settings for it.
        account["settings"].pop("bacs_debit_payments", None)
        self.accounts[account["id"]] = account
        self._opened(account["id"])
        return account

    def account(self, acct_id: str, param: str = "account") -> StripeObject:
        account = self.accounts.get(acct_id)
        if account is None:
            raise not_found("account", acct_id, param)
        return account

    def create_link(self, params: StripeObject) -> StripeObject:
        for name in ("account", "type"):
            if not params.get(name):
                raise invalid(
                    f"Missing required param: {name}.", param=name, code="parameter_missing"
                )
        if params["type"] not in LINK_TYPES:
            raise invalid(f"Invalid type: must be one of {sorted(LINK_TYPES)}", param="type")
        account = self.account(str(params["account"]))
        now = self._now()
        link = example(
            "account_link",
            created=now,
            expires_at=now + int(LINK_LIFETIME.total_seconds()),
            url=f"https://connect.stripe.com/setup/s/{account['id']}/{new_id('x', 12)[2:]}",
        )
        self.links.append({**link, "_account": account["id"], "_params": dict(params)})
        return link

    def review(
        self, acct_id: str, *, charges_enabled: bool, details_submitted: bool
    ) -> StripeObject:
        """Stripe reviewed the school's details: what the account now allows."""
        account = self.account(acct_id)
        account.update(
            charges_enabled=charges_enabled,
            details_submitted=details_submitted,
            payouts_enabled=charges_enabled,
        )
        account["requirements"]["currently_due"] = [] if details_submitted else ["external_account"]
        account["requirements"]["disabled_reason"] = (
            None if charges_enabled else "requirements.past_due"
        )
        return account

    def _now(self) -> int:
        return int(self._clock().timestamp())
