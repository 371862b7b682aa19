"""A local PayPal: OAuth2, Orders v2, Payments v2 and webhook signature verification."""

from __future__ import annotations

from justdriving.testing.paypal.simulator import Delivery, PayPalSimulator, SimulatorError

__all__ = ["Delivery", "PayPalSimulator", "SimulatorError"]
