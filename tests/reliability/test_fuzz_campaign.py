"""Campaign 7, fuzzing the web tier over HTTP: three platforms on one database (SQLite, then
PostgreSQL), each served as `justdriving serve` serves it (`serving_app`, waitress with its
limits), get generated requests on every route over loopback sockets: random bytes, wrong
content types, huge and deeply nested bodies, unicode and NULs in targets, headers and bodies,
chunked bodies, wrong signatures and credentials; then hostile but correctly signed payloads
(each provider's scheme, the right API token).

Recorded, and asserted: no answer is a 5xx (nor a dropped connection), no traceback is
logged, and the unsigned phase changes nothing stored (every table keeps its row count).
JUSTDRIVING_CAMPAIGN_SCALE multiplies the requests (scale 10: over 10,000 per database pair).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from twilio.request_validator import RequestValidator

from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.tables import metadata
from justdriving.application import Application
from justdriving.config import LogFormat, LogLevel, Mailer, PaymentProvider, Settings, SmsProvider
from justdriving.container import build_container
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.entrypoints.flask_app import serving_app
from justdriving.entrypoints.web.server import WebServer
from justdriving.logs import configure_logging
from justdriving.testing.gatewayapi.notifications import jwt_hs256
from justdriving.testing.sendgrid.webhooks import EventSigner

from .fuzz_support import (
    NASTY_TEXT,
    Request,
    body_for,
    headers_for,
    json_value,
    nested,
    send,
    target_for,
)
from .support import campaign_scale, own_postgres_database

UNSIGNED = 500 * campaign_scale()
SIGNED = 250 * campaign_scale()
NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
BASE = "https://app.example"
API_TOKEN = "fuzz-campaign-api-token"
OPS_TOKEN = "fuzz-campaign-ops-token"
SENDGRID = EventSigner()
STRIPE_SECRET = "whsec_fuzzcampaign"
TWILIO_TOKEN = "twilio-fuzz-auth-token"
GATEWAYAPI_SECRET = "gatewayapi-fuzz-secret"
MAILGUN_KEY = "mailgun-fuzz-signing-key"
FAKE_SECRET = "fake-fuzz-webhook-secret"
MOBILEPAY_SECRET = "mobilepay-fuzz-webhook-secret"
MOBILEPAY_MSN = "123456"
MOBILEPAY_HEADERS = ("x-ms-date", "x-ms-content-sha256", "Authorization")

COMMON: dict[str, Any] = {
    "public_base_url": BASE,
    "mail_from_address": "skole@example.dk",
    "api_token": API_TOKEN,
    "ops_token": OPS_TOKEN,
    "return_url_hosts": ("school.example",),
}
PLATFORMS: dict[str, dict[str, Any]] = {
    "fake+twilio+sendgrid": {
        "payment_webhook_secret": FAKE_SECRET,
        "sms_provider": SmsProvider.TWILIO,
        "sms_provider_key": "AC" + "0" * 32,
        "sms_provider_secret": TWILIO_TOKEN,
        "sms_from_number": "+4512345678",
        "mail_mailer": Mailer.SENDGRID,
        "mail_api_key": "SG.fuzz",
        "mail_webhook_secret": SENDGRID.public_key,
    },
    "stripe+gatewayapi+mailgun": {
        "payment_provider": PaymentProvider.STRIPE,
        "payment_provider_secret": "sk_test_fuzz",
        "payment_webhook_secret": STRIPE_SECRET,
        "payment_api_base_url": "http://127.0.0.1:9",
        "sms_provider": SmsProvider.GATEWAYAPI,
        "sms_provider_secret": "gatewayapi-token",
        "sms_webhook_secret": GATEWAYAPI_SECRET,
        "sms_from_number": "Skolen",
        "mail_mailer": Mailer.MAILGUN,
        "mail_api_key": "key-fuzz",
        "mail_webhook_secret": MAILGUN_KEY,
        "mail_domain": "mg.example",
    },
    "paypal": {
        "payment_provider": PaymentProvider.PAYPAL,
        "payment_provider_key": "paypal-client",
        "payment_provider_secret": "paypal-secret",
        "payment_webhook_secret": "WH-FUZZ",
        # Nothing listens there: what is not PayPal's must be refused before any call.
        "payment_api_base_url": "http://127.0.0.1:9",
        # Vipps MobilePay beside it, a gateway a school chooses by name; nothing listens at
        # its API either (verification is local: HMAC over the registered URL).
        "mobilepay_client_id": "mobilepay-client",
        "mobilepay_client_secret": "mobilepay-secret",
        "mobilepay_subscription_key": "mobilepay-subscription",
        "mobilepay_merchant_serial_number": MOBILEPAY_MSN,
        "mobilepay_webhook_secret": MOBILEPAY_SECRET,
        "mobilepay_api_base": "http://127.0.0.1:9",
    },
}
PAYPAL_HEADERS = (
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
)
# platform → [(method, path, signature headers)]; "ID" is replaced by ids, good and hostile.
ROUTES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "fake+twilio+sendgrid": [
        ("GET", "/healthz", ()),
        ("GET", "/readyz", ()),
        ("POST", "/webhook/payments/fake", ("Fake-Signature",)),
        ("POST", "/webhook/payments/ID", ()),
        ("POST", "/webhook/sms/twilio/status", ("X-Twilio-Signature",)),
        ("POST", "/webhook/sms/twilio/inbound", ("X-Twilio-Signature",)),
        (
            "POST",
            "/webhook/email/sendgrid",
            (
                "X-Twilio-Email-Event-Webhook-Signature",
                "X-Twilio-Email-Event-Webhook-Timestamp",
            ),
        ),
        ("POST", "/api/invoices/ID/payments", ("Authorization",)),
        ("GET", "/ops", ("Authorization",)),
        ("POST", "/ops/outbox/ID/retry", ("Authorization",)),
        ("GET", "/dev/checkout/ID", ()),
        ("POST", "/dev/checkout/ID", ("Cookie",)),
        ("GET", "/dev/checkout/ID/result", ()),
        ("PUT", "/healthz", ()),
        ("GET", "/ID", ()),
    ],
    "stripe+gatewayapi+mailgun": [
        ("POST", "/webhook/payments/stripe", ("Stripe-Signature",)),
        ("POST", "/webhook/sms/gatewayapi/status", ("X-Gwapi-Signature",)),
        ("POST", "/webhook/sms/gatewayapi/inbound", ("X-Gwapi-Signature",)),
        ("POST", "/webhook/email/mailgun", ()),
    ],
    "paypal": [
        ("POST", "/webhook/payments/paypal", PAYPAL_HEADERS),
        ("POST", "/webhook/payments/mobilepay", MOBILEPAY_HEADERS),
    ],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fuzz.db'}"
        return
    with own_postgres_database("justdriving_fuzz") as url:
        yield url


class Platform:
    """One platform's app on the shared database, served on a loopback port."""

    def __init__(self, name: str, database_url: str) -> None:
        settings = Settings(database_url=database_url, **COMMON, **PLATFORMS[name])
        self.name = name
        self.container = build_container(settings)
        self.container.clock.override(FrozenClock(NOW))
        self.app: Application = self.container.application()
        self.server = WebServer(serving_app(self.container), "127.0.0.1", 0, threads=8)
        self.port = self.server.port
        self._thread = threading.Thread(target=self.server.serve, daemon=True)

    def __enter__(self) -> Platform:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop()
        self._thread.join(10)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in metadata.sorted_tables
        }


