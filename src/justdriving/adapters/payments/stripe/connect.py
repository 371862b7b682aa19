"""Stripe Connect for StripeGateway: connected accounts for schools, their onboarding links,
and the gateway acting on one account (direct charges, the `Stripe-Account` header)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Self, TypeVar

import stripe

from justdriving.domain.connect import ConnectedAccount, check_account_id
from justdriving.domain.errors import InvalidInput, ProviderRejected
from justdriving.ports.payments import AccountRequest

T = TypeVar("T")


class StripeConnect:
    """Mixed into StripeGateway, which gives the client, the options and the error mapping."""

    name: str
    account: str | None = None
    _client: stripe.StripeClient
    _options: Callable[..., stripe.RequestOptions]

    if TYPE_CHECKING:  # StripeGateway's own (StripeCardsOnFile)

        def _call(self, operation: Callable[[], T]) -> T: ...

    def create_account(self, request: AccountRequest) -> ConnectedAccount:
        """A Standard account: the school signs in at Stripe, is the merchant of record, pays
        Stripe's fees and answers its own disputes (docs/tenancy.md)."""
        self._platform_only("create accounts")
        params: stripe.params.AccountCreateParams = {
            "type": "standard",
            "metadata": {"school_id": request.school_id},
        }
        if request.country is not None:
            params["country"] = request.country
        if request.email is not None:
            params["email"] = request.email.value
        options = self._options(request.idempotency_key)
        account = self._call(lambda: self._client.v1.accounts.create(params, options))
        return _account_of(account, self.name)

    def onboarding_link(self, account_id: str, return_url: str, refresh_url: str) -> str:
        self._platform_only("make account links")
        params: stripe.params.AccountLinkCreateParams = {
            "account": account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
        # No idempotency key: a link is single-use and expires, so asking again must give a
        # fresh one, never replay the first (creating one changes nothing at Stripe).
        link = self._call(lambda: self._client.v1.account_links.create(params))
        return link.url

    def account_status(self, account_id: str) -> ConnectedAccount:
        self._platform_only("read other accounts")
        accounts = self._client.v1.accounts
        return _account_of(self._call(lambda: accounts.retrieve(account_id)), self.name)

    def on_account(self, account_id: str) -> Self:
        """This gateway with every request made on `account_id` (Stripe-Account)."""
        self._platform_only("act on another account")
        check_account_id(None, None, account_id)
        acting = copy.copy(self)
        acting.account = account_id
        return acting

    def _platform_only(self, what: str) -> None:
        if self.account is not None:
            raise ProviderRejected(
                self.name, f"a connected account cannot {what}", provider_code="permission_error"
            )


def _account_of(account: stripe.Account, provider: str) -> ConnectedAccount:
    try:
        return ConnectedAccount(
            account.id,
            charges_enabled=bool(account.charges_enabled),
            details_submitted=bool(account.details_submitted),
        )
    except InvalidInput as error:
        raise ProviderRejected(provider, str(error), provider_code="account_invalid") from error
