"""The development checkout page: renders, refuses a form without its CSRF token, pays."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from justdriving.adapters.memory import FakeEmailSender, FrozenClock, WebhookDelivery
from justdriving.config import AppEnv, QueueBackend
from justdriving.domain.errors import InvalidInput
from justdriving.domain.invoices import InvoiceStatus
from justdriving.entrypoints.flask_app import create_app
from justdriving.entrypoints.web import dev_checkout

from .support import PAID, Checkout, Site, build_site, settings_for


def _page(client: FlaskClient, checkout: Checkout) -> str:
    answer = client.get(f"/dev/checkout/{checkout.ref}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


class Deliveries:
    """Stands in for the page's delivery thread: records instead of POSTing over HTTP."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[WebhookDelivery]]] = []
        self._done = threading.Event()

    def __call__(self, url: str, deliveries: Sequence[WebhookDelivery]) -> None:
        self.calls.append((url, list(deliveries)))
        self._done.set()

    def wait(self) -> tuple[str, list[WebhookDelivery]]:
        assert self._done.wait(5), "the page started no delivery"
        [call] = self.calls
        return call


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> Deliveries:
    recorder = Deliveries()
    monkeypatch.setattr(dev_checkout, "deliver", recorder)
    return recorder


def test_the_page_shows_the_amount_three_buttons_and_a_csrf_token(
    site: Site, checkout: Checkout
) -> None:
    client = site.client()
    answer = client.get(f"/dev/checkout/{checkout.ref}")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert "Betal 500,00 DKK" in page  # in the school's language (Danish)
    assert "Moms 25 % af 400,00" in page  # the invoice's lines with their VAT
    assert re.findall(r'name="outcome" value="(\w+)"', page) == ["pay", "decline", "3ds"]
    assert len(_token(page)) > 40
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert answer.headers["Cache-Control"] == "no-store"
    assert not re.search(r'(src|href)="(https?:)?//', page), "no external assets"


def test_an_unknown_payment_has_no_page(site: Site) -> None:
    assert site.client().get("/dev/checkout/fake_pi_nothing").status_code == 404


def test_a_post_without_a_token_is_refused_and_delivers_nothing(
    site: Site, checkout: Checkout, delivered: Deliveries
) -> None:
    client = site.client()
    _page(client, checkout)

    answer = client.post(f"/dev/checkout/{checkout.ref}", data={"outcome": "pay"})

    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "csrf_rejected"
    assert delivered.calls == []
    assert site.gateway.charges[checkout.ref].status == "pending"


@pytest.mark.parametrize(
    "forge",
    [
        "tampered token",
        "token of another payment",
        "no cookie",
        "another page's cookie",
    ],
)
def test_a_post_with_a_wrong_token_is_refused(
    site: Site, checkout: Checkout, delivered: Deliveries, forge: str
) -> None:
    client = site.client()
    token = _token(_page(client, checkout))
    if forge == "tampered token":
        token = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    elif forge == "token of another payment":
        token = _token(_page(site.client(), site.checkout()))
    elif forge == "no cookie":
        client = site.client()
    else:
        _page(client, checkout)  # a second page replaces the cookie's nonce

    answer = client.post(
        f"/dev/checkout/{checkout.ref}", data={"outcome": "pay", "csrf_token": token}
    )

    assert answer.status_code == 403
    assert delivered.calls == []


def test_an_unknown_outcome_is_400(site: Site, checkout: Checkout) -> None:
    client = site.client()
    token = _token(_page(client, checkout))

    answer = client.post(
        f"/dev/checkout/{checkout.ref}", data={"outcome": "steal", "csrf_token": token}
    )

    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("outcome", "events"),
    [
        ("pay", ["payment.succeeded"]),
        ("decline", ["payment.failed"]),
        ("3ds", ["payment.requires_action", "payment.succeeded"]),
    ],
)
def test_the_right_token_hands_the_signed_events_to_the_delivery_and_redirects(
    site: Site,
    checkout: Checkout,
    delivered: Deliveries,
    outcome: str,
    events: list[str],
) -> None:
    client = site.client()
    token = _token(_page(client, checkout))

    answer = client.post(
        f"/dev/checkout/{checkout.ref}",
        data={"outcome": outcome, "csrf_token": token},
        buffered=True,  # closes the response, as a server does once it is sent
    )

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/dev/checkout/{checkout.ref}/result"
    url, deliveries = delivered.wait()
    assert url == "http://127.0.0.1:80/webhook/payments/fake"  # the test server's own port
    assert [json.loads(body)["type"] for body, _ in deliveries] == events


@pytest.mark.parametrize("public_base_url", [None, "https://staging.example/app/"])
def test_the_delivery_goes_where_the_configuration_says_whatever_the_host_header(
    delivered: Deliveries, public_base_url: str | None
) -> None:
    site = build_site(settings_for(public_base_url=public_base_url))
    checkout = site.checkout()
    client = site.client()
    hostile = {"Host": "evil.example:6666", "X-Forwarded-Host": "evil.example"}
    token = _token(client.get(f"/dev/checkout/{checkout.ref}", headers=hostile).get_data(True))

    client.post(
        f"/dev/checkout/{checkout.ref}",
        data={"outcome": "pay", "csrf_token": token},
        headers=hostile,
        buffered=True,
    )

    url, _ = delivered.wait()
    expected = "https://staging.example/app" if public_base_url else "http://127.0.0.1:80"
    assert url == f"{expected}/webhook/payments/fake"


