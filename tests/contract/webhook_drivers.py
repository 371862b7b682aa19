"""One driver per webhook receiver for the contract suite: each builds requests signed with
its provider's own scheme (hermetic: secrets and keys are made here; PayPal's verification is
answered by its local simulator)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, fake_webhooks
from justdriving.adapters.webhooks.payments import payment_receiver
from justdriving.ports.webhooks import WebhookReceiver, WebhookRequest

NOW = datetime.fromisoformat("2025-03-14T09:30:00+00:00")
SECRET = "whsec_contract_secret_0123456789abcdef"
OTHER = "whsec_another_secret_0123456789abcdef"


class Driver(Protocol):
    name: str
    replay_window: bool  # False: the scheme signs no time (repeats are stopped by the inbox)
    keeps_raw: bool  # True: an unknown type comes back as UnknownEvent with the raw item

    def receiver(self) -> WebhookReceiver:
        """A fresh receiver (a fresh replay cache, where there is one)."""
        ...

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        """One event, signed at `at` with `secret`."""
        ...

    def unsigned(self, request: WebhookRequest) -> WebhookRequest: ...

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        """The same signature over content changed after signing."""
        ...

    def signed_raw(self, content: bytes) -> WebhookRequest:
        """`content` in the place the scheme signs (the body, or the claims), signed well."""
        ...


def _headers_without(request: WebhookRequest, *names: str) -> WebhookRequest:
    lower = {name.lower() for name in names}
    kept = {k: v for k, v in request.headers.items() if k.lower() not in lower}
    return WebhookRequest(request.path, request.body, kept)


def _flip(body: bytes) -> bytes:
    """The body with its event id changed: `evt` becomes `evu` (the signature no longer fits)."""
    return body.replace(b"evt", b"evu", 1) if b"evt" in body else body + b" "


# Payments ---------------------------------------------------------------------------------


class FakeDriver:
    name, replay_window, keeps_raw = "fake", True, False
    path = "/webhook/payments/fake"

    def receiver(self) -> WebhookReceiver:
        return payment_receiver(FakePaymentGateway(webhook_secret=SECRET, clock=FrozenClock(NOW)))

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        kind = "payment.teleported" if unknown else "payment.succeeded"
        data = {"payment_id": "pay_1", "provider_payment_id": "fake_pi_1"}
        body = fake_webhooks.encode(event_id, kind, at, data)
        return WebhookRequest(self.path, body, fake_webhooks.sign(body, secret, at))

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, fake_webhooks.SIGNATURE_HEADER)

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.path, _flip(request.body), request.headers)

    def signed_raw(self, content: bytes) -> WebhookRequest:
        return WebhookRequest(self.path, content, fake_webhooks.sign(content, SECRET, NOW))


class StripeDriver:
    name, replay_window, keeps_raw = "stripe", True, False
    path = "/webhook/payments/stripe"

    def receiver(self) -> WebhookReceiver:
        pytest.importorskip("stripe")
        from justdriving.adapters.payments.stripe.gateway import StripeGateway

        return payment_receiver(
            StripeGateway("sk_test_contract", SECRET, api_base="http://127.0.0.1:9")
        )

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        intent = {
            "id": "pi_1",
            "object": "payment_intent",
            "amount_received": 50000,
            "currency": "dkk",
            "metadata": {"payment_id": "pay_1"},
        }
        kind = "customer.created" if unknown else "payment_intent.succeeded"
        event = {
            "id": event_id,
            "type": kind,
            "created": int(at.timestamp()),
            "data": {"object": intent},
        }
        return self._signed(json.dumps(event).encode(), at, secret)

    def _signed(self, body: bytes, at: datetime, secret: str) -> WebhookRequest:
        from justdriving.adapters.payments.stripe.signature import expected_signature

        stamp = int(at.timestamp())
        header = f"t={stamp},v1={expected_signature(secret, stamp, body)}"
        return WebhookRequest(self.path, body, {"Stripe-Signature": header})

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, "Stripe-Signature")

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.path, _flip(request.body), request.headers)

    def signed_raw(self, content: bytes) -> WebhookRequest:
        return self._signed(content, NOW, SECRET)


class PayPalDriver:
    """The wrong secret is another webhook id: PayPal's answer to the verification is FAILURE."""

    name, replay_window, keeps_raw = "paypal", True, False
    path = "/webhook/payments/paypal"

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator

    def receiver(self) -> WebhookReceiver:
        from justdriving.adapters.payments.paypal.gateway import PayPalGateway

        s = self.simulator
        gateway = PayPalGateway(s.client_id, s.client_secret, s.webhook_id, api_base=s.base_url)
        return payment_receiver(gateway)

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        resource = {
            "id": "CAP-1",
            "status": "COMPLETED",
            "custom_id": "pay_1",
            "amount": {"currency_code": "DKK", "value": "500.00"},
            "supplementary_data": {"related_ids": {"order_id": "ORDER-1"}},
        }
        event = {
            "id": event_id,
            "event_type": "CATALOG.PRODUCT.CREATED" if unknown else "PAYMENT.CAPTURE.COMPLETED",
            "create_time": at.isoformat(),
            "resource": resource,
        }
        return self._signed(json.dumps(event).encode(), at, secret)

    def _signed(self, body: bytes, at: datetime, secret: str) -> WebhookRequest:
        webhook_id = None if secret == SECRET else "WH-ANOTHER"
        return WebhookRequest(self.path, body, self.simulator.sign(body, at, webhook_id=webhook_id))

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, "PAYPAL-TRANSMISSION-SIG")

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.path, _flip(request.body), request.headers)

    def signed_raw(self, content: bytes) -> WebhookRequest:
        return self._signed(content, NOW, SECRET)


