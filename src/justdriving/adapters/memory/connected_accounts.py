"""The fake gateway's connected accounts (Stripe Connect in memory): accounts made once per
key, onboarding links, and a view of the gateway per account whose payments, refunds,
customers and cards are that account's alone."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar
from urllib.parse import urlencode

from attrs import evolve

from justdriving.adapters.memory.fake_webhooks import WebhookDelivery
from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.errors import InvalidInput, ProviderRejected
from justdriving.domain.money import Money
from justdriving.ports.payments import AccountRequest

R = TypeVar("R")


class FakeConnect:
    """Mixed into the fake gateway. `on_account` gives the gateway acting on one account
    (its own charges, refunds, customers and idempotency keys, as at Stripe); the platform's
    gateway keeps the accounts and the views."""

    name: str
    account: str | None = None
    _once: Callable[..., Any]
    # The gateway's: an account's own empty records; an event sent about `account`.
    _fresh_books: Callable[[], None]
    _event_on: Callable[[str, Mapping[str, Any], str], WebhookDelivery]

    def _init_connect(self) -> None:
        self.accounts: dict[str, ConnectedAccount] = {}
        self._views: dict[str, Self] = {}

    def create_account(self, request: AccountRequest) -> ConnectedAccount:
        self._platform_only("create accounts")
        made: ConnectedAccount = self._once(
            "account", request.idempotency_key, request, lambda: self._new_account()
        )
        return self.accounts[made.account_id]

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str:
        self._platform_only("make account links")
        self._account(account_id)
        query = urlencode({"return_url": return_url, "refresh_url": refresh_url})
        return f"/dev/connect/{account_id}?{query}"

    def account_status(self, account_id: str) -> ConnectedAccount:
        self._platform_only("read other accounts")
        return self._account(account_id)

    def on_account(self, account_id: str) -> Self:
        self._platform_only("act on another account")
        self._account(account_id)
        view = self._views.get(account_id)
        if view is None:
            view = copy.copy(self)
            view.account = account_id
            view._fresh_books()
            self._views[account_id] = view
        return view

    # The school's and Stripe's side, for tests and the development pages.

    def update_account(
        self, account_id: str, *, charges_enabled: bool = True, details_submitted: bool = True
    ) -> WebhookDelivery:
        """Stripe reviewed the school's details: the account.updated event it sends."""
        account = evolve(
            self._account(account_id),
            charges_enabled=charges_enabled,
            details_submitted=details_submitted,
        )
        self.accounts[account_id] = account
        data = {"charges_enabled": charges_enabled, "details_submitted": details_submitted}
        return self._event_on("account.updated", data, account_id)

    # Mechanics.

    def _new_account(self) -> ConnectedAccount:
        account = ConnectedAccount(f"acct_{uuid.uuid4().hex[:16]}")
        self.accounts[account.account_id] = account
        return account

    def _account(self, account_id: str) -> ConnectedAccount:
        account = self.accounts.get(account_id) if isinstance(account_id, str) else None
        if account is None:
            raise ProviderRejected(
                self.name,
                f"no connected account {account_id!r:.40}",
                provider_code="account_invalid",
            )
        return account

    def _platform_only(self, what: str) -> None:
        if self.account is not None:
            raise ProviderRejected(
                self.name, f"a connected account cannot {what}", provider_code="permission_error"
            )

    def _check_fee(self, fee: Money | None, amount: Money) -> None:
        """Stripe takes an application fee only on a connected account's payment, in its
        currency, and not above it."""
        if fee is None:
            return
        if self.account is None:
            raise ProviderRejected(
                self.name,
                "an application fee needs a connected account",
                provider_code="parameter_invalid",
            )
        try:
            too_much = amount < fee or fee.is_negative
        except InvalidInput:
            too_much = True
        if too_much:
            raise ProviderRejected(
                self.name, f"application fee {fee} on {amount}", provider_code="parameter_invalid"
            )
