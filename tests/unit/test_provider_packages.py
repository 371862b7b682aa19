"""Each provider is one package: what its factory uses is named by the package, and loading
the package (or its webhook parser) waits with the provider's SDK until a name is used."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

EXPORTS = {
    "justdriving.adapters.payments.stripe": {"StripeGateway": "gateway"},
    "justdriving.adapters.payments.paypal": {"PayPalGateway": "gateway", "LIVE_API": "gateway"},
    "justdriving.adapters.payments.mobilepay": {
        "MobilePayGateway": "gateway",
        "Credentials": "api",
    },
    "justdriving.adapters.sms.twilio": {"TwilioSmsSender": "sender", "TwilioWebhooks": "webhooks"},
    "justdriving.adapters.sms.gatewayapi": {"GatewayApiSmsSender": "sender"},
    "justdriving.adapters.email.sendgrid": {"SendGridEmailSender": "sender"},
    "justdriving.adapters.email.mailgun": {"MailgunEmailSender": "sender"},
    "justdriving.adapters.email.smtp": {"SmtpEmailSender": "sender"},
}


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_a_provider_package_names_what_its_modules_define(package: str) -> None:
    loaded = importlib.import_module(package)
    for name, module in EXPORTS[package].items():
        assert getattr(loaded, name) is getattr(
            importlib.import_module(f"{package}.{module}"), name
        )
    with pytest.raises(AttributeError, match="NoSuchName"):
        loaded.NoSuchName  # noqa: B018 - the lookup is what is tested


@pytest.mark.parametrize(
    ("imported", "sdk"),
    [
        ("justdriving.adapters.payments.stripe.events", "stripe"),
        ("justdriving.adapters.payments.stripe.signature", "stripe"),
        ("justdriving.adapters.sms.twilio", "twilio"),
        ("justdriving.adapters.email.sendgrid", "sendgrid"),
    ],
)
def test_importing_a_provider_package_waits_with_its_sdk_until_a_name_is_used(
    imported: str, sdk: str
) -> None:
    probe = (
        f"import sys, importlib\nimportlib.import_module({imported!r})\n"
        f"print({sdk!r} in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"
