"""Outside production: a checkout page for the fake gateway, to pay a test invoice by hand.

`GET /dev/checkout/<provider_payment_id>` shows the amount and three buttons; the form posts
back with a CSRF token (a random nonce in a cookie, signed together with the payment into a
hidden field). The POST takes the signed delivery the fake provider would send, and a
background thread delivers it to this app's own webhook route over HTTP after the answer has
gone out, as a provider would. That route's URL comes from configuration, never from the
request's Host header: PUBLIC_BASE_URL, or else this server on the loopback address at the port
it listens on (`webhook_url`). The result page then shows the payment and its invoice.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import Forbidden

from justdriving.adapters.memory import FakeCharge, FakePaymentGateway, WebhookDelivery
from justdriving.application import Application
from justdriving.domain.errors import InvalidInput, PaymentNotAllowed, ProviderRejected
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.entrypoints.web.invoice_view import invoice_view, school_words

if TYPE_CHECKING:
    from justdriving.container import Container

log = logging.getLogger("justdriving.web.dev_checkout")

NONCE_COOKIE: Final = "justdriving_checkout_nonce"
TOKEN_MAX_AGE: Final = 3600
DELIVERY_TIMEOUT: Final = 10.0
_IN_FLIGHT = {"pending", "requires_action", "processing"}
# The page's own words, in the school's language (the invoice's come from its wording).
CHECKOUT_TEXTS: Final = {
    "da": {
        "pay": "Betal",
        "invoice": "Faktura nr.",
        "payment": "Betaling",
        "decline": "Afvis kortet",
        "secure": "3-D Secure, derefter betal",
        "finished": "Intet at betale her: betalingen er afsluttet",
        "outstanding": "udestående på fakturaen",
        "note": "Kun til udvikling: den falske betalingsudbyder",
        "amount": "Beløb",
        "invoice_status": "Fakturaens status",
        "waiting": "Venter på, at udbyderens webhook bliver behandlet; siden opdaterer sig selv.",
        "back": "Tilbage til betalingen",
    },
    "en": {
        "pay": "Pay",
        "invoice": "Invoice no.",
        "payment": "Payment",
        "decline": "Decline the card",
        "secure": "3-D Secure, then pay",
        "finished": "Nothing to pay here: this payment is finished",
        "outstanding": "outstanding on the invoice",
        "note": "Development only: the fake payment provider",
        "amount": "Amount",
        "invoice_status": "Invoice status",
        "waiting": "Waiting for the provider's webhook to be applied; this page refreshes itself.",
        "back": "Back to the checkout",
    },
}


class CsrfRejected(Forbidden):
    error_code = "csrf_rejected"
    description = "the form's CSRF token is missing or wrong: reload the checkout page"


def dev_checkout_blueprint(container: Container) -> Blueprint:
    """The `/dev/checkout` routes; `justdriving_blueprint` mounts them outside production."""
    pages = _CheckoutPages(
        container.application(), container.fake_gateway(), container.settings().public_base_url
    )
    blueprint = Blueprint("dev", __name__, url_prefix="/dev", template_folder="templates")
    blueprint.add_url_rule(
        "/checkout/<provider_payment_id>", "checkout", pages.checkout, methods=["GET"]
    )
    blueprint.add_url_rule("/checkout/<provider_payment_id>", "pay", pages.pay, methods=["POST"])
    blueprint.add_url_rule(
        "/checkout/<provider_payment_id>/result", "result", pages.result, methods=["GET"]
    )
    return blueprint


class _CheckoutPages:
    def __init__(
        self, app: Application, gateway: FakePaymentGateway, public_base_url: str | None
    ) -> None:
        self._app = app
        self._gateway = gateway
        self._public_base_url = public_base_url
        # A key per process: a restart only invalidates checkout pages left open.
        self._signer = URLSafeTimedSerializer(secrets.token_bytes(32), salt="dev-checkout")
        self._outcomes: dict[str, Callable[[str], list[WebhookDelivery]]] = {
            "pay": lambda ref: [gateway.succeed(ref)],
            "decline": lambda ref: [gateway.fail(ref)],
            "3ds": lambda ref: [gateway.require_action(ref), gateway.succeed(ref)],
        }

    def checkout(self, provider_payment_id: str) -> ResponseReturnValue:
        summary = self._summary(provider_payment_id)
        nonce = secrets.token_urlsafe(24)
        token = self._signer.dumps([provider_payment_id, nonce])
        page = render_template("justdriving/checkout.html", token=token, **summary)
        response = make_response(page)
        response.set_cookie(
            NONCE_COOKIE, nonce, httponly=True, samesite="Strict", path=request.path
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def pay(self, provider_payment_id: str) -> ResponseReturnValue:
        self._check_csrf(provider_payment_id)
        outcome = self._outcomes.get(request.form.get("outcome", ""))
        if outcome is None:
            raise InvalidInput("outcome must be pay, decline or 3ds")
        summary = self._summary(provider_payment_id)  # 404 for a payment never started
        if not summary["payable"]:
            raise PaymentNotAllowed("this payment is finished: nothing more can be paid on it")
        deliveries = outcome(provider_payment_id)
        path = url_for(
            "justdriving.justdriving_webhooks.receive",
            channel="payments",
            provider=self._gateway.name,
        )
        url = webhook_url(self._public_base_url, path, request.environ.get("SERVER_PORT"))
        result = url_for(".result", provider_payment_id=provider_payment_id)
        response = redirect(result, code=303)
        sender = threading.Thread(
            target=deliver, args=(url, deliveries), name="dev-checkout-webhook", daemon=True
        )
        response.call_on_close(sender.start)  # once the answer is out, like a provider
        return response

    def result(self, provider_payment_id: str) -> ResponseReturnValue:
        summary = self._summary(provider_payment_id)
        waiting = summary["payment_status"] in _IN_FLIGHT
        return render_template("justdriving/result.html", waiting=waiting, **summary)

    def _check_csrf(self, provider_payment_id: str) -> None:
        cookie = request.cookies.get(NONCE_COOKIE, "")
        try:
            signed = self._signer.loads(request.form.get("csrf_token", ""), max_age=TOKEN_MAX_AGE)
        except BadData:
            raise CsrfRejected() from None
        if not (isinstance(signed, list) and len(signed) == 2 and cookie):
            raise CsrfRejected()
        ref, nonce = signed
        if ref != provider_payment_id or not hmac.compare_digest(str(nonce), cookie):
            raise CsrfRejected()

    def _summary(self, provider_payment_id: str) -> dict[str, Any]:
        found = self._app.payer.checkout(self._gateway.name, provider_payment_id)
        payment, invoice, school = found.payment, found.invoice, found.school
        charge = self._gateway.charges.get(provider_payment_id)
        if charge is None:  # started before `justdriving run` restarted: the fake forgot it
            charge = _as_charge(payment)
            self._gateway.restore(charge)
        # Paid at the provider already (its webhook perhaps not applied yet), finished here, or
        # the invoice needs nothing more: no Pay button, so nothing can be taken twice.
        payable = (
            self._gateway.is_payable(provider_payment_id)
            and payment.is_open
            and (invoice is None or invoice.outstanding.is_positive)
        )
        words = school_words(school)
        return {
            "language": words.language,
            "texts": CHECKOUT_TEXTS[words.language],
            "invoice": invoice_view(invoice, school) if invoice else None,
            "provider_payment_id": provider_payment_id,
            "payable": payable,
            "amount": words.money(charge.amount, with_currency=True),
            "payment_status": str(payment.status),
            "invoice_number": invoice.number if invoice else None,
            "invoice_status": str(invoice.status) if invoice else None,
            "outstanding": words.money(invoice.outstanding, with_currency=True)
            if invoice
            else None,
        }


def webhook_url(public_base_url: str | None, path: str, server_port: object) -> str:
    """Where the fake provider posts: `path` under PUBLIC_BASE_URL, or else under this server
    on 127.0.0.1 at the port the WSGI server says it listens on (waitress and gunicorn take
    it from their socket; a Host header cannot move the delivery to another host)."""
    if public_base_url:
        return public_base_url.rstrip("/") + path
    port = str(server_port or "")
    if not (port.isdigit() and 0 < int(port) < 65536):
        raise InvalidInput("the server's port is unknown: set PUBLIC_BASE_URL")
    return f"http://127.0.0.1:{int(port)}{path}"


def deliver(url: str, deliveries: Sequence[WebhookDelivery]) -> None:
    """POST each signed delivery to `url` in order, as the provider would; log what happened."""
    if not url.startswith(("http://", "https://")):
        raise ProviderRejected("fake", f"will not deliver a webhook to {url}")
    for body, headers in deliveries:
        post = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked above
            url, data=body, headers={**headers, "Content-Type": "application/json"}, method="POST"
        )
        try:
            # An http(s) URL (checked above): the app's own webhook route, in development only.
            with urllib.request.urlopen(post, timeout=DELIVERY_TIMEOUT) as answer:  # noqa: S310 # nosec B310
                log.info("dev checkout: webhook delivered to %s: %s", url, answer.status)
        except (urllib.error.URLError, OSError) as error:
            log.warning("dev checkout: delivering the webhook to %s failed: %s", url, error)


def _as_charge(payment: Payment) -> FakeCharge:
    """What the provider would still know of a payment started before a restart."""
    status = payment.status if payment.status.is_final else PaymentStatus.PENDING
    return FakeCharge(
        provider_payment_id=payment.provider_payment_id or "",
        payment_id=payment.id,
        amount=payment.amount,
        capture_mode=payment.capture_mode,
        metadata={"payment_id": payment.id, "school_id": payment.school_id},
        status=status,
        captured=payment.captured,
    )
