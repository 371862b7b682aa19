"""What development and tests run on when nothing is configured: the fake payment gateway,
signed with a fixed public secret unless PAYMENT_WEBHOOK_SECRET is set."""

from __future__ import annotations

from justdriving.adapters.memory.payments import FakePaymentGateway
from justdriving.config import PaymentSettings
from justdriving.ports.clock import Clock

# Outside production a fixed, public secret signs the fake gateway's webhooks so the whole
# loop works with nothing configured; production refuses the fake gateway altogether.
DEV_WEBHOOK_SECRET = "whsec_justdriving_development_only"  # noqa: S105


def fake_gateway(settings: PaymentSettings, clock: Clock) -> FakePaymentGateway:
    """The fake gateway, signing on `clock`: the one the app verifies with, overridden or not."""
    return FakePaymentGateway(
        name="fake",
        webhook_secret=settings.payment_webhook_secret or DEV_WEBHOOK_SECRET,
        clock=clock,
    )
