"""The payment gateway contract suite again, against PayPal's live sandbox (marker `sandbox`).

Runs only with PAYPAL_SANDBOX_CLIENT_ID, PAYPAL_SANDBOX_CLIENT_SECRET and PAYPAL_SANDBOX_WEBHOOK_ID
in the environment, and is skipped otherwise (never faked). In the sandbox only a buyer in a
browser can approve an order and only PayPal signs webhooks, so the tests that drive the payer's
side or sign a delivery skip with that reason; the rest (orders, PayPal-Request-Id, refusals,
a connection dropped on our side) run against PayPal itself.
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

SETTINGS = ("PAYPAL_SANDBOX_CLIENT_ID", "PAYPAL_SANDBOX_CLIENT_SECRET", "PAYPAL_SANDBOX_WEBHOOK_ID")
MISSING = [name for name in SETTINGS if not os.environ.get(name)]

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        bool(MISSING), reason=f"PayPal sandbox not configured: {', '.join(MISSING)}"
    ),
]

NEEDS_BUYER = "PayPal's sandbox needs a buyer to approve the order in a browser"
NEEDS_PAYPAL = "only PayPal signs sandbox webhooks"


class SandboxDriver:
    """PayPalGateway on api-m.sandbox.paypal.com; counts the orders PayPal created for it."""

    def __init__(self) -> None:
        import httpx

        from justdriving.adapters.payments.paypal.gateway import SANDBOX_API, PayPalGateway

        class DroppingTransport(httpx.HTTPTransport):
            drop_next = False

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if self.drop_next and not request.url.path.endswith("/oauth2/token"):
                    self.drop_next = False
                    raise httpx.ConnectError("connection dropped by the test", request=request)
                return super().handle_request(request)

        self.orders: set[str] = set()
        self.transport = DroppingTransport()
        self.http = httpx.Client(
            transport=self.transport,
            timeout=httpx.Timeout(30.0, connect=5.0),
            event_hooks={"response": [self._count_orders]},
        )
        self.gateway = PayPalGateway(
            os.environ["PAYPAL_SANDBOX_CLIENT_ID"],
            os.environ["PAYPAL_SANDBOX_CLIENT_SECRET"],
            os.environ["PAYPAL_SANDBOX_WEBHOOK_ID"],
            api_base=SANDBOX_API,
            name="paypal",
            http=self.http,
        )

    def _count_orders(self, response: Any) -> None:
        request = response.request
        if request.method == "POST" and request.url.path == "/v2/checkout/orders":
            response.read()
            if response.status_code < 300:
                self.orders.add(json.loads(response.content)["id"])

    def now(self) -> datetime:
        return datetime.now(UTC)

    def succeed(self, provider_payment_id: str, amount: Any = None) -> NoReturn:
        pytest.skip(NEEDS_BUYER)

    def authorize(self, provider_payment_id: str, amount: Any = None) -> NoReturn:
        pytest.skip(NEEDS_BUYER)

    def require_action(self, provider_payment_id: str) -> NoReturn:
        pytest.skip(NEEDS_BUYER)

    decline_code = "OTHER"

    def fail(self, provider_payment_id: str, code: str) -> NoReturn:
        pytest.skip(NEEDS_BUYER)

    def complete_refund(self, provider_refund_id: str, succeeded: bool) -> NoReturn:
        pytest.skip(NEEDS_BUYER)

    def unknown_event(self) -> NoReturn:
        pytest.skip(NEEDS_PAYPAL)

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> NoReturn:
        pytest.skip(NEEDS_PAYPAL)

    def make_next_call_unavailable(self) -> None:
        self.transport.drop_next = True

    def charge_count(self) -> int:
        return len(self.orders)

    def refund_count(self, provider_payment_id: str) -> NoReturn:
        pytest.skip(NEEDS_BUYER)


@contextmanager
def sandbox_gateway() -> Iterator[SandboxDriver]:
    driver = SandboxDriver()
    try:
        yield driver
    finally:
        driver.http.close()


@pytest.fixture(scope="module", params=[pytest.param(sandbox_gateway, id="paypal-sandbox")])
def make_gateway(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Any]]:
    """Overrides conftest's: every contract test in this module runs on the sandbox only."""
    factory: Callable[[], AbstractContextManager[Any]] = request.param
    return factory