def _seed(app: Application) -> dict[str, str]:
    school = app.register_school("Køreskolen Fuzz")
    student = app.add_student(school.id, "Ida Holm", email="ida@example.dk", phone="+4520123456")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    draft = app.draft_invoice(school.id, student.id, [line])
    invoice = app.issue_invoice(school.id, draft.id)
    started = app.start_invoice_payment(school.id, invoice.id)
    return {
        "school": school.id,
        "invoice": invoice.id,
        "payment": started.payment.id,
        "ref": started.session.provider_payment_id,
    }


def _unsigned(
    rng: random.Random, routes: list[tuple[str, str, tuple[str, ...]]], ids: dict[str, str]
) -> Request:
    method, path, names = rng.choice(routes)
    path = path.replace("ID", rng.choice([ids["invoice"], ids["ref"], "unknown", "ID"]), 1)
    body, kind = body_for(rng) if method in ("POST", "PUT") else (b"", "no body")
    chunked = bool(body) and rng.random() < 0.25
    headers = headers_for(rng, names)
    return Request(
        method,
        target_for(rng, path),
        headers,
        body,
        chunked,
        "chunked " + kind if chunked else kind,
    )


# ---------------------------------------------------------------------------------------------
# correctly signed, hostile payloads


def _hostile_id(rng: random.Random) -> Any:
    return rng.choice([*NASTY_TEXT, "x" * 300, "evt_\x00", 12, None, [], {"a": 1}, "evt_ok"])


def _event_data(rng: random.Random, ids: dict[str, str]) -> dict[str, Any]:
    data = json_value(rng)
    obj = data if isinstance(data, dict) else {"value": data}
    if rng.random() < 0.5:
        obj["payment_id"] = rng.choice([ids["payment"], _hostile_id(rng)])
        obj["id"] = rng.choice([ids["ref"], _hostile_id(rng)])
        obj["amount"] = rng.choice([50000, -1, 2**70, "500", None, 1.5])
    return obj


