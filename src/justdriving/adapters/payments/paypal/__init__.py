"""PayPal behind the PaymentGateway port, over its REST API: the gateway, the authenticated
API client, the orders' JSON, money in PayPal's strings and the webhooks PayPal verifies.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.payments.paypal.gateway import LIVE_API, SANDBOX_API, PayPalGateway

__all__ = ["LIVE_API", "SANDBOX_API", "PayPalGateway"]
__getattr__ = lazy_names(
    __name__, {"LIVE_API": "gateway", "PayPalGateway": "gateway", "SANDBOX_API": "gateway"}
)
