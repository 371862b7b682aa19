"""The Stripe simulator's objects are Stripe's current ones: every field stripe-python's own
classes know, none they do not, and every field Stripe's own example object carries."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import stripe

from justdriving.testing.stripe.account import public  # what goes on the wire
from justdriving.testing.stripe.objects import example
from justdriving.testing.stripe.simulator import StripeSimulator

CLASSES: dict[str, type[Any]] = {
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "dispute": stripe.Dispute,
    "checkout.session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "event": stripe.Event,
}
EXAMPLES = {"checkout.session": "checkout_session"}


def _fields(cls: type[Any]) -> set[str]:
    """The fields stripe-python 16's class annotates (its generated list of the API's fields)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names |= {n for n in getattr(klass, "__annotations__", {}) if not n.startswith("_")}
    return names - {"OBJECT_NAME"}


@pytest.fixture
def objects() -> dict[str, list[dict[str, Any]]]:
    """Every object a simulated payment, refund, dispute, checkout and customer produce."""
    with StripeSimulator() as simulator:
        auth = {"Authorization": f"Bearer {simulator.secret_key}"}
        with httpx.Client(base_url=simulator.api_base, headers=auth) as api:
            intent = api.post(
                "/v1/payment_intents", data={"amount": "50000", "currency": "dkk"}
            ).json()
            simulator.succeed(intent["id"])
            api.post("/v1/refunds", data={"payment_intent": intent["id"], "amount": "100"})
            simulator.dispute(intent["id"])
            api.post(
                "/v1/checkout/sessions",
                data={
                    "mode": "payment",
                    "success_url": "https://school.test/ok",
                    "line_items[0][quantity]": "1",
                    "line_items[0][price_data][currency]": "dkk",
                    "line_items[0][price_data][unit_amount]": "50000",
                    "line_items[0][price_data][product_data][name]": "Lesson",
                },
            )
            api.post("/v1/customers", data={"email": "sofie@example.dk"})
        found: dict[str, list[dict[str, Any]]] = {}
        account = simulator.account
        stored = [
            *simulator.events,
            *(e["data"]["object"] for e in simulator.events),
            *simulator.payment_intents.values(),
            *simulator.refunds.values(),
            *simulator.sessions.values(),
            *simulator.disputes.values(),
            *account.charges.values(),
            *account.customers.values(),
        ]
        for obj in stored:
            found.setdefault(obj["object"], []).append(json.loads(json.dumps(public(obj))))
    return found


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_each_object_has_the_fields_of_stripe_pythons_class_and_stripes_example(
    objects: dict[str, list[dict[str, Any]]], kind: str
) -> None:
    assert objects.get(kind), f"the simulated flow produced no {kind}"
    known = _fields(CLASSES[kind])
    expected = set(example(EXAMPLES.get(kind, kind)))
    for obj in objects[kind]:
        assert set(obj) - known == set(), f"{kind} fields stripe-python does not know"
        assert expected - set(obj) == set(), f"{kind} lacks fields Stripe's own example has"
