"""The web boundary (web.boundary): NULs and deep nesting are refused before any parser, and
what a parser or the database still refuses is 400 `malformed_input`; nothing is stored."""

from __future__ import annotations

import json

import pytest

from justdriving.entrypoints.web.boundary import MAX_DEPTH, too_deep

from .support import WEBHOOK, Site, build_site

HOSTILE_BODIES = pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"id": "evt\\u0000"}',
        b'{"id": "evt\x00"}',
        b"id=evt%00",
    ],
    ids=["nested arrays", "nested objects", "json NUL", "raw NUL", "form NUL"],
)


def _counts(site: Site) -> dict[str, int]:
    counts: dict[str, int] = site.container.store().counts()
    return counts


@HOSTILE_BODIES
def test_nul_and_deep_bodies_are_400_before_anything_is_parsed(body: bytes) -> None:
    site = build_site()
    before = _counts(site)

    answer = site.client().post(
        "/api/invoices/x/payments", data=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "malformed_input"
    assert _counts(site) == before


@pytest.mark.parametrize("route", ["/webhook/payments/fake", "/webhook/payments/nope"])
@HOSTILE_BODIES
def test_hostile_unsigned_callbacks_are_refused_by_their_receiver_and_store_nothing(
    route: str, body: bytes
) -> None:
    """Callbacks are verified before anything is parsed (a signed but unusable event is kept
    as rejected and acknowledged: tests/integration/test_inbox_workers.py); unsigned, the
    hostile body is a 400 (404 for a provider not configured), never a 5xx."""
    site = build_site()
    before = _counts(site)

    answer = site.client().post(route, data=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == (404 if route.endswith("nope") else 400)
    assert _counts(site) == before


@pytest.mark.parametrize(
    "target", ["/api/invoices/a%00b/payments", "/api/invoices/x/payments?x=%00"]
)
def test_a_nul_in_the_path_or_query_is_400(target: str) -> None:
    site = build_site()

    answer = site.client().post(target, json={"school_id": site.school_id})

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "malformed_input"


def test_a_signed_event_beyond_any_date_is_never_a_5xx() -> None:
    site = build_site()
    checkout = site.checkout()
    body, _ = site.gateway.succeed(checkout.ref)
    event = json.loads(body)
    event["created"] = 10**20
    hostile = json.dumps(event).encode()

    answer = site.client().post(
        WEBHOOK, data=hostile, headers=site.gateway.sign(hostile, site.app.clock.now())
    )

    assert answer.status_code in (200, 400)  # stored as the provider sent it, or refused


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not too_deep(json.dumps({"a": "[" * 1000}).encode())
    assert not too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert not too_deep(b"[]" * 10_000)
    assert too_deep(b'{"a": "\\"", "b": ' + b"[" * 100)
