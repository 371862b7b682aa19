"""Campaign 3, bad input: generated and mutated webhook bodies, headers and signatures on every
provider route, through the Flask test client. Only 4xx answers, never a 5xx, and no record
written anywhere (every table of the in-memory store keeps its count)."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from justdriving.config import Mailer, PaymentProvider, SmsProvider
from justdriving.domain.outbox import InboxStatus
from justdriving.entrypoints.web import MAX_BODY_BYTES
from unit.entrypoints.web.support import Site, build_site, settings_for

from .support import campaign_scale, live

# ~1,650 cases at scale 1 (CI), ~16,500 at scale 10, spread over the ten routes.
CASES_PER_ROUTE = 165 * campaign_scale()

_SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC_KEY = base64.b64encode(
    _SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()

COMMON = {"public_base_url": "https://app.example", "mail_from_address": "skole@example.dk"}
STRIPE_TWILIO_SENDGRID = {
    **COMMON,
    "payment_provider": PaymentProvider.STRIPE,
    "payment_provider_key": "pk_test_campaign",
    "payment_provider_secret": "sk_test_campaign",
    "payment_webhook_secret": "whsec_campaign",
    "sms_provider": SmsProvider.TWILIO,
    "sms_provider_key": "ACcampaign",
    "sms_provider_secret": "twilio-auth-token",
    "sms_from_number": "+4512345678",
    "mail_mailer": Mailer.SENDGRID,
    "mail_api_key": "SG.campaign",
    "mail_webhook_secret": SENDGRID_PUBLIC_KEY,
}
STRIPE_CONNECT = {
    **STRIPE_TWILIO_SENDGRID,
    "stripe_connect": True,
    "stripe_connect_webhook_secret": "whsec_campaign_connect",
}
PAYPAL_GATEWAYAPI_MAILGUN = {
    **COMMON,
    "payment_provider": PaymentProvider.PAYPAL,
    "payment_provider_key": "paypal-client",
    "payment_provider_secret": "paypal-secret",
    "payment_webhook_secret": "WH-CAMPAIGN",
    # Nothing listens there: bad input must be refused before any call to the provider.
    "payment_api_base_url": "http://127.0.0.1:9",
    "sms_provider": SmsProvider.GATEWAYAPI,
    "sms_provider_secret": "gatewayapi-token",
    "sms_webhook_secret": "gatewayapi-secret",
    "sms_from_number": "Skolen",
    "mail_mailer": Mailer.MAILGUN,
    "mail_api_key": "key-campaign",
    "mail_webhook_secret": "mailgun-signing-key",
    "mail_domain": "mg.example",
    # Vipps MobilePay beside PayPal, chosen by name; nothing listens at its API either.
    "mobilepay_client_id": "mobilepay-client",
    "mobilepay_client_secret": "mobilepay-secret",
    "mobilepay_subscription_key": "mobilepay-subscription",
    "mobilepay_merchant_serial_number": "123456",
    "mobilepay_webhook_secret": "mobilepay-webhook-secret",
    "mobilepay_api_base": "http://127.0.0.1:9",
}

# route → (the site's configuration, the signature headers its provider sends)
ROUTES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "/webhook/payments/fake": ({}, ("Fake-Signature",)),
    "/webhook/payments/stripe": (STRIPE_TWILIO_SENDGRID, ("Stripe-Signature",)),
    "/webhook/payments/stripe-connect": (STRIPE_CONNECT, ("Stripe-Signature",)),
    "/webhook/payments/paypal": (
        PAYPAL_GATEWAYAPI_MAILGUN,
        (
            "PAYPAL-TRANSMISSION-ID",
            "PAYPAL-TRANSMISSION-TIME",
            "PAYPAL-TRANSMISSION-SIG",
            "PAYPAL-CERT-URL",
            "PAYPAL-AUTH-ALGO",
        ),
    ),
    "/webhook/payments/mobilepay": (
        PAYPAL_GATEWAYAPI_MAILGUN,
        ("x-ms-date", "x-ms-content-sha256", "Authorization"),
    ),
    "/webhook/sms/twilio/status": (STRIPE_TWILIO_SENDGRID, ("X-Twilio-Signature",)),
    "/webhook/sms/twilio/inbound": (STRIPE_TWILIO_SENDGRID, ("X-Twilio-Signature",)),
    "/webhook/sms/gatewayapi/status": (PAYPAL_GATEWAYAPI_MAILGUN, ("X-Gwapi-Signature",)),
    "/webhook/sms/gatewayapi/inbound": (PAYPAL_GATEWAYAPI_MAILGUN, ("X-Gwapi-Signature",)),
    "/webhook/email/sendgrid": (
        STRIPE_TWILIO_SENDGRID,
        (
            "X-Twilio-Email-Event-Webhook-Signature",
            "X-Twilio-Email-Event-Webhook-Timestamp",
        ),
    ),
    "/webhook/email/mailgun": (PAYPAL_GATEWAYAPI_MAILGUN, ()),
}

PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/json; charset=latin-1",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | PRINTABLE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(PRINTABLE, inner, max_size=4),
    max_leaves=12,
)
# Field names the parsers look for, so that generated bodies reach past the first check.
FIELDS = st.sampled_from(
    [
        "id", "type", "data", "object", "event", "event_type", "resource", "MessageSid",
        "MessageStatus", "From", "To", "Body", "AccountSid", "status", "msisdn", "reference",
        "sg_message_id", "email", "timestamp", "signature", "token", "event-data",
        "ErrorCode", "message", "userref", "sender",
    ]
)  # fmt: skip


def _dumps(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _form(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


BODIES = st.one_of(
    st.binary(max_size=600),
    JSON_VALUES.map(_dumps),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=8).map(_dumps),
    st.dictionaries(FIELDS, PRINTABLE, max_size=8).map(_form),
    st.lists(st.dictionaries(FIELDS, JSON_VALUES, max_size=6), max_size=3).map(_dumps),
)


def _headers(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    signature = st.one_of(
        PRINTABLE,
        st.binary(min_size=1, max_size=64).map(lambda b: base64.b64encode(b).decode()),
        st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), PRINTABLE),
    )
    own = st.fixed_dictionaries({}, optional={name: signature for name in names})
    extra = st.dictionaries(st.sampled_from(["X-Forwarded-For", "User-Agent", "X-Junk"]), PRINTABLE)
    return st.builds(lambda a, b, c: {**b, **a, "Content-Type": c}, own, extra, CONTENT_TYPES)


_SITES: dict[int, Site] = {}


def _site(config: dict[str, Any]) -> Site:
    key = id(config)
    if key not in _SITES:
        _SITES[key] = build_site(settings_for(**config))
    return _SITES[key]


def _counts(site: Site) -> dict[str, int]:
    counts: dict[str, int] = site.container.store().counts()
    return counts


@pytest.fixture(scope="module", autouse=True)
def _forget_sites() -> Iterator[None]:
    yield
    _SITES.clear()


@pytest.mark.parametrize("route", list(ROUTES))
def test_generated_bodies_headers_and_signatures_get_only_4xx_and_change_nothing(
    route: str, figures: Callable[[str], None]
) -> None:
    config, names = ROUTES[route]
    site = _site(config)
    client = site.client()
    before = _counts(site)
    seen = {"cases": 0, "4xx": 0, "5xx": 0, "other": 0}

    @settings(
        max_examples=CASES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=BODIES, headers=_headers(names), query=st.sampled_from(["", "?a=1", "?x=%ff"]))
    def case(body: bytes, headers: dict[str, str], query: str) -> None:
        answer = client.post(route + query, data=body, headers=headers)
        seen["cases"] += 1
        status = answer.status_code
        seen["5xx" if status >= 500 else "4xx" if status >= 400 else "other"] += 1
        assert 400 <= status < 500, (status, answer.get_data()[:200], body[:200], headers)

    case()

    assert _counts(site) == before
    assert seen["cases"] >= CASES_PER_ROUTE * 0.9
    figures(f"{seen['cases']} cases, 4xx {seen['4xx']}, 5xx {seen['5xx']}, other {seen['other']}")


def _mutations(body: bytes, rng: random.Random) -> Iterator[bytes]:
    """Each one differs from `body`: a flipped bit, a cut, an insertion, a duplication."""
    for _ in range(CASES_PER_ROUTE // 2):
        data = bytearray(body)
        kind = rng.randrange(4)
        position = rng.randrange(len(data))
        if kind == 0:
            data[position] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[position:]
        elif kind == 2:
            data.insert(position, rng.randrange(256))
        else:
            data[position:position] = data[position : position + rng.randint(1, 20)] or b"x"
        yield bytes(data)


def test_mutated_and_re_signed_fake_payment_deliveries_are_refused_or_kept_as_rejected(
    figures: Callable[[str], None],
) -> None:
    """A genuine signed delivery, its body mutated (old signature: a 4xx, nothing stored) or
    cut and re-signed with the right secret (a valid signature on a body that is not an
    event: a 4xx, or a 200 that keeps it as rejected so the provider stops sending it)."""
    site = build_site()
    checkout = site.checkout()
    body, headers = site.gateway.succeed(checkout.ref)
    client = site.client()
    before = _counts(site)
    rng = random.Random(8)
    cases = rejected = 0
    for mutated in _mutations(body, rng):
        answer = client.post("/webhook/payments/fake", data=mutated, headers=headers)
        cases += 1
        assert 400 <= answer.status_code < 500, (answer.status_code, mutated)
        cut = mutated[: len(mutated) // 2]
        signed = site.gateway.sign(cut, site.app.clock.now())
        answer = client.post("/webhook/payments/fake", data=cut, headers=signed)
        cases += 1
        if answer.status_code == 200:
            assert answer.json is not None
            assert answer.json["received"] == 0, cut
            rejected += answer.json.get("rejected", 0)
        else:
            assert 400 <= answer.status_code < 500, (answer.status_code, cut)
        # The signature itself mutated, on the genuine body.
        value = headers["Fake-Signature"]
        i = rng.randrange(len(value))
        forged = value[:i] + chr((ord(value[i]) + 1 - 32) % 95 + 32) + value[i + 1 :]
        answer = client.post(
            "/webhook/payments/fake", data=body, headers={**headers, "Fake-Signature": forged}
        )
        cases += 1
        assert 400 <= answer.status_code < 500, (answer.status_code, forged)

    after = _counts(site)
    assert after.pop("inbox", 0) - before.pop("inbox", 0) == rejected
    assert after == before
    assert {row.status for row in site.inbox()} <= {InboxStatus.REJECTED}
    assert site.state(checkout) == ("pending", "open", 0)
    figures(f"{cases} cases: all 4xx but {rejected} signed and kept as rejected")


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_body_above_the_limit_is_413_and_changes_nothing(route: str) -> None:
    site = _site(ROUTES[route][0])
    before = _counts(site)

    answer = site.client().post(route, data=b"{" + b" " * MAX_BODY_BYTES + b"}")

    assert answer.status_code == 413
    assert _counts(site) == before


def _chunked_post(url: str, path: str, size: int) -> int:
    """POST `size` bytes with Transfer-Encoding: chunked (no Content-Length); the status."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b" " * 65536
        sent = 0
        try:
            while sent < size:
                piece = chunk[: size - sent]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading it all: the answer is still there
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("route", ["/webhook/payments/fake", "/webhook/sms/twilio/status"])
def test_a_chunked_body_above_the_limit_is_413_on_a_live_server(route: str) -> None:
    site = _site(ROUTES[route][0])
    before = _counts(site)

    with live(site.flask) as url:
        too_big = _chunked_post(url, route, MAX_BODY_BYTES + 65536)
        small = _chunked_post(url, route, 100)

    assert too_big == 413
    assert small == 400  # the same route reads a chunked body under the limit (and refuses it)
    assert _counts(site) == before
