"""The web side of books and PayPal per school. A school's own PayPal webhook URL,
`/webhook/payments/paypal/<school id>`, through the Flask app and the container
(PAYMENT_PROVIDER=paypal on the simulator): a delivery signed for the school's webhook id is
stored; one signed for the platform's, a malformed body, or any URL of a school without its
own account is refused with a 4xx and stores nothing. The ops page shows a school whose books
are not connected."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from justdriving.config import PaymentProvider
from justdriving.domain.accounting import SyncRun
from justdriving.testing.paypal.simulator import PayPalSimulator
from unit.web.support import NOW, Site, build_site, settings_for

SCHOOL_ACCOUNT = ("AbSchoolClient000000001", "EbSchoolSecret00000000001", "WHSCHOOL000000001")


@pytest.fixture
def paypal() -> Iterator[PayPalSimulator]:
    with PayPalSimulator(clock=lambda: NOW) as simulator:
        simulator.add_merchant(*SCHOOL_ACCOUNT)
        yield simulator


@pytest.fixture
def site(paypal: PayPalSimulator) -> Site:
    site = build_site(
        settings_for(
            public_base_url="https://app.example",
            payment_provider=PaymentProvider.PAYPAL,
            payment_provider_key=paypal.client_id,
            payment_provider_secret=paypal.client_secret,
            payment_webhook_secret=paypal.webhook_id,
            payment_api_base_url=paypal.base_url,
        )
    )
    site.app.set_school_paypal(site.school_id, *SCHOOL_ACCOUNT)
    return site


def _stored(site: Site) -> int:
    with site.app.uow() as uow:
        return len(uow.inbox.list())


def test_a_delivery_for_the_schools_webhook_is_stored_and_others_get_a_4xx(
    site: Site, paypal: PayPalSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = site.client()
    event = paypal.webhook("PAYMENT.CAPTURE.COMPLETED", {"id": "CAP-1", "status": "COMPLETED"})
    body = event[0]
    route = f"/webhook/payments/paypal/{site.school_id}"
    refusals = [
        (route, body, paypal.sign(body)),  # signed for the platform's webhook
        (route, b"{not json", paypal.sign(b"{not json", webhook_id=SCHOOL_ACCOUNT[2])),
        (route, body, {"Content-Type": "application/json"}),  # unsigned
        ("/webhook/payments/paypal/sch_unknown", body, paypal.sign(body)),
        (f"/webhook/payments/stripe/{site.school_id}", body, paypal.sign(body)),
        (f"/webhook/sms/paypal/{site.school_id}", body, paypal.sign(body)),
    ]
    for path, sent, headers in refusals:
        answer = client.post(path, data=sent, headers=headers)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.get_data())
    assert _stored(site) == 0

    answer = client.post(route, data=body, headers=paypal.sign(body, webhook_id=SCHOOL_ACCOUNT[2]))

    assert answer.status_code == 200, answer.get_data()
    assert _stored(site) == 1
    assert caplog.records  # the deliveries were logged, and never with the school's secret
    assert SCHOOL_ACCOUNT[1] not in caplog.text


def test_a_school_whose_books_are_not_connected_shows_so_on_the_ops_page() -> None:
    token = "ops-secret-token"
    site = build_site(settings_for(ops_token=token))
    run = SyncRun(
        id="sync_not_connected",
        provider="xero",
        school_id=site.school_id,
        started_at=NOW,
        finished_at=NOW,
        stopped_early="school has connected no xero books",
        not_connected=True,
    )
    with site.app.uow() as uow:
        uow.sync_runs.add(run)
        uow.commit()

    headers = {"Authorization": f"Bearer {token}"}
    html = site.client().get("/ops?lang=en", headers=headers).get_data(as_text=True)

    assert 'class="sync-run" data-id="sync_not_connected"' in html
    assert "not connected (its records wait): school has connected no xero books" in html
    assert "stopped early" not in html