# SMS --------------------------------------------------------------------------------------


class TwilioDriver:
    """Twilio signs the URL and the form; its callbacks carry no time, so there is no replay
    window: a repeat has the same MessageSid and status, and the inbox drops it."""

    name, replay_window, keeps_raw = "twilio", False, False
    base = "https://school.example"
    path = "/webhook/sms/twilio/status?ref=msg_1"

    def receiver(self) -> WebhookReceiver:
        pytest.importorskip("twilio")
        from justdriving.adapters.sms.twilio.webhooks import TwilioWebhooks
        from justdriving.adapters.webhooks.messages import TwilioReceiver

        return TwilioReceiver(TwilioWebhooks(SECRET, self.base))

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        form = {"MessageSid": event_id, "MessageStatus": "teleported" if unknown else "delivered"}
        return self._signed(form, secret)

    def _signed(self, form: dict[str, str], secret: str) -> WebhookRequest:
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(secret).compute_signature(self.base + self.path, form)
        headers = {"X-Twilio-Signature": signature}
        return WebhookRequest(self.path, urlencode(form).encode(), headers)

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, "X-Twilio-Signature")

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.path, _flip(request.body), request.headers)

    def signed_raw(self, content: bytes) -> WebhookRequest:
        text = content.decode("utf-8", "replace")
        return self._signed({"MessageSid": text, "MessageStatus": text}, SECRET)


class GatewayApiDriver:
    """GatewayAPI signs the notification's fields as JWT claims; `exp` bounds its replay."""

    name, replay_window, keeps_raw = "gatewayapi", True, False
    path = "/webhook/sms/gatewayapi/status"

    def receiver(self) -> WebhookReceiver:
        from justdriving.adapters.sms.gatewayapi.webhooks import GatewayApiWebhooks
        from justdriving.adapters.webhooks.messages import GatewayApiReceiver

        return GatewayApiReceiver(GatewayApiWebhooks(SECRET))

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        claims = {
            "id": event_id,
            "msisdn": 4520123456,
            "status": "TELEPORTED" if unknown else "DELIVERED",
            "time": int(at.timestamp()),
            "userref": "msg_1",
            "iat": int(at.timestamp()),
            "exp": int((at + timedelta(minutes=5)).timestamp()),
        }
        return self._signed(claims, secret)

    def _signed(self, claims: dict[str, Any], secret: str) -> WebhookRequest:
        import jwt

        token = jwt.encode(claims, secret, algorithm="HS256")
        return WebhookRequest(self.path, b"{}", {"X-Gwapi-Signature": token})

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, "X-Gwapi-Signature")

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        import base64

        header, claims, signature = request.headers["X-Gwapi-Signature"].split(".")
        decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        decoded["status"] = "UNDELIVERABLE"
        forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
        token = f"{header}.{forged}.{signature}"
        return WebhookRequest(request.path, request.body, {"X-Gwapi-Signature": token})

    def signed_raw(self, content: bytes) -> WebhookRequest:
        try:
            claims = json.loads(content)
        except (ValueError, RecursionError):
            claims = {"id": content.decode("utf-8", "replace")}
        if not isinstance(claims, dict):
            claims = {"id": "evt_1", "status": claims}
        return self._signed(claims, SECRET)


