"""Webhook payloads checked against the event schemas of the providers' specs.

Each function takes the provider's spec and a recorded delivery (`kind="webhook"`) and returns
the problems found, or None when the spec has no schema for that delivery.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from justdriving.testing.exchanges import Exchange
    from provider_specs import ProviderSpec

# PayPal's resource_type -> the schema of the resource in the Orders / Payments documents.
PAYPAL_RESOURCES = {
    "checkout-order": "order",
    "capture": "capture-2",
    "refund": "refund",
    "authorization": "authorization-2",
}


def _checked(spec: ProviderSpec, name: str, instance: Any, where: str) -> list[str]:
    document, schema = spec.schema(name)
    return [f"{where}{message}" for message in document.validate(schema, instance)]


def stripe_event(spec: ProviderSpec, exchange: Exchange) -> list[str] | None:
    """The `event` envelope, and `data.object` against the schema its `object` names."""
    event = json.loads(exchange.request_body)
    problems = _checked(spec, "event", event, "")
    resource = event.get("data", {}).get("object", {})
    try:
        problems += _checked(spec, str(resource.get("object")), resource, "data.object/")
    except KeyError:
        problems.append(f"data.object: no schema for object {resource.get('object')!r}")
    return problems


def paypal_event(spec: ProviderSpec, exchange: Exchange) -> list[str] | None:
    """The Webhooks `event` envelope, and its resource against the resource's own schema."""
    event = json.loads(exchange.request_body)
    problems = _checked(spec, "event", event, "")
    name = PAYPAL_RESOURCES.get(str(event.get("resource_type")))
    if name is None:  # disputes: customer_disputes_v1.json is not among our documents
        return problems
    return problems + _checked(spec, name, event.get("resource"), "resource/")


def mailgun_event(spec: ProviderSpec, exchange: Exchange) -> list[str] | None:
    """A webhook's `event-data` against the Events API's EventResponse (the same object)."""
    payload = json.loads(exchange.request_body)
    return _checked(spec, "EventResponse", payload.get("event-data"), "event-data/")


def gatewayapi_event(spec: ProviderSpec, exchange: Exchange) -> list[str] | None:
    """A status notification or an incoming SMS, by the schema its delivery is recorded under
    (our GatewayAPI document, written from GatewayAPI's webhook documentation)."""
    return _checked(spec, exchange.path, json.loads(exchange.request_body), "")


def mobilepay_event(spec: ProviderSpec, exchange: Exchange) -> list[str] | None:
    """An ePayment webhook event (`epayments.payment.*.v1`), against the ePayment document's
    `WebhookEvent` schema; a Recurring one (`recurring.agreement-*.v1`, `recurring.charge-*.v1`)
    against the Recurring document's event schemas."""
    event = json.loads(exchange.request_body)
    kind = str(event.get("eventType", "")) if isinstance(event, dict) else ""
    if kind.startswith("recurring.agreement-"):
        return _checked(spec, "RecurringAgreementWebhookEvent", event, "")
    if kind.startswith("recurring.charge-"):
        return _checked(spec, "RecurringChargeWebhookEvent", event, "")
    return _checked(spec, "WebhookEvent", event, "")
