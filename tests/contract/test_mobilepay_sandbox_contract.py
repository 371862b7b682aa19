"""The payment gateway contract suite again, against Vipps MobilePay's test environment
(apitest.vipps.no; marker `sandbox`).

Runs only with MOBILEPAY_SANDBOX_CLIENT_ID, MOBILEPAY_SANDBOX_CLIENT_SECRET,
MOBILEPAY_SANDBOX_SUBSCRIPTION_KEY and MOBILEPAY_SANDBOX_MERCHANT_SERIAL_NUMBER (a test sales
unit's API keys) in the environment, and is skipped otherwise (never faked). Only Vipps MobilePay
signs its webhooks, and they go to a registered public URL, so the tests that read a delivery
skip with that reason; the rest (create, Idempotency-Key, refusals, cancel, a connection dropped
on our side) run against the test environment itself. With MOBILEPAY_SANDBOX_TEST_PHONE (a test
user who has approved one payment in the test app), the test environment's force-approve
endpoint plays the payer, and a payment is approved, captured, refunded and looked up there;
and with the Recurring API on the same sales unit, an agreement is force-accepted, listed,
charged and stopped (agreements in DKK, the gateway's default).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import pytest
from test_payment_gateway_contract import *  # noqa: F403 - the same tests, run against the sandbox
from test_payment_gateway_contract import PRICE, a_refund, a_request

SETTINGS = (
    "MOBILEPAY_SANDBOX_CLIENT_ID",
    "MOBILEPAY_SANDBOX_CLIENT_SECRET",
    "MOBILEPAY_SANDBOX_SUBSCRIPTION_KEY",
    "MOBILEPAY_SANDBOX_MERCHANT_SERIAL_NUMBER",
)
MISSING = [name for name in SETTINGS if not os.environ.get(name)]
PHONE = os.environ.get("MOBILEPAY_SANDBOX_TEST_PHONE", "")

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        bool(MISSING), reason=f"MobilePay test environment not configured: {', '.join(MISSING)}"
    ),
]

NEEDS_VIPPS = "only Vipps MobilePay signs its webhooks, to a registered public URL"
NEEDS_PAYER = "the payer's side needs MOBILEPAY_SANDBOX_TEST_PHONE (force approve)"


class SandboxDriver:
    """MobilePayGateway on apitest.vipps.no; counts the payments created for it."""

    def __init__(self) -> None:
        import httpx

        from justdriving.adapters.payments.mobilepay.api import Credentials
        from justdriving.adapters.payments.mobilepay.gateway import TEST_API, MobilePayGateway

        class DroppingTransport(httpx.HTTPTransport):
            drop_next = False

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if self.drop_next and not request.url.path.endswith("/accesstoken/get"):
                    self.drop_next = False
                    raise httpx.ConnectError("connection dropped by the test", request=request)
                return super().handle_request(request)

        self.payments: set[str] = set()
        self.transport = DroppingTransport()
        self.http = httpx.Client(
            transport=self.transport,
            timeout=httpx.Timeout(30.0, connect=5.0),
            event_hooks={"response": [self._count_payments]},
        )
        self.gateway = MobilePayGateway(
            Credentials(*(os.environ[name] for name in SETTINGS)),
            "unused-no-webhook-reaches-this-suite",
            "https://school.example/webhook/payments/mobilepay",
            api_base=TEST_API,
            http=self.http,
        )

    def _count_payments(self, response: Any) -> None:
        request = response.request
        if request.method == "POST" and request.url.path == "/epayment/v1/payments":
            response.read()
            if response.status_code < 300:
                self.payments.add(json.loads(response.content)["reference"])

    def now(self) -> datetime:
        return datetime.now(UTC)

    def approve(self, reference: str) -> None:
        """The test environment's force approve: the test user approves without the app."""
        if not PHONE:
            pytest.skip(NEEDS_PAYER)
        self.gateway._api.call(
            "POST",
            f"/epayment/v1/test/payments/{reference}/approve",
            body={"customer": {"phoneNumber": PHONE}},
        )

    def succeed(self, provider_payment_id: str, amount: Any = None) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def authorize(self, provider_payment_id: str, amount: Any = None) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def require_action(self, provider_payment_id: str) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    decline_code = "ABORTED"
    refunds_can_fail = False
    cards_on_file = False

    def fail(self, provider_payment_id: str, code: str) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def unknown_event(self) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)

    def make_next_call_unavailable(self) -> None:
        self.transport.drop_next = True

    def charge_count(self) -> int:
        return len(self.payments)

    def refund_count(self, provider_payment_id: str) -> NoReturn:
        pytest.skip(NEEDS_VIPPS)


