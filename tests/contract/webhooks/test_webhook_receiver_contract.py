"""The webhook contract, once, over the fake and every real receiver (Stripe, PayPal, Twilio,
GatewayAPI, SendGrid, Mailgun): what a provider signed is read with a stable id, and nothing
else gets through — a tampered body, a wrong secret, a missing signature, a delivery outside
the replay window — while oversize, deep, NUL-laden or malformed input is refused as
WebhookRejected, never any other error (a 5xx at the web tier)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webhook_drivers import DRIVERS, NOW, OTHER, Driver

from justdriving.adapters.webhooks.bounds import MAX_BODY_BYTES, MAX_ID_LENGTH
from justdriving.domain.errors import (
    InvalidSignature,
    MalformedWebhook,
    UnusableWebhook,
    WebhookRejected,
)
from justdriving.domain.inbound import UnknownEvent
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.ports.webhooks import DeferredReceiver, WebhookRequest


@pytest.fixture(
    scope="module", params=[pytest.param(factory, id=name) for name, factory in DRIVERS.items()]
)
def made(request: pytest.FixtureRequest) -> Iterator[Driver]:
    factory: Callable[[], AbstractContextManager[Driver]] = request.param
    with factory() as driver:
        yield driver


@pytest.fixture
def driver(made: Driver) -> Driver:
    return made


def test_a_signed_delivery_gives_its_event_under_the_providers_id(driver: Driver) -> None:
    [event] = driver.receiver().receive(driver.delivery("evt_contract_1"), NOW)

    assert event.provider == driver.name
    assert "evt_contract_1" in event.event_id
    assert not isinstance(event, UnknownEvent)


def test_the_same_delivery_read_twice_gives_the_same_ids(driver: Driver) -> None:
    request = driver.delivery("evt_contract_2")

    first = [e.event_id for e in driver.receiver().receive(request, NOW)]
    second = [e.event_id for e in driver.receiver().receive(request, NOW)]

    assert first == second


def test_a_tampered_delivery_is_refused(driver: Driver) -> None:
    with pytest.raises(InvalidSignature):
        driver.receiver().receive(driver.tampered(driver.delivery("evt_contract_3")), NOW)


def test_a_delivery_signed_with_another_secret_is_refused(driver: Driver) -> None:
    with pytest.raises(InvalidSignature):
        driver.receiver().receive(driver.delivery("evt_contract_4", secret=OTHER), NOW)


def test_a_delivery_without_its_signature_is_refused(driver: Driver) -> None:
    with pytest.raises(InvalidSignature):
        driver.receiver().receive(driver.unsigned(driver.delivery("evt_contract_5")), NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=10), -timedelta(minutes=10)])
def test_a_delivery_signed_outside_the_replay_window_is_refused(
    driver: Driver, skew: timedelta
) -> None:
    if not driver.replay_window:
        pytest.skip(f"{driver.name} signs no time: the inbox drops a repeated event id")
    if skew < timedelta(0) and driver.name == "gatewayapi":
        skew = timedelta(hours=-1)  # its `exp` is five minutes after signing, plus leeway
    with pytest.raises(InvalidSignature):
        driver.receiver().receive(driver.delivery("evt_contract_6", at=NOW - skew), NOW)


def test_an_unknown_type_is_kept_not_refused(driver: Driver) -> None:
    [event] = driver.receiver().receive(driver.delivery("evt_contract_7", unknown=True), NOW)

    assert "evt_contract_7" in event.event_id
    if isinstance(event, ProviderPaymentEvent):
        assert event.kind is PaymentEventKind.UNKNOWN
    elif driver.keeps_raw:
        assert isinstance(event, UnknownEvent)
        assert "teleported" in json.dumps(dict(event.raw))


def test_an_oversize_body_is_refused_even_when_signed(driver: Driver) -> None:
    request = driver.signed_raw(b"[" + b" " * MAX_BODY_BYTES + b"]")

    with pytest.raises(MalformedWebhook):
        driver.receiver().receive(request, NOW)


HOSTILE = [
    b"",
    b"\x00",
    b"\xff\xfe\x00garbage",
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"id": "evt\\u0000nul", "type": "payment.succeeded"}',
    b"9" * 5000,
    b'{"id": 1e999999}',
    json.dumps({"id": "x" * (MAX_ID_LENGTH + 1)}).encode(),
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_unsigned_is_refused_as_a_rejected_webhook(
    driver: Driver, body: bytes
) -> None:
    request = driver.unsigned(driver.delivery("evt_contract_8"))

    with pytest.raises(WebhookRejected):
        driver.receiver().receive(WebhookRequest(request.path, body, request.headers), NOW)


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_signed_is_refused_or_unusable_never_another_error(
    driver: Driver, body: bytes
) -> None:
    try:
        events = driver.receiver().receive(driver.signed_raw(body), NOW)
    except WebhookRejected:
        return
    for event in events:  # what does get through is within the bounds
        assert len(event.event_id) <= MAX_ID_LENGTH
        assert "\x00" not in event.event_id


def test_a_signed_event_with_an_over_long_or_nul_id_is_unusable(driver: Driver) -> None:
    for event_id in ("evt_" + "x" * MAX_ID_LENGTH, "evt_\x00"):
        with pytest.raises((UnusableWebhook, InvalidSignature)):
            driver.receiver().receive(driver.delivery(event_id), NOW)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=2000), header=st.text(max_size=200))
def test_random_bytes_and_headers_never_raise_anything_but_a_rejection(
    made: Driver, body: bytes, header: str
) -> None:
    request = made.delivery("evt_contract_9")
    headers: dict[str, Any] = {name: header for name in request.headers}
    for forged in (
        WebhookRequest(request.path, body, request.headers),
        WebhookRequest(request.path, request.body, headers),
    ):
        try:
            made.receiver().receive(forged, NOW)
        except WebhookRejected:
            continue


# Receivers that verify now and read later (DeferredReceiver: QUEUE_BACKEND=worker) ---------


def _deferring(driver: Driver) -> DeferredReceiver:
    receiver = driver.receiver()
    if not isinstance(receiver, DeferredReceiver):
        pytest.skip(f"{driver.name}'s callbacks are stored translated (no deferred path)")
    return receiver


def test_admitting_then_reading_gives_what_receiving_gives(driver: Driver) -> None:
    receiver = _deferring(driver)
    for request in (driver.delivery("evt_contract_10"), driver.delivery("evt_11", unknown=True)):
        head = receiver.admit(request, NOW)
        events = receiver.read(request.body, NOW)
        assert events == driver.receiver().receive(request, NOW)
        assert [head.event_id] == [event.event_id for event in events]


def test_admitting_refuses_what_receiving_refuses(driver: Driver) -> None:
    receiver = _deferring(driver)
    request = driver.delivery("evt_contract_12")
    for forged in (
        driver.tampered(request),
        driver.unsigned(request),
        driver.delivery("evt_contract_12", secret=OTHER),
        driver.delivery("evt_contract_12", at=NOW - timedelta(minutes=10)),
    ):
        with pytest.raises(InvalidSignature):
            receiver.admit(forged, NOW)
    with pytest.raises(MalformedWebhook):
        receiver.admit(driver.signed_raw(b"[" + b" " * MAX_BODY_BYTES + b"]"), NOW)


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_admitted_or_read_is_refused_never_another_error(
    driver: Driver, body: bytes
) -> None:
    receiver = _deferring(driver)
    try:
        head = receiver.admit(driver.signed_raw(body), NOW)
    except WebhookRejected:
        pass
    else:
        assert len(head.event_id) <= MAX_ID_LENGTH
        assert head.event_id.isprintable()
    with pytest.raises(UnusableWebhook):
        receiver.read(body, NOW)
