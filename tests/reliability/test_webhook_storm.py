"""Campaign 2, webhook storm: payment webhooks, 30 % of them duplicated, shuffled, sent by 10
concurrent senders to a live waitress server on PostgreSQL. Every event is stored and applied
once, every payment and invoice ends where its events say, no answer is a 5xx."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from justdriving.adapters.memory import WebhookDelivery
from justdriving.config import QueueBackend
from unit.entrypoints.web.support import PAID, WEBHOOK, Checkout, Site, build_site, settings_for

from .support import campaign_scale, live, own_postgres_database

DELIVERIES = 200 * campaign_scale()
DUPLICATE_SHARE = 0.30
SENDERS = 10
DECLINED = ("failed", "open", 0)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with own_postgres_database("justdriving_storm") as url:
        yield url


def post(url: str, delivery: WebhookDelivery) -> tuple[int, Any]:
    body, headers = delivery
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _events(
    site: Site, unique: int
) -> tuple[list[WebhookDelivery], dict[Checkout, tuple[str, str, int]]]:
    """`unique` distinct events over as many checkouts as it takes; and each one's end state.

    A third of the payments are only declined; the others go through 3-D Secure and succeed,
    half of those with a late decline that must not undo the success."""
    events: list[WebhookDelivery] = []
    expected: dict[Checkout, tuple[str, str, int]] = {}
    index = 0
    while len(events) < unique:
        checkout = site.checkout()
        gateway, ref = site.gateway, checkout.ref
        if index % 3 == 0:
            events.append(gateway.fail(ref))
            expected[checkout] = DECLINED
        else:
            events += [gateway.require_action(ref), gateway.succeed(ref)]
            if index % 2:
                events.append(gateway.fail(ref, "late_decline"))
            expected[checkout] = PAID
        index += 1
    return events, expected


@pytest.mark.parametrize("queue", [QueueBackend.INLINE, QueueBackend.WORKER])
def test_a_shuffled_storm_with_duplicates_applies_every_event_once(
    database_url: str, queue: QueueBackend, figures: Callable[[str], None]
) -> None:
    from local_services import empty_tables

    site = build_site(settings_for(database_url, queue))
    try:
        events, expected = _events(site, round(DELIVERIES * (1 - DUPLICATE_SHARE)))
        rng = random.Random(f"storm-{queue}")
        duplicates = [rng.choice(events) for _ in range(DELIVERIES - len(events))]
        storm = events + duplicates
        rng.shuffle(storm)

        with live(site.flask) as url, ThreadPoolExecutor(SENDERS) as senders:
            answers = list(senders.map(lambda d: post(url + WEBHOOK, d), storm))
        # The worker's part: what inline mode could not apply (a concurrency conflict between
        # two events of one payment is recorded on the row), and all of it in worker mode.
        while site.app.apply_inbox():
            pass

        statuses = [status for status, _ in answers]
        server_errors = sum(status >= 500 for status in statuses)
        figures(
            f"{len(storm)} deliveries ({len(events)} events, {len(duplicates)} duplicates),"
            f" {SENDERS} senders: 5xx {server_errors},"
            f" stored {sum(a['received'] + a['ignored'] for s, a in answers if s == 200)},"
            f" reported duplicates {sum(a['duplicates'] for s, a in answers if s == 200)},"
            f" applied after a retry {sum(row.attempts > 1 for row in site.inbox())}"
        )
        assert server_errors == 0
        assert statuses == [200] * len(storm)
        assert sum(a["received"] + a["ignored"] for _, a in answers) == len(events)
        assert sum(a["duplicates"] for _, a in answers) == len(duplicates)
        inbox = site.inbox()
        assert len(inbox) == len(events)
        # IGNORED: applied, and moved nothing (a 3-D Secure request after the success).
        assert {str(row.status) for row in inbox} <= {"processed", "ignored"}
        finals = {checkout: site.state(checkout) for checkout in expected}
        assert finals == expected
    finally:
        empty_tables(site.container.engine())
        site.container.engine().dispose()
