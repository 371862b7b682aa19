"""The web boundary (web.boundary): NULs and deep nesting are refused before any parser, and
what a parser or the database still refuses is 400 `malformed_input`; nothing is stored."""

from __future__ import annotations

import json

import pytest

from justdriving.entrypoints.web.boundary import MAX_DEPTH, too_deep

from .support import WEBHOOK, Site, build_site

ROUTES = ["/webhook/payments/fake", "/api/invoices/x/payments", "/webhook/payments/nope"]


def _counts(site: Site) -> dict[str, int]:
    counts: dict[str, int] = site.container.store().counts()
    return counts


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
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
def test_nul_and_deep_bodies_are_400_before_anything_is_parsed(route: str, body: bytes) -> None:
    site = build_site()
    before = _counts(site)

    answer = site.client().post(route, data=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "malformed_input"
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
