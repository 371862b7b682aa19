"""A local Stripe: Payments, Checkout, Customers, Setup Intents and Connect as the Stripe adapter
and SDK call them, and the payer's side (cards, 3-D Secure, webhooks)."""

from __future__ import annotations

from justdriving.testing.stripe.objects import SimulatorError
from justdriving.testing.stripe.simulator import StripeSimulator
from justdriving.testing.wire import Delivery

__all__ = ["Delivery", "SimulatorError", "StripeSimulator"]
