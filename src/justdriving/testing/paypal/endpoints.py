"""The PayPal simulator's HTTP side: requests and answers, the endpoints the PayPal gateway
calls (shaped after checkout_orders_v2, payments_payment_v2 and notifications_webhooks_v1),
and what the server calls with each request. The simulator (simulator.py) owns the state and
the lock.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from attrs import frozen

from justdriving.testing import wire
from justdriving.testing.local_server import Serve
from justdriving.testing.paypal import resources as res
from justdriving.testing.paypal import signing, views
from justdriving.testing.paypal.problems import PayPalProblem, invalid
from justdriving.testing.wire import ApiReply

if TYPE_CHECKING:
    from justdriving.testing.paypal.simulator import PayPalSimulator

TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105 - a URL path
VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
CHECKOUT_PATH = "/checkoutnow"
_VERIFY_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
)


@frozen
class RecordedRequest(wire.RecordedRequest):
    @property
    def request_id(self) -> str | None:
        return self.headers.get("paypal-request-id")


def token(sim: PayPalSimulator, request: RecordedRequest) -> ApiReply:
    given = request.headers.get("authorization", "")
    try:
        credentials = base64.b64decode(given.removeprefix("Basic "), validate=True)
    except ValueError:
        credentials = b""
    client_id = credentials.partition(b":")[0].decode(errors="replace")
    merchant = sim.merchants.get(client_id)
    expected = f"{client_id}:{merchant[0]}".encode() if merchant else b"\0"
    if not given.startswith("Basic ") or not secrets.compare_digest(credentials, expected):
        return ApiReply.json(
            401,
            {"error": "invalid_client", "error_description": "Client Authentication failed"},
        )
    form = parse_qs(request.body.decode(errors="replace"))
    if form.get("grant_type") != ["client_credentials"]:
        return ApiReply.json(
            400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}
        )
    token = f"A21AA{secrets.token_urlsafe(32)}"
    now = sim.clock()
    sim.remember_token(token, client_id)
    return ApiReply.json(
        200,
        {
            "scope": "https://uri.paypal.com/services/payments/payment/authcapture openid",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": sim.token_ttl,
            "nonce": f"{res.rfc3339(now)}{res.new_id(20)}",
        },
    )


def checkout_page(sim: PayPalSimulator, request: RecordedRequest) -> ApiReply:
    """PayPal's approval page, reduced to its outcome: the payer approves, and is sent back."""
    token = parse_qs(request.query).get("token", [""])[0]
    if token not in sim.ledger.orders:
        return ApiReply(404, b"no such order")
    sim.approve(token)
    back = sim.ledger.return_urls.get(token)
    if back is None:
        return ApiReply(200, b"approved", {"Content-Type": "text/plain"})
    query = urlencode({"token": token, "PayerID": res.PAYER_ID})
    return ApiReply(302, b"", {"Location": f"{back}{'&' if '?' in back else '?'}{query}"})


def route(sim: PayPalSimulator, request: RecordedRequest) -> ApiReply:
    for method, pattern, action in _ROUTES:
        matched = pattern.fullmatch(request.path)
        if matched and method == request.method:
            return action(sim, request, *matched.groups())
    raise PayPalProblem(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "no such resource")


# Endpoints.


def create_order(sim: PayPalSimulator, request: RecordedRequest) -> ApiReply:
    order = sim.ledger.create_order(_body(request))
    sim.order_owners[order.id] = sim.serving
    view = sim.ledger.order_json(sim.base_url, order)
    if "return=representation" not in request.headers.get("prefer", ""):
        view = {name: view[name] for name in ("id", "status", "links")}
    return ApiReply.json(201, view)


def get_order(sim: PayPalSimulator, request: RecordedRequest, order_id: str) -> ApiReply:
    return ApiReply.json(200, sim.ledger.order_json(sim.base_url, sim.ledger.order(order_id)))


def capture_order(sim: PayPalSimulator, request: RecordedRequest, order_id: str) -> ApiReply:
    order = sim.ledger.order(order_id)
    sim.ledger.ready(order, "CAPTURE")
    sim.check_decline()
    capture = sim.ledger.capture_order(order)
    sim.announce_capture("PAYMENT.CAPTURE.COMPLETED", capture)
    return ApiReply.json(201, sim.ledger.order_json(sim.base_url, order))


