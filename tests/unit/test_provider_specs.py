"""The spec check itself: it accepts what a provider's spec describes and names what it does not."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

from justdriving.testing.exchanges import Exchange, recording
from justdriving.testing.stripe.objects import example
from justdriving.testing.stripe.simulator import StripeSimulator
from provider_specs import _nest
from spec_fidelity import held_failures, providers
from specs.allowed import ALLOWED

SPECS = providers()
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def exchange(
    provider: str, method: str, path: str, status: int, body: object, **kw: object
) -> Exchange:
    return Exchange(
        provider=provider,
        method=method,
        path=path,
        query="",
        request_headers=kw.get("request_headers", FORM),  # type: ignore[arg-type]
        request_body=kw.get("request_body", b""),  # type: ignore[arg-type]
        status=status,
        response_headers=JSON,
        response_body=json.dumps(body).encode(),
    )


def test_a_stripe_refund_shaped_from_stripes_example_is_valid() -> None:
    refund = example("refund", id="re_1", amount=500, currency="dkk", payment_intent="pi_1")
    body = b"payment_intent=pi_1&amount=500&metadata[refund_id]=ref_1"
    _, problems = SPECS["stripe"].check(
        exchange("stripe", "POST", "/v1/refunds", 200, refund, request_body=body)
    )
    assert problems == []


def test_a_wrong_type_a_missing_field_and_an_unknown_path_are_named() -> None:
    refund = example("refund", id="re_1", amount="500")
    del refund["currency"]
    _, problems = SPECS["stripe"].check(exchange("stripe", "POST", "/v1/refunds", 200, refund))
    messages = " | ".join(p.message for p in problems)
    assert "amount: '500' is not of type 'integer'" in messages
    assert "'currency' is a required property" in messages
    name, [problem] = SPECS["stripe"].check(exchange("stripe", "GET", "/v1/nothing", 200, {}))
    assert (name, problem.message) == ("GET /v1/nothing", "no such operation")


def test_an_undocumented_status_and_a_wrong_request_field_are_named() -> None:
    body = b"amount=lots"
    _, problems = SPECS["stripe"].check(
        exchange("stripe", "POST", "/v1/refunds", 200, {}, request_body=body)
    )
    assert any(p.part == "request" and p.message.startswith("amount:") for p in problems)
    twilio = "/2010-04-01/Accounts/AC123/Messages.json"
    _, [problem] = SPECS["twilio"].check(exchange("twilio", "POST", twilio, 418, {}))
    assert problem.message.startswith("status 418 is not documented")


def test_stripe_forms_nest_as_their_brackets_say() -> None:
    pairs = [
        ("metadata[a]", "1"),
        ("types[0]", "card"),
        ("types[1]", "x"),
        ("To", "a"),
        ("To", "b"),
    ]
    assert _nest(pairs) == {"metadata": {"a": "1"}, "types": ["card", "x"], "To": ["a", "b"]}


def test_each_simulator_records_its_exchanges_under_its_provider() -> None:
    with StripeSimulator() as simulator, recording() as heard:
        httpx.post(
            f"{simulator.api_base}/v1/customers",
            data={"email": "a@b.dk"},
            headers={"Authorization": f"Bearer {simulator.secret_key}"},
        )
    [recorded] = heard
    assert (recorded.provider, recorded.method, recorded.path, recorded.status) == (
        "stripe",
        "POST",
        "/v1/customers",
        200,
    )
    assert SPECS["stripe"].check(recorded)[1] == []


def test_the_allow_list_is_short_and_each_entry_gives_its_reason() -> None:
    """At most three exceptions per provider held to its published documents,
    each with its reason."""
    per_provider = Counter(entry.provider for entry in ALLOWED)
    assert max(per_provider.values()) <= 3, per_provider
    assert len(ALLOWED) <= 2 * len(per_provider) + 2
    assert all(len(entry.reason) > 80 for entry in ALLOWED)


def test_only_held_providers_fail_the_session() -> None:
    lines = ["t::a: stripe POST /v1/refunds 200 response: x", "t::b: acme GET /x 200 request: y"]
    assert held_failures(lines) == lines[:1]


@pytest.mark.off_spec("a made-up answer, only to see it recorded", parts=("response",))
def test_a_live_exchange_with_a_providers_host_is_recorded_under_its_name() -> None:
    from live_recording import record_live

    answer = {"id": "cus_1"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    with (
        recording() as heard,
        record_live(),
        httpx.Client(transport=transport, base_url="https://api.stripe.com") as client,
    ):
        client.post("/v1/customers", data={"email": "a@b.dk"})
        client.get("https://example.org/not-a-provider")
    [live] = heard
    assert (live.provider, live.method, live.path, live.status) == (
        "stripe",
        "POST",
        "/v1/customers",
        200,
    )
    assert json.loads(live.response_body) == answer
    assert live.request_body == b"email=a%40b.dk"