def _signed_fake(rng: random.Random, ids: dict[str, str]) -> Request:
    from justdriving.adapters.memory.fake_webhooks import sign

    event = {
        "id": _hostile_id(rng),
        "type": rng.choice(["payment.succeeded", "payment.failed", "refund.succeeded", "x", 7]),
        "data": _event_data(rng, ids),
        "created": rng.choice([int(NOW.timestamp()), 10**20, -1, "now"]),
    }
    body = json.dumps(event).encode() if rng.random() < 0.9 else nested(3000)
    headers = {"Content-Type": "application/json", **sign(body, FAKE_SECRET, NOW)}
    return Request(
        "POST", b"/webhook/payments/fake", _h(headers), body, rng.random() < 0.2, "signed"
    )


def _signed_stripe(rng: random.Random, ids: dict[str, str]) -> Request:
    event = {
        "id": _hostile_id(rng),
        "object": "event",
        "type": rng.choice(
            ["payment_intent.succeeded", "charge.refunded", "checkout.session.completed", "x"]
        ),
        "created": rng.choice([int(NOW.timestamp()), 10**20, -1]),
        "livemode": False,
        "data": {"object": _event_data(rng, ids)},
    }
    body = json.dumps(event).encode()
    timestamp = int(NOW.timestamp())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}",
    }
    return Request("POST", b"/webhook/payments/stripe", _h(headers), body, False, "signed")


def _signed_mailgun(rng: random.Random, ids: dict[str, str]) -> Request:
    timestamp = rng.choice([str(int(NOW.timestamp())), "9" * 20, "0"])
    token = rng.randbytes(16).hex()
    mac = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    event = _event_data(rng, ids)
    event["event"] = rng.choice(["failed", "delivered", "complained", "x"])
    event["severity"] = rng.choice(["permanent", "temporary", None])
    body = json.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": mac.hexdigest()},
            "event-data": event,
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    return Request("POST", b"/webhook/email/mailgun", _h(headers), body, False, "signed")


def _signed_gatewayapi(rng: random.Random, ids: dict[str, str]) -> Request:
    claims = _event_data(rng, ids)
    claims["msisdn"] = rng.choice([4520123456, "4520123456", 10**30, -1, "x"])
    claims["status"] = rng.choice(["DELIVERED", "UNDELIVERABLE", None, 5])
    claims["id"] = rng.choice([1, 2**70, "x", None])
    token = jwt_hs256(claims, GATEWAYAPI_SECRET)
    path = rng.choice(["/webhook/sms/gatewayapi/status", "/webhook/sms/gatewayapi/inbound"])
    headers = {"Content-Type": "application/json", "X-Gwapi-Signature": token}
    return Request("POST", path.encode(), _h(headers), json.dumps(claims).encode(), False, "signed")


def _signed_twilio(rng: random.Random, _ids: dict[str, str]) -> Request:
    from urllib.parse import urlencode

    path = rng.choice(["/webhook/sms/twilio/status", "/webhook/sms/twilio/inbound"])
    params = {
        "MessageSid": rng.choice(["SM" + "1" * 32, *NASTY_TEXT[:6]]),
        "MessageStatus": rng.choice(["delivered", "failed", "undelivered", "x"]),
        "From": rng.choice(["+4520123456", "\u202e", "x" * 500]),
        "To": rng.choice(["+4512345678", ""]),
        "Body": rng.choice(NASTY_TEXT),
        "AccountSid": "AC" + "0" * 32,
        "ErrorCode": rng.choice(["30003", "x", "9" * 40]),
    }
    params = {k: v.replace("\x00", "") for k, v in params.items()}  # a form cannot carry NUL
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    body = urlencode(params).encode()
    return Request("POST", path.encode(), _h(headers), body, False, "signed")


def _signed_sendgrid(rng: random.Random, ids: dict[str, str]) -> Request:
    events = [
        {
            **_event_data(rng, ids),
            "event": rng.choice(["delivered", "bounce", "dropped", "spamreport", "x"]),
            "sg_message_id": _hostile_id(rng),
            "timestamp": rng.choice([int(NOW.timestamp()), 10**20]),
        }
        for _ in range(rng.randrange(1, 4))
    ]
    body = json.dumps(events).encode()
    headers = SENDGRID.sign(body, int(NOW.timestamp()))
    return Request("POST", b"/webhook/email/sendgrid", _h(headers), body, False, "signed")


