"""Stripe behind the PaymentGateway port: the gateway (Checkout, refunds, cards on file,
Connect), its webhook signature and events, amounts and errors in justdriving's words.

What the factories use is named here and loaded on first use, so importing this package (or
one of its modules that needs no SDK) loads no SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.adapters.lazy_names import lazy_names

if TYPE_CHECKING:
    from justdriving.adapters.payments.stripe.gateway import StripeGateway

__all__ = ["StripeGateway"]
__getattr__ = lazy_names(__name__, {"StripeGateway": "gateway"})
