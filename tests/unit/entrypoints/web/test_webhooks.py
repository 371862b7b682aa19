"""POST /webhook/payments/<provider>: verify, store, answer; apply once (inline or worker)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from justdriving.adapters.memory import WebhookDelivery
from justdriving.config import QueueBackend
from justdriving.domain.errors import ConcurrencyConflict
from justdriving.domain.outbox import InboxStatus
from justdriving.entrypoints.web import MAX_BODY_BYTES
from justdriving.entrypoints.worker import Worker

from .support import PAID, WEBHOOK, Checkout, Site, build_site, settings_for


@pytest.mark.parametrize("queue", [QueueBackend.INLINE, QueueBackend.WORKER])
def test_the_same_event_delivered_50_times_has_one_effect(queue: QueueBackend) -> None:
    site = build_site(settings_for(queue=queue))
    checkout = site.checkout()
    delivery = site.gateway.succeed(checkout.ref)

    answers = [site.post(delivery) for _ in range(50)]
    Worker(site.app).tick()

    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].json == {"received": 1, "duplicates": 0, "ignored": 0}
    assert all(
        answer.json == {"received": 0, "duplicates": 1, "ignored": 0} for answer in answers[1:]
    )
    assert site.state(checkout) == PAID
    assert len(site.inbox()) == 1


def _lifecycle(site: Site, checkout: Checkout, last: str) -> list[WebhookDelivery]:
    gateway, ref = site.gateway, checkout.ref
    events = [
        gateway.require_action(ref),
        gateway.fail(ref),
        gateway.require_action(ref),
        gateway.succeed(ref),
    ]
    return [*events, events[0] if last == "duplicate" else gateway.fail(ref, "late_decline")]


@pytest.mark.parametrize("last", ["duplicate", "late failure"])
def test_every_order_of_a_five_event_lifecycle_ends_paid_once(inline_site: Site, last: str) -> None:
    client = inline_site.client()
    finals = set()
    for order in itertools.permutations(range(5)):
        checkout = inline_site.checkout()
        deliveries = _lifecycle(inline_site, checkout, last)
        for index in order:
            assert inline_site.post(deliveries[index], client).status_code == 200
        finals.add(inline_site.state(checkout))

    assert finals == {PAID}


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_signature_301_seconds_off_is_refused_and_nothing_is_stored(
    site: Site, checkout: Checkout, offset: int
) -> None:
    body, _ = site.gateway.succeed(checkout.ref)
    headers = site.gateway.sign(body, site.app.clock.now() + timedelta(seconds=offset))

    answer = site.post((body, headers))

    assert answer.status_code == 400
    assert answer.json == {
        "error": {
            "code": "invalid_signature",
            "message": "the signature's timestamp is outside the tolerance",
        }
    }
    assert site.inbox() == []


@pytest.mark.parametrize("offset", [-290, 290])
def test_a_signature_inside_the_tolerance_is_accepted(
    site: Site, checkout: Checkout, offset: int
) -> None:
    body, _ = site.gateway.succeed(checkout.ref)
    headers = site.gateway.sign(body, site.app.clock.now() + timedelta(seconds=offset))

    assert site.post((body, headers)).status_code == 200


@pytest.mark.parametrize("position", [0, 40, -2])
def test_a_body_changed_by_one_byte_is_refused_and_nothing_is_stored(
    site: Site, checkout: Checkout, position: int
) -> None:
    body, headers = site.gateway.succeed(checkout.ref)
    changed = bytearray(body)
    changed[position] ^= 0x01

    answer = site.post((bytes(changed), headers))

    assert answer.status_code == 400
    assert answer.json is not None
    assert answer.json["error"]["code"] == "invalid_signature"
    assert site.inbox() == []


def test_a_delivery_without_a_signature_is_refused(site: Site, checkout: Checkout) -> None:
    body, _ = site.gateway.succeed(checkout.ref)

    answer = site.client().post(WEBHOOK, data=body)

    assert answer.status_code == 400
    assert site.inbox() == []


def test_an_unknown_event_type_is_acknowledged_and_stored_as_ignored(
    inline_site: Site,
) -> None:
    checkout = inline_site.checkout()
    delivery = inline_site.gateway.webhook("charge.mystery", {"anything": [1, "two"]})

    answer = inline_site.post(delivery)

    assert answer.status_code == 200
    assert answer.json == {"received": 0, "duplicates": 0, "ignored": 1}
    assert [row.status for row in inline_site.inbox()] == [InboxStatus.IGNORED]
    assert inline_site.state(checkout) == ("pending", "open", 0)


@pytest.mark.parametrize("body", [b'{"id": "evt_1", "type":', b"[]", b'{"id": "evt_1"}', b""])
def test_a_malformed_body_with_a_good_signature_is_kept_as_rejected_and_acknowledged(
    site: Site, body: bytes
) -> None:
    headers = site.gateway.sign(body, site.app.clock.now())

    answer = site.post((body, headers))
    again = site.post((body, headers))

    # A 2xx, so that the provider stops sending what it signed and we can never use.
    assert answer.status_code == 200
    assert answer.json == {"received": 0, "duplicates": 0, "ignored": 0, "rejected": 1}
    assert again.json == {"received": 0, "duplicates": 1, "ignored": 0}
    [row] = site.inbox()
    assert row.status is InboxStatus.REJECTED
    assert row.body == body
    assert row.error


def test_a_malformed_body_without_a_good_signature_is_refused_and_nothing_is_stored(
    site: Site,
) -> None:
    body = b'{"id": "evt_1", "type":'
    headers = site.gateway.sign(b"something else", site.app.clock.now())

    answer = site.post((body, headers))

    assert answer.status_code == 400
    assert answer.json is not None
    assert answer.json["error"]["code"] == "invalid_signature"
    assert site.inbox() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_post_is_allowed_on_the_webhook_route(site: Site, method: str) -> None:
    answer = site.client().open(WEBHOOK, method=method)

    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.json is not None
    assert answer.json["error"]["code"] == "method_not_allowed"


def test_a_body_above_the_limit_is_refused_with_413_unread(site: Site) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    headers = site.gateway.sign(body, site.app.clock.now())

    answer = site.post((body, headers))

    assert answer.status_code == 413
    assert answer.json is not None
    assert answer.json["error"]["code"] == "request_entity_too_large"
    assert site.inbox() == []


def test_an_unknown_provider_is_404(site: Site, checkout: Checkout) -> None:
    body, headers = site.gateway.succeed(checkout.ref)

    answer = site.client().post("/webhook/payments/acme", data=body, headers=headers)

    assert answer.status_code == 404
    assert answer.json == {"error": {"code": "not_found", "message": "payment provider not found"}}


def test_in_worker_mode_the_answer_only_stores_and_the_worker_applies(
    site: Site, checkout: Checkout
) -> None:
    answer = site.post(site.gateway.succeed(checkout.ref))

    assert answer.status_code == 200
    assert site.state(checkout) == ("pending", "open", 0)
    assert [row.status for row in site.inbox()] == [InboxStatus.RECEIVED]

    Worker(site.app).tick()

    assert site.state(checkout) == PAID
    assert [row.status for row in site.inbox()] == [InboxStatus.PROCESSED]


def test_in_inline_mode_the_event_is_applied_before_the_answer(inline_site: Site) -> None:
    checkout = inline_site.checkout()

    answer = inline_site.post(inline_site.gateway.succeed(checkout.ref))

    assert answer.status_code == 200
    assert inline_site.state(checkout) == PAID
    assert [row.status for row in inline_site.inbox()] == [InboxStatus.PROCESSED]


def test_an_inline_apply_that_breaks_still_answers_200_and_leaves_the_row_for_the_worker(
    inline_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = inline_site.checkout()

    def broken(*_: object) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr("justdriving.domain.services.inbound.apply_payment_event", broken)
        answer = inline_site.post(inline_site.gateway.succeed(checkout.ref))

    assert answer.status_code == 200
    assert answer.json == {"received": 1, "duplicates": 0, "ignored": 0}
    [row] = inline_site.inbox()
    assert (row.status, row.error) == (InboxStatus.FAILED, "RuntimeError: the database went away")

    Worker(inline_site.app).tick()

    assert inline_site.state(checkout) == PAID


def test_an_inline_apply_refused_by_the_domain_is_recorded_as_failed_and_retried(
    inline_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = inline_site.checkout()

    def conflict(*_: object) -> None:
        raise ConcurrencyConflict("someone else changed the payment")

    with monkeypatch.context() as patch:
        patch.setattr("justdriving.domain.services.inbound.apply_payment_event", conflict)
        answer = inline_site.post(inline_site.gateway.succeed(checkout.ref))

    assert answer.status_code == 200
    [row] = inline_site.inbox()
    assert (row.status, row.attempts) == (InboxStatus.FAILED, 1)

    Worker(inline_site.app).tick()

    assert inline_site.state(checkout) == PAID