# Email ------------------------------------------------------------------------------------


class SendGridDriver:
    """The ECDSA key pair is made here; `secret=OTHER` signs with another pair's key."""

    name, replay_window, keeps_raw = "sendgrid", True, True
    path = "/webhook/email/sendgrid"

    def __init__(self) -> None:
        from justdriving.testing.sendgrid.webhooks import EventSigner

        self.signer, self.other = EventSigner(), EventSigner()

    def receiver(self) -> WebhookReceiver:
        from justdriving.adapters.email.sendgrid.events import SendGridWebhooks
        from justdriving.adapters.webhooks.messages import SendGridReceiver

        return SendGridReceiver(SendGridWebhooks(self.signer.public_key))

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        event = {
            "email": "elev@example.dk",
            "timestamp": int(at.timestamp()),
            "event": "teleported" if unknown else "delivered",
            "sg_event_id": event_id,
            "sg_message_id": "abc.filter-1",
            "reference": "msg_1",
        }
        body = json.dumps([event]).encode() + b"\r\n"
        signer = self.signer if secret == SECRET else self.other
        return WebhookRequest(self.path, body, signer.sign(body, int(at.timestamp())))

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return _headers_without(request, "X-Twilio-Email-Event-Webhook-Signature")

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        return WebhookRequest(request.path, _flip(request.body), request.headers)

    def signed_raw(self, content: bytes) -> WebhookRequest:
        return WebhookRequest(self.path, content, self.signer.sign(content, int(NOW.timestamp())))


class MailgunDriver:
    """Mailgun signs timestamp + token, not the event: a tampered event is caught when its
    token was spent (or its time is later than the signature's), see email/mailgun/events.py."""

    name, replay_window, keeps_raw = "mailgun", True, True
    path = "/webhook/email/mailgun"

    def receiver(self) -> WebhookReceiver:
        from justdriving.adapters.email.mailgun.events import MailgunWebhooks
        from justdriving.adapters.webhooks.messages import MailgunReceiver

        return MailgunReceiver(MailgunWebhooks(SECRET))

    def _block(self, at: datetime, secret: str) -> dict[str, str]:
        timestamp, token = str(int(at.timestamp())), secrets.token_hex(25)
        digest = hmac.new(secret.encode(), (timestamp + token).encode(), hashlib.sha256)
        return {"timestamp": timestamp, "token": token, "signature": digest.hexdigest()}

    def delivery(
        self, event_id: str, *, unknown: bool = False, at: datetime = NOW, secret: str = SECRET
    ) -> WebhookRequest:
        event = {
            "id": event_id,
            "timestamp": at.timestamp(),
            "event": "teleported" if unknown else "delivered",
            "message": {"headers": {"message-id": "20250314.1@mg.example.dk"}},
            "user-variables": {"reference": "msg_1"},
        }
        body = {"signature": self._block(at, secret), "event-data": event}
        return WebhookRequest(self.path, json.dumps(body).encode(), {})

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        body = json.loads(request.body)
        del body["signature"]
        return WebhookRequest(request.path, json.dumps(body).encode(), {})

    def tampered(self, request: WebhookRequest) -> WebhookRequest:
        body = json.loads(request.body)
        body["signature"]["timestamp"] = str(int(body["signature"]["timestamp"]) + 1)
        return WebhookRequest(request.path, json.dumps(body).encode(), {})

    def signed_raw(self, content: bytes) -> WebhookRequest:
        block = json.dumps(self._block(NOW, SECRET)).encode()
        body = b'{"signature": ' + block + b', "event-data": ' + content + b"}"
        return WebhookRequest(self.path, body, {})


@contextmanager
def paypal_driver() -> Iterator[Driver]:
    pytest.importorskip("httpx")
    from justdriving.testing.paypal.simulator import PayPalSimulator

    with PayPalSimulator(clock=lambda: NOW) as simulator:
        yield PayPalDriver(simulator)


@contextmanager
def plain(driver: Any) -> Iterator[Driver]:
    yield driver


DRIVERS = {
    "fake": lambda: plain(FakeDriver()),
    "stripe": lambda: plain(StripeDriver()),
    "paypal": paypal_driver,
    "twilio": lambda: plain(TwilioDriver()),
    "gatewayapi": lambda: plain(GatewayApiDriver()),
    "sendgrid": lambda: plain(SendGridDriver()),
    "mailgun": lambda: plain(MailgunDriver()),
}