def test_webhook_url_refuses_a_port_that_is_not_one() -> None:
    assert dev_checkout.webhook_url(None, "/w", "8000") == "http://127.0.0.1:8000/w"
    for port in (None, "", "0", "65536", "80@evil.example", "-1"):
        with pytest.raises(InvalidInput):
            dev_checkout.webhook_url(None, "/w", port)


def test_the_delivered_events_pay_the_invoice_and_the_result_page_says_so(
    inline_site: Site, delivered: Deliveries
) -> None:
    checkout = inline_site.checkout()
    client = inline_site.client()
    token = _token(_page(client, checkout))
    client.post(
        f"/dev/checkout/{checkout.ref}",
        data={"outcome": "3ds", "csrf_token": token},
        buffered=True,
    )

    waiting = client.get(f"/dev/checkout/{checkout.ref}/result").get_data(as_text=True)
    for delivery in delivered.wait()[1]:
        assert inline_site.post(delivery).status_code == 200
    done = client.get(f"/dev/checkout/{checkout.ref}/result").get_data(as_text=True)

    assert 'http-equiv="refresh"' in waiting
    assert inline_site.state(checkout) == PAID
    assert '<dd id="invoice-status">paid</dd>' in done
    assert 'http-equiv="refresh"' not in done


def test_a_payment_paid_at_the_provider_offers_no_pay_button_and_refuses_another_payment(
    site: Site, checkout: Checkout, delivered: Deliveries
) -> None:
    """Paid, its webhook not applied yet (the app was stopped): a restart's checkout link
    leads to the same payment, and nothing can be paid on it again."""
    client = site.client()
    token = _token(_page(client, checkout))
    site.gateway.succeed(checkout.ref)  # the provider took the money; its webhook is late

    answer = client.post(  # from the page still open in the payer's browser
        f"/dev/checkout/{checkout.ref}",
        data={"outcome": "pay", "csrf_token": token},
        buffered=True,
    )
    again = site.app.start_invoice_payment(site.school_id, checkout.invoice_id)
    page = _page(client, checkout)

    assert again.session.provider_payment_id == checkout.ref
    assert re.findall(r'name="outcome"', page) == []
    assert "Intet at betale her" in page
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "payment_not_allowed"
    assert delivered.calls == []


def test_a_checkout_started_before_a_restart_can_still_be_paid(
    site: Site, checkout: Checkout, delivered: Deliveries
) -> None:
    """`justdriving run` restarted: the fake gateway forgot its charges (a real provider
    would not), and starting the invoice's payment again gives the same checkout link."""
    site.gateway.charges.clear()
    again = site.app.start_invoice_payment(site.school_id, checkout.invoice_id)
    client = site.client()

    page = _page(client, checkout)
    answer = client.post(
        f"/dev/checkout/{checkout.ref}",
        data={"outcome": "pay", "csrf_token": _token(page)},
        buffered=True,
    )

    assert again.session.provider_payment_id == checkout.ref
    assert re.findall(r'name="outcome" value="(\w+)"', page) == ["pay", "decline", "3ds"]
    assert answer.status_code == 303
    _, deliveries = delivered.wait()
    assert [json.loads(body)["type"] for body, _ in deliveries] == ["payment.succeeded"]


def test_in_production_the_dev_routes_do_not_exist() -> None:
    site = build_site(settings_for())
    # A production container cannot be built on fakes; tell this one it is production.
    site.container.settings.override(settings_for(app_env=AppEnv.PRODUCTION))
    client = create_app(site.container).test_client()
    checkout = site.checkout()

    for answer in (
        client.get(f"/dev/checkout/{checkout.ref}"),
        client.post(f"/dev/checkout/{checkout.ref}", data={"outcome": "pay"}),
        client.get(f"/dev/checkout/{checkout.ref}/result"),
    ):
        assert answer.status_code == 404
        assert answer.json["error"]["code"] == "not_found"
    assert client.get("/healthz").status_code == 200


PAY_BASE = "https://pay.koreskolen.example"


def test_the_reminders_pay_link_leads_through_the_checkout_to_paid_and_no_more_reminders(
    delivered: Deliveries,
) -> None:
    """An overdue invoice's reminder, followed as the student would: its pay link opens the
    invoice, the checkout takes the payment, the webhook marks it paid; the ladder stops."""
    site = build_site(
        settings_for(queue=QueueBackend.INLINE, public_base_url=PAY_BASE, mail_mailer="fake")
    )
    clock, email = site.container.clock(), site.container.email()
    assert isinstance(clock, FrozenClock)
    assert isinstance(email, FakeEmailSender)
    invoice_id = site.open_invoice()
    clock.advance(timedelta(days=14 + 3))  # due in 14 days; the first step at 3 days past

    assert site.app.send_reminders().overdue_invoices == 1
    site.app.relay_outbox()
    [reminder] = [m for _, m, _ in email.sent if m.subject.startswith("Påmindelse")]
    link = re.search(rf"{re.escape(PAY_BASE)}/pay/\S+", reminder.text)
    assert link is not None
    client = site.client()

    checkout = client.post(urlsplit(link.group(0)).path)
    token = _token(client.get(checkout.headers["Location"]).get_data(as_text=True))
    client.post(
        checkout.headers["Location"], data={"outcome": "pay", "csrf_token": token}, buffered=True
    )
    for delivery in delivered.wait()[1]:
        assert site.post(delivery, client).status_code == 200

    assert site.app.payer.invoice(invoice_id).invoice.status is InvoiceStatus.PAID
    clock.advance(timedelta(days=30))
    assert site.app.send_reminders().overdue_invoices == 0