@contextmanager
def sandbox_gateway() -> Iterator[SandboxDriver]:
    driver = SandboxDriver()
    try:
        yield driver
    finally:
        driver.http.close()


@pytest.fixture(scope="module", params=[pytest.param(sandbox_gateway, id="mobilepay-sandbox")])
def make_gateway(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Any]]:
    """Overrides conftest's: every contract test in this module runs on the sandbox only."""
    factory: Callable[[], AbstractContextManager[Any]] = request.param
    return factory


def test_a_payment_approved_in_the_test_environment_is_captured_and_refunded(
    make_gateway: Callable[[], AbstractContextManager[Any]],
) -> None:
    with make_gateway() as driver:
        session = driver.gateway.start(a_request())
        driver.approve(session.provider_payment_id)
        driver.gateway.complete(session.provider_payment_id, "complete-1")
        driver.gateway.complete(session.provider_payment_id, "complete-1")  # captured once
        payment = driver.gateway._payment(session.provider_payment_id)
        assert payment["aggregate"]["capturedAmount"]["value"] == PRICE.amount
        refund = driver.gateway.refund(a_refund(session.provider_payment_id, PRICE))
        assert refund.provider_refund_id


def test_an_agreement_accepted_in_the_test_environment_is_listed_charged_and_stopped(
    make_gateway: Callable[[], AbstractContextManager[Any]],
) -> None:
    """The Recurring API on apitest.vipps.no: the test user accepts the agreement without the
    app (the test environment's force accept), then it is listed, charged (UNSCHEDULED: the
    answer is PENDING, its outcome a webhook this suite cannot receive) and stopped."""
    from justdriving.domain.ids import new_id
    from justdriving.domain.money import Money
    from justdriving.ports.payments import (
        ChargeStatus,
        CustomerRequest,
        SavedChargeRequest,
        SetupRequest,
    )

    if not PHONE:
        pytest.skip(NEEDS_PAYER)
    with make_gateway() as driver:
        gateway = driver.gateway
        ours = new_id("cust")
        customer = gateway.create_customer(CustomerRequest(ours, "sch_1", "stu_1", new_id("k")))
        setup = gateway.start_setup(
            SetupRequest(ours, customer, "sch_1", new_id("k"), "https://school.example/methods")
        )
        assert setup.redirect_url
        agreement = setup.provider_setup_id
        gateway._api.call(
            "PATCH",
            f"/recurring/v3/agreements/{agreement}/accept",
            body={"phoneNumber": PHONE},
            idempotency_key=new_id("accept")[:40],
        )
        assert agreement in [m.provider_method_id for m in gateway.saved_methods(customer)]
        request = SavedChargeRequest(
            new_id("pay"), "sch_1", customer, agreement, Money(1000, "DKK"), "Test fee", new_id("k")
        )
        first = gateway.charge_saved(request)
        assert first.status is ChargeStatus.PROCESSING
        assert gateway.charge_saved(request) == first
        gateway.remove_method(customer, agreement, "stop-1")
        gateway.remove_method(customer, agreement, "stop-1")
        assert agreement not in [m.provider_method_id for m in gateway.saved_methods(customer)]
