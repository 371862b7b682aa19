"""Vipps MobilePay behind the PaymentGateway port: the ePayment gateway, the Recurring API
for cards on file, the API client, our payment references and the signed webhooks.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.payments.mobilepay.api import Credentials
    from justdriving.adapters.payments.mobilepay.gateway import MobilePayGateway

__all__ = ["Credentials", "MobilePayGateway"]
__getattr__ = lazy_names(__name__, {"Credentials": "api", "MobilePayGateway": "gateway"})