def _signed_mobilepay(rng: random.Random, ids: dict[str, str]) -> Request:
    from justdriving.testing.mobilepay.simulator import MobilePaySimulator

    event = _event_data(rng, ids)
    event["msn"] = rng.choice([MOBILEPAY_MSN, MOBILEPAY_MSN, "999999", 123456, None])
    event["reference"] = rng.choice(
        [ids["ref"], "a0123abcd-xpay-1abc", "m0123abcd-xpay-1x-0y", _hostile_id(rng)]
    )
    event["pspReference"] = rng.choice(["psp-1", _hostile_id(rng)])
    event["name"] = rng.choice(
        ["AUTHORIZED", "CAPTURED", "REFUNDED", "CANCELLED", "ABORTED", "CREATED", "x", 5]
    )
    event["amount"] = rng.choice(
        [{"currency": "DKK", "value": 50000}, {"currency": "XXX", "value": 1}, {"value": 2**70},
         {"currency": "DKK", "value": -1}, "500", None]
    )  # fmt: skip
    event["timestamp"] = rng.choice([NOW.isoformat(), "2027-01-15T09:30:00", "now", 7, None])
    event["idempotencyKey"] = rng.choice([None, "re-1abc-x0123abcd", _hostile_id(rng)])
    event["success"] = rng.choice([True, False, "yes", None])
    body = json.dumps(event).encode() if rng.random() < 0.9 else nested(3000)
    at = NOW if rng.random() < 0.9 else NOW - timedelta(hours=1)
    url = BASE + "/webhook/payments/mobilepay"
    headers = MobilePaySimulator.sign(body, at, MOBILEPAY_SECRET, url)
    return Request("POST", b"/webhook/payments/mobilepay", _h(headers), body, False, "signed")


def _signed_api(rng: random.Random, ids: dict[str, str]) -> Request:
    invoice = rng.choice([ids["invoice"], "inv_unknown", "a%00b", "x" * 3000])
    body: dict[str, Any] = {"school_id": rng.choice([ids["school"], _hostile_id(rng)])}
    if rng.random() < 0.5:
        body["return_url"] = rng.choice(
            ["https://school.example/x", "https://school.example@evil.example/", *NASTY_TEXT[:4]]
        )
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {API_TOKEN}"}
    target = f"/api/invoices/{invoice}/payments".encode()
    return Request("POST", target, _h(headers), json.dumps(body).encode(), False, "signed API")


SIGNED_MAKERS: dict[str, list[Callable[[random.Random, dict[str, str]], Request]]] = {
    "fake+twilio+sendgrid": [_signed_fake, _signed_twilio, _signed_sendgrid, _signed_api],
    "stripe+gatewayapi+mailgun": [_signed_stripe, _signed_gatewayapi, _signed_mailgun],
    "paypal": [_signed_mobilepay],
}


def _h(headers: dict[str, str]) -> tuple[tuple[str, bytes], ...]:
    return tuple((name, value.encode()) for name, value in headers.items())


# ---------------------------------------------------------------------------------------------


@contextmanager
def _captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(Settings(log_format=LogFormat.CONSOLE, log_level=LogLevel.INFO), stream)
    try:
        yield stream
    finally:
        configure_logging(Settings(), io.StringIO())


def test_fuzzed_requests_on_every_route_get_no_5xx_no_traceback_and_unsigned_change_nothing(
    database_url: str, figures: Callable[[str], None]
) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    engine = make_engine(database_url)
    upgrade(engine)
    statuses: Counter[int] = Counter()
    failures: list[tuple[int, str, Request]] = []

    with _captured_logs() as logs, ExitStack() as stack:
        platforms = {name: stack.enter_context(Platform(name, database_url)) for name in PLATFORMS}
        ids = _seed(platforms["fake+twilio+sendgrid"].app)
        before = _counts(engine)

        def run(platform: Platform, request: Request) -> None:
            status = send(platform.port, request)
            statuses[status] += 1
            if status >= 500 or status == 0:
                failures.append((status, platform.name, request))

        names = list(PLATFORMS)
        for _ in range(UNSIGNED):
            name = rng.choice(names)
            run(platforms[name], _unsigned(rng, ROUTES[name], ids))
        unsigned_changes = {k: (before[k], v) for k, v in _counts(engine).items() if before[k] != v}

        signing = [name for name in names if SIGNED_MAKERS[name]]
        for _ in range(SIGNED):
            name = rng.choice(signing)
            run(platforms[name], rng.choice(SIGNED_MAKERS[name])(rng, ids))
        written = logs.getvalue()

    total = sum(statuses.values())
    tracebacks = written.count("Traceback (most recent call last)")
    by_class = Counter(
        f"{status // 100}xx" if status else "no answer" for status in statuses.elements()
    )
    figures(
        f"{database_url.split(':')[0]}: {total} requests (seed {seed}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items()))
        + f"; tracebacks {tracebacks}; tables changed by unsigned input {len(unsigned_changes)}"
    )
    assert total == UNSIGNED + SIGNED
    assert not failures, [(s, n, r.kind, r.target[:80], r.body[:120]) for s, n, r in failures[:10]]
    assert tracebacks == 0, written[written.index("Traceback") - 2000 :][:6000]
    assert unsigned_changes == {}
