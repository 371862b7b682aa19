"""Stripe Connect: onboarding a school's own account (what Stripe says of it afterwards is
applied by the inbox: `steps/account_events.py`).

`connect_stripe_account` makes the school's connected account once (keyed by the school, so
a retry or a race makes no second account), records it, and gives the onboarding URL where
the school enters its details at Stripe. Card payments wait until Stripe's `account.updated`
says charges are enabled (School.card_account)."""

from __future__ import annotations

from urllib.parse import urlsplit

from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.errors import ChargesNotEnabled, InvalidInput
from justdriving.ports.clock import Clock
from justdriving.ports.payments import AccountRequest, GatewayRegistry
from justdriving.ports.persistence import UnitOfWorkFactory

MAX_URL = 2048


class ConnectOnboarding:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow, self._clock, self._gateways = uow, clock, gateways

    def connect_stripe_account(self, school_id: str, return_url: str, refresh_url: str) -> str:
        """The URL at Stripe where the school onboards its connected account (made now if it
        has none). The URL is single-use and expires: Stripe sends the school to `refresh_url`
        to ask for a new one, and to `return_url` when it is done (which says nothing of the
        result: `account.updated` does). Raises NotFound (no such school), InvalidInput (a
        URL that is not absolute http(s)), ConfigurationError (Connect is not on for the
        school's gateway), and the gateway's errors, with nothing stored."""
        _check_url("return_url", return_url)
        _check_url("refresh_url", refresh_url)
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            _, accounts = self._gateways.connect_for(school)
            account = school.connected_account
        if account is None:
            request = AccountRequest(
                school_id=school.id, idempotency_key=f"connect-account-{school.id}"
            )
            account = accounts.create_account(request)
            with self._uow() as uow:
                uow.schools.get(school.id).link_account(account, self._clock.now())
                uow.commit()
        return accounts.onboarding_link(account.account_id, return_url, refresh_url)

    def refresh_stripe_account(self, school_id: str) -> ConnectedAccount:
        """What Stripe says of the school's account now, taken as `account.updated` would be
        (for a school back from onboarding before the event arrives). Raises NotFound,
        ChargesNotEnabled (no account connected yet), ConfigurationError (Connect is not on),
        and the gateway's errors, with nothing changed."""
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            _, accounts = self._gateways.connect_for(school)
            account = school.connected_account
        if account is None:
            raise ChargesNotEnabled("the school has not connected its Stripe account yet")
        status = accounts.account_status(account.account_id)
        with self._uow() as uow:
            uow.schools.get(school.id).update_account(status, self._clock.now())
            uow.commit()
        return status


def _check_url(name: str, url: object) -> None:
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise InvalidInput(f"{name} is a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidInput(f"{name} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidInput(f"{name} is an absolute http(s) URL")
