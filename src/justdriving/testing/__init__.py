"""Test support shipped with justdriving: wire-level simulators of the providers, one package per
provider, for this project's tests and for the tests of a service that embeds justdriving.

    from justdriving.testing import StripeSimulator        # or justdriving.testing.stripe

    with StripeSimulator() as stripe_api:
        ...  # point the Stripe adapter (or the stripe SDK) at stripe_api.api_base

Shared by every simulator: `local_server` (the HTTP server on 127.0.0.1), `exchanges` (every
request, reply and webhook recorded for checks against the provider's spec) and `wire` (replies
and recorded requests). The library never imports this package (import-linter contract
"runtime-without-simulators"); the names below load their provider's package on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from justdriving.testing.gatewayapi import GatewayApiSimulator
    from justdriving.testing.mailgun import MailgunSimulator
    from justdriving.testing.mobilepay import MobilePaySimulator
    from justdriving.testing.paypal import PayPalSimulator
    from justdriving.testing.quickbooks import QuickBooksSimulator
    from justdriving.testing.sendgrid import SendGridSimulator
    from justdriving.testing.stripe import StripeSimulator
    from justdriving.testing.twilio import TwilioSimulator
    from justdriving.testing.xero import XeroSimulator

# name -> the provider package that defines it
_SIMULATORS = {
    "GatewayApiSimulator": "gatewayapi",
    "MailgunSimulator": "mailgun",
    "MobilePaySimulator": "mobilepay",
    "PayPalSimulator": "paypal",
    "QuickBooksSimulator": "quickbooks",
    "SendGridSimulator": "sendgrid",
    "StripeSimulator": "stripe",
    "TwilioSimulator": "twilio",
    "XeroSimulator": "xero",
}

__all__ = [
    "GatewayApiSimulator",
    "MailgunSimulator",
    "MobilePaySimulator",
    "PayPalSimulator",
    "QuickBooksSimulator",
    "SendGridSimulator",
    "StripeSimulator",
    "TwilioSimulator",
    "XeroSimulator",
]


def __getattr__(name: str) -> Any:
    provider = _SIMULATORS.get(name)
    if provider is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{provider}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
