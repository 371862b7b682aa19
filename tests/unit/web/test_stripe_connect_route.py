"""The Connect route through the Flask app: `/webhook/payments/stripe-connect` verifies with
STRIPE_CONNECT_WEBHOOK_SECRET only, and an event for an account no school has is answered
2xx, kept, ignored and shown on the ops page, with nothing else changed."""

from __future__ import annotations

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.config import PaymentProvider, QueueBackend
from justdriving.domain.outbox import InboxStatus
from justdriving.testing.stripe.simulator import StripeSimulator

from .support import NOW, Site, build_site, settings_for

TOKEN = "ops-secret-token"
CONNECT = "/webhook/payments/stripe-connect"


@pytest.fixture
def stripe() -> StripeSimulator:
    # Not started: it only makes and signs Stripe's deliveries here.
    return StripeSimulator(clock=FrozenClock(NOW))


@pytest.fixture(params=[QueueBackend.INLINE, QueueBackend.WORKER])
def connect_site(stripe: StripeSimulator, request: pytest.FixtureRequest) -> Site:
    # Inline: mapped and applied before the answer; worker: stored raw, read and applied by
    # the worker (with the route it came in on, so Connect's account is still known).
    return build_site(
        settings_for(
            queue=request.param,
            ops_token=TOKEN,
            payment_provider=PaymentProvider.STRIPE,
            payment_provider_secret=stripe.secret_key,
            payment_webhook_secret=stripe.webhook_secret,
            payment_api_base_url="http://127.0.0.1:9",  # nothing listens: no call is made
            stripe_connect=True,
            stripe_connect_webhook_secret=stripe.connect_webhook_secret,
        )
    )


def test_an_event_for_an_unknown_account_is_answered_kept_ignored_and_shown_to_operators(
    connect_site: Site, stripe: StripeSimulator
) -> None:
    stranger = stripe.connected_accounts.create({})["id"]
    body, headers = stripe.review_account(stranger)

    answer = connect_site.client().post(CONNECT, data=body, headers=headers)
    connect_site.app.apply_inbox()  # the worker's part (nothing left to do when inline)

    assert answer.status_code == 200
    with connect_site.app.uow() as uow:
        [row] = uow.inbox.list()
        schools = uow.schools.list()
    assert row.status is InboxStatus.IGNORED
    assert all(school.connected_account is None for school in schools)
    page = connect_site.client().get("/ops", headers={"Authorization": f"Bearer {TOKEN}"})
    assert f"no school has connected account {stranger}" in page.get_data(as_text=True)


def test_a_connect_delivery_on_the_platforms_route_or_signed_otherwise_is_refused(
    connect_site: Site, stripe: StripeSimulator
) -> None:
    account = stripe.connected_accounts.create({})["id"]
    body, headers = stripe.review_account(account)
    platform_signed = stripe.sign(body, NOW)

    on_platform_route = connect_site.client().post(
        "/webhook/payments/stripe", data=body, headers=headers
    )
    with_platform_secret = connect_site.client().post(
        CONNECT, data=body, headers={**headers, **platform_signed}
    )

    assert on_platform_route.status_code == 400
    assert with_platform_secret.status_code == 400
    with connect_site.app.uow() as uow:
        assert uow.inbox.list() == []
