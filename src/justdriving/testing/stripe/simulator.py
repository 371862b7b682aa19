"""A local HTTP server that speaks enough of Stripe's API for the Stripe adapter and the real SDK.

    with StripeSimulator() as stripe_api:
        gateway = StripeGateway(stripe_api.secret_key, stripe_api.webhook_secret,
                                api_base=stripe_api.api_base)
        session = gateway.start(request)
        body, headers = stripe_api.succeed(session.provider_payment_id)
        events = gateway.parse_webhook(body, headers, stripe_api.now())

It answers form-encoded requests on /v1/payment_intents (create, retrieve, update, confirm,
capture, cancel), /v1/refunds, /v1/checkout/sessions (create, retrieve, expire),
/v1/customers (and a customer's payment_methods), /v1/setup_intents and /v1/payment_methods
(retrieve, detach) with JSON objects shaped from Stripe's examples, checks the secret key, replays
an Idempotency-Key with the same parameters (and refuses it with others), and lets a test
inject failures. The payer's side (`succeed`, `authorize`, `require_action`, `fail`, `process`,
`settle`, `complete_refund`, `dispute` …) returns the webhook delivery `(body, headers)` Stripe
would send, signed with `webhook_secret`. Nothing runs until the server is started.

Stripe Connect: `/v1/accounts` (create, retrieve) and `/v1/account_links` on the platform's
API; a request with a `Stripe-Account` header acts on that connected account's own objects
(an intent made on one account is not found on another; idempotency keys are per account;
`application_fee_amount` is taken there only). `connected(acct)` gives the payer's side of
one account, whose events carry `account` and are signed with `connect_webhook_secret`;
`review_account` sends `account.updated`.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import define, frozen

from justdriving.ports.clock import Clock
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.stripe.account import StripeAccount
from justdriving.testing.stripe.actions import PayerActions
from justdriving.testing.stripe.api import StripeApi, refusal, stamped
from justdriving.testing.stripe.connected import ConnectedAccounts
from justdriving.testing.stripe.idempotency import IdempotencyKeys
from justdriving.testing.stripe.objects import (
    SimulatorError,
    StripeApiError,
    StripeObject,
    bad_key,
    injected_failure,
    new_id,
    no_access,
)
from justdriving.testing.stripe.payer import PayerSide
from justdriving.testing.stripe.wallet import StripeWallet
from justdriving.testing.wire import ApiReply, Delivery

__all__ = ["API_VERSION", "ApiRequest", "Delivery", "StripeSimulator"]

API_VERSION = "2026-10-28.endive"


@frozen
class ApiRequest:
    """One request the simulator answered, for assertions."""

    method: str
    path: str
    params: Mapping[str, Any]
    idempotency_key: str | None
    status: int
    replayed: bool = False
    stripe_version: str | None = None
    stripe_account: str | None = None  # the connected account acted on (Stripe-Account)


@define
class Books:
    """One account's objects, its payer and wallet, its API and its idempotency keys: the
    platform's, or a connected account's (Stripe keeps each account's apart)."""

    account: StripeAccount
    payer: PayerSide
    wallet: StripeWallet
    api: StripeApi
    keys: IdempotencyKeys


class StripeSimulator(PayerActions, Served):
    """A Stripe account on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        secret_key: str = "sk_test_simulator",  # noqa: S107 - the simulator's own test key
        webhook_secret: str = "whsec_simulator",  # noqa: S107
        connect_webhook_secret: str = "whsec_simulator_connect",  # noqa: S107
        clock: Clock | None = None,
        refund_status: str = "succeeded",
        api_version: str = API_VERSION,
    ) -> None:
        self.secret_key, self.webhook_secret = secret_key, webhook_secret
        self.connect_webhook_secret = connect_webhook_secret
        self._clock: Callable[[], datetime] = clock.now if clock else lambda: datetime.now(UTC)
        self._opening = (api_version, refund_status)
        self.connected_accounts = ConnectedAccounts(self._clock, self._open_books)
        self._books: dict[str | None, Books] = {}
        platform = self._open_books(None)
        self.account, self.payer, self.wallet = platform.account, platform.payer, platform.wallet
        self._api, self._keys = platform.api, platform.keys
        self.requests: list[ApiRequest] = []
        self._lock = threading.RLock()
        self._injected: deque[StripeApiError | None] = deque()  # None: lose the response
        self._server = LocalServer.answering(self.answer, provider="stripe")

    # Running.

    @property
    def api_base(self) -> str:
        return self._server.base_url

    def now(self) -> datetime:
        return self._clock()

    # Stripe Connect.

    def connected(self, account_id: str) -> StripeSimulator:
        """This simulator as seen from a connected account: its objects, its payer's side, and
        its events (which carry `account`), signed with `connect_webhook_secret` as Stripe
        signs a Connect endpoint's deliveries."""
        books = self._books.get(account_id)
        if books is None:
            raise SimulatorError(f"no connected account {account_id}")
        view = copy.copy(self)
        view.account, view.payer, view.wallet = books.account, books.payer, books.wallet
        view._api, view._keys = books.api, books.keys
        view.webhook_secret = self.connect_webhook_secret
        return view

    def review_account(
        self, account_id: str, *, charges_enabled: bool = True, details_submitted: bool = True
    ) -> Delivery:
        """Stripe reviewed the school's details: the `account.updated` event it sends."""
        view = self.connected(account_id)

        def review() -> StripeObject:
            account = self.connected_accounts.review(
                account_id, charges_enabled=charges_enabled, details_submitted=details_submitted
            )
            return view.account.emit("account.updated", account)

        return view._act(review)

    def _open_books(self, account_id: str | None) -> Books:
        api_version, refund_status = self._opening
        account = StripeAccount(self._clock, api_version, refund_status, account_id)
        payer, wallet = PayerSide(account), StripeWallet(account)
        connect = self.connected_accounts if account_id is None else None
        books = Books(
            account, payer, wallet, StripeApi(account, payer, wallet, connect), IdempotencyKeys()
        )
        self._books[account_id] = books
        return books

    # What the account holds.

    @property
    def payment_intents(self) -> dict[str, StripeObject]:
        return self.account.payment_intents

    @property
    def refunds(self) -> dict[str, StripeObject]:
        return self.account.refunds

    @property
    def sessions(self) -> dict[str, StripeObject]:
        return self.account.sessions

    @property
    def disputes(self) -> dict[str, StripeObject]:
        return self.account.disputes

    @property
    def events(self) -> list[StripeObject]:
        return self.account.events

    def refunds_of(self, ref: str) -> list[StripeObject]:
        """The refunds of a PaymentIntent, or of a Checkout Session's PaymentIntent."""
        intent_id = self.sessions[ref]["payment_intent"] if ref.startswith("cs_") else ref
        return [r for r in self.refunds.values() if r["payment_intent"] == intent_id]

    # Failures for the next request.

    def fail_next(
        self, status: int = 500, *, retry_after: float | None = None, code: str | None = None
    ) -> None:
        """Answer the next request with `status` before doing anything (nothing is saved)."""
        self._injected.append(injected_failure(status, retry_after, code))

    def decline_next(self, code: str = "card_declined", decline_code: str | None = None) -> None:
        """Answer the next request with a 402 card error."""
        self._injected.append(
            StripeApiError(
                402,
                "Your card was declined.",
                type="card_error",
                code=code,
                decline_code=decline_code,
            )
        )

    def lose_next_response(self) -> None:
        """Do the next request, then drop the connection: the caller cannot know it happened."""
        self._injected.append(None)

    # Answering requests (called on the server's threads).

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        """The reply to one HTTP request; None to drop the connection without one."""
        with self._lock:
            request_id, key = new_id("req", 14), headers.get("idempotency-key")
            version, on = headers.get("stripe-version"), headers.get("stripe-account")
            books = self._books.get(on)
            injected, lose = self._take_injected()
            if injected is None and books is None:
                injected = no_access(self.secret_key, on)
            if injected is not None:
                reply = refusal(injected)
                self._record(ApiRequest(method, path, {}, key, reply.status, False, version, on))
                return stamped(reply, request_id, key, headers)
            assert books is not None
            books.account.request = {"id": request_id, "idempotency_key": key}
            reply, params, replayed = self._execute(books, method, path, headers, body, key)
            self._record(ApiRequest(method, path, params, key, reply.status, replayed, version, on))
            return None if lose else stamped(reply, request_id, key, headers)

    def _execute(
        self,
        books: Books,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        key: str | None,
    ) -> tuple[ApiReply, Mapping[str, Any], bool]:
        """One request on one account's books (idempotency keys are per account, as Stripe's)."""
        if headers.get("authorization") != f"Bearer {self.secret_key}":
            return refusal(bad_key(headers.get("authorization"))), {}, False
        api = books.api
        try:
            params = api.params(method, body)
        except StripeApiError as error:
            return refusal(error), {}, False
        if not key or method != "POST":  # Stripe keys POSTs only
            return api.dispatch(method, path, params, self.api_base), params, False
        replayed = books.keys.replay(key, method, path, params)
        if replayed is not None:
            return replayed, params, True
        reply = api.dispatch(method, path, params, self.api_base)
        books.keys.keep(key, method, path, params, reply)
        return reply, params, False

    def _take_injected(self) -> tuple[StripeApiError | None, bool]:
        if not self._injected:
            return None, False
        injected = self._injected.popleft()
        return injected, injected is None

    def _record(self, request: ApiRequest) -> None:
        self.requests.append(request)