def authorize_order(sim: PayPalSimulator, request: RecordedRequest, order_id: str) -> ApiReply:
    order = sim.ledger.order(order_id)
    sim.ledger.ready(order, "AUTHORIZE")
    sim.check_decline()
    item = sim.ledger.authorize_order(order)
    sim.announce_authorization("PAYMENT.AUTHORIZATION.CREATED", item)
    return ApiReply.json(201, sim.ledger.order_json(sim.base_url, order))


def get_authorization(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    item = sim.ledger.authorization(ident)
    return ApiReply.json(200, sim.ledger.authorization_json(sim.base_url, item))


def capture_authorization(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    item, body = sim.ledger.authorization(ident), _body(request)
    sim.check_decline()
    capture = sim.ledger.capture_authorization(item, body)
    sim.announce_capture("PAYMENT.CAPTURE.COMPLETED", capture)
    return ApiReply.json(201, views.capture_view(sim.base_url, capture))


def void(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    item = sim.ledger.authorization(ident)
    sim.ledger.void(item)
    sim.announce_authorization("PAYMENT.AUTHORIZATION.VOIDED", item)
    if "return=representation" not in request.headers.get("prefer", ""):
        return ApiReply(204)
    return ApiReply.json(200, sim.ledger.authorization_json(sim.base_url, item))


def get_capture(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    return ApiReply.json(200, views.capture_view(sim.base_url, sim.ledger.capture(ident)))


def refund(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    refund = sim.ledger.refund_capture(sim.ledger.capture(ident), _body(request))
    if refund.status == "COMPLETED":
        sim.announce_refund("PAYMENT.CAPTURE.REFUNDED", refund)
    return ApiReply.json(201, sim.ledger.refund_json(sim.base_url, refund))


def get_refund(sim: PayPalSimulator, request: RecordedRequest, ident: str) -> ApiReply:
    return ApiReply.json(200, sim.ledger.refund_json(sim.base_url, sim.ledger.refund(ident)))


def verify(sim: PayPalSimulator, request: RecordedRequest) -> ApiReply:
    """verify-webhook-signature: checks the signature over the raw `webhook_event` text."""
    try:
        text = request.body.decode("utf-8")
        payload = json.loads(text)
    except ValueError:
        raise invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from None
    if not isinstance(payload, dict):
        raise invalid("MALFORMED_REQUEST_JSON", "The request JSON is not an object.")
    missing = [name for name in _VERIFY_FIELDS if not isinstance(payload.get(name), str)]
    if missing or not isinstance(payload.get("webhook_event"), dict):
        raise PayPalProblem(
            400,
            "VALIDATION_ERROR",
            "MISSING_REQUIRED_PARAMETER",
            f"missing {missing or 'webhook_event'}",
        )
    event = signing.member_texts(text)["webhook_event"].encode()
    genuine = sim.is_genuine({name: payload[name] for name in _VERIFY_FIELDS}, event)
    genuine = genuine and payload["webhook_id"] == sim.merchants[sim.serving][1]  # the app's own
    return ApiReply.json(200, {"verification_status": "SUCCESS" if genuine else "FAILURE"})


def _body(request: RecordedRequest) -> Any:
    if not request.body.strip():
        return {}
    try:
        return json.loads(request.body)
    except ValueError:
        raise invalid("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from None


_ID = "([A-Za-z0-9-]+)"
_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., ApiReply]]] = [
    ("POST", re.compile("/v2/checkout/orders"), create_order),
    ("GET", re.compile(f"/v2/checkout/orders/{_ID}"), get_order),
    ("POST", re.compile(f"/v2/checkout/orders/{_ID}/capture"), capture_order),
    ("POST", re.compile(f"/v2/checkout/orders/{_ID}/authorize"), authorize_order),
    ("GET", re.compile(f"/v2/payments/authorizations/{_ID}"), get_authorization),
    (
        "POST",
        re.compile(f"/v2/payments/authorizations/{_ID}/capture"),
        capture_authorization,
    ),
    ("POST", re.compile(f"/v2/payments/authorizations/{_ID}/void"), void),
    ("GET", re.compile(f"/v2/payments/captures/{_ID}"), get_capture),
    ("POST", re.compile(f"/v2/payments/captures/{_ID}/refund"), refund),
    ("GET", re.compile(f"/v2/payments/refunds/{_ID}"), get_refund),
    ("POST", re.compile(VERIFY_PATH), verify),
]


def serve(simulator: PayPalSimulator) -> Serve:
    """What the simulator's server calls with each request."""

    def answer(
        method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply:
        reply, stall = simulator.handle(RecordedRequest(method, path, query, headers, body))
        if stall:
            time.sleep(stall)  # a stalled answer: the client may give up waiting
        return reply

    return answer
