"""The simulator's routes: Stripe's URLs mapped to the account's operations, and its replies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import evolve

from justdriving.testing.stripe.account import StripeAccount, public
from justdriving.testing.stripe.connected import ConnectedAccounts
from justdriving.testing.stripe.forms import FormError, decode_form
from justdriving.testing.stripe.objects import StripeApiError, StripeObject
from justdriving.testing.stripe.payer import PayerSide
from justdriving.testing.stripe.wallet import StripeWallet
from justdriving.testing.wire import ApiReply

Params = dict[str, Any]


def ok(obj: StripeObject) -> ApiReply:
    """A Stripe object as Stripe shows it."""
    return ApiReply(200, json.dumps(public(obj), indent=2).encode())


def refusal(error: StripeApiError) -> ApiReply:
    """Stripe's error envelope, with Retry-After where the error has one."""
    body = json.dumps(error.envelope(), indent=2).encode()
    return ApiReply(error.status, body, {}, error.retry_after)


def replayed(reply: ApiReply) -> ApiReply:
    """A kept answer again, marked as Stripe marks a replayed idempotent request."""
    return evolve(reply, headers={**reply.headers, "Idempotent-Replayed": "true"})


def stamped(
    reply: ApiReply, request_id: str, key: str | None, request: Mapping[str, str]
) -> ApiReply:
    """The headers Stripe adds to every answer: Request-Id, the API version asked for, the
    Idempotency-Key, Retry-After."""
    headers = {"Content-Type": "application/json", "Request-Id": request_id, **reply.headers}
    if request.get("stripe-version"):
        headers["Stripe-Version"] = request["stripe-version"]
    if key:
        headers["Idempotency-Key"] = key
    if reply.retry_after is not None:
        headers["Retry-After"] = f"{reply.retry_after:g}"
    return evolve(reply, headers=headers)


Route = Callable[[str, Params, str], StripeObject]


class StripeApi:
    """Finds the operation for a request and turns its outcome into a reply."""

    def __init__(
        self,
        account: StripeAccount,
        payer: PayerSide,
        wallet: StripeWallet,
        connect: ConnectedAccounts | None = None,
    ) -> None:
        """`connect`: the platform's connected accounts, served on the platform's own API."""
        a, w = account, wallet
        setups = r"/v1/setup_intents/(?P<id>[^/]+)"
        methods = r"/v1/payment_methods/(?P<id>[^/]+)"
        intents = r"/v1/payment_intents/(?P<id>[^/]+)"
        sessions = r"/v1/checkout/sessions/(?P<id>[^/]+)"
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            (method, re.compile(f"^{pattern}$"), route)
            for method, pattern, route in [
                ("POST", r"/v1/payment_intents", lambda _, p, __: self._create_intent(p)),
                ("GET", intents, lambda i, _, __: a.payment_intent(i)),
                ("POST", intents, lambda i, p, __: a.update_payment_intent(i, p)),
                ("POST", f"{intents}/confirm", lambda i, p, __: self._confirm(i, p)),
                ("POST", f"{intents}/capture", lambda i, p, __: a.capture(i, p)),
                ("POST", f"{intents}/cancel", lambda i, p, __: a.cancel(i, p)),
                ("POST", r"/v1/refunds", lambda _, p, __: a.create_refund(p)),
                ("GET", r"/v1/refunds/(?P<id>[^/]+)", lambda i, _, __: a.refund(i)),
                ("POST", r"/v1/checkout/sessions", lambda _, p, base: a.create_session(p, base)),
                ("GET", sessions, lambda i, _, __: a.session(i)),
                ("POST", f"{sessions}/expire", lambda i, _, __: a.expire_session(i)),
                ("POST", r"/v1/customers", lambda _, p, __: a.create_customer(p)),
                ("GET", r"/v1/customers/(?P<id>[^/]+)", lambda i, _, __: a.customer(i)),
                ("GET", r"/v1/customers/(?P<id>[^/]+)/payment_methods",
                 lambda i, _, __: w.customer_methods(i)),
                ("POST", r"/v1/setup_intents", lambda _, p, __: w.create_setup_intent(p)),
                ("GET", setups, lambda i, _, __: w.setup_intent(i)),
                ("GET", methods, lambda i, _, __: w.payment_method(i)),
                ("POST", f"{methods}/detach", lambda i, _, __: w.detach(i)),
            ]
        ]  # fmt: skip
        if connect is not None:
            self._routes += [
                ("POST", re.compile("^/v1/accounts$"), lambda _, p, __: connect.create(p)),
                ("GET", re.compile("^/v1/accounts/(?P<id>[^/]+)$"),
                 lambda i, _, __: connect.account(i)),
                ("POST", re.compile("^/v1/account_links$"),
                 lambda _, p, __: connect.create_link(p)),
            ]  # fmt: skip
        self._account, self._payer, self._wallet = account, payer, wallet

    def params(self, method: str, body: bytes) -> Params:
        if method != "POST":
            return {}  # GET query strings (expand[]) are ignored
        try:
            return decode_form(body)
        except FormError as error:
            raise StripeApiError(400, str(error)) from None

    def dispatch(self, method: str, path: str, params: Params, base_url: str) -> ApiReply:
        path = path.split("?", 1)[0]
        for route_method, pattern, route in self._routes:
            match = pattern.match(path)
            if match and route_method == method:
                try:
                    return ok(route(match.groupdict().get("id", ""), params, base_url))
                except StripeApiError as error:
                    return refusal(error)
        return refusal(StripeApiError(404, f"Unrecognized request URL ({method}: {path})."))

    def _confirm(self, pi_id: str, params: Params) -> StripeObject:
        return self._payer.confirm(pi_id, params.get("payment_method"))

    def _create_intent(self, params: Params) -> StripeObject:
        intent = self._account.create_payment_intent(dict(params))
        if params.get("confirm") == "true" and self._wallet.holds(params.get("payment_method")):
            return self._wallet.charge(self._payer, intent, params)
        if params.get("confirm") == "true":
            return self._payer.confirm(intent["id"], params.get("payment_method"))
        return intent
