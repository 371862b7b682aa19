"""A local Vipps MobilePay: the Access Token, ePayment, Recurring and Webhooks APIs."""

from __future__ import annotations

from justdriving.testing.mobilepay.simulator import Delivery, MobilePaySimulator, SimulatorError

__all__ = ["Delivery", "MobilePaySimulator", "SimulatorError"]
