"""A local Xero: the identity token endpoint and the Accounting API, with Xero's rate limits on
a simulated clock."""

from __future__ import annotations

from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import SimulatorError, XeroConnection, XeroSimulator

__all__ = ["RecordingGrants", "SimulatedTime", "SimulatorError", "XeroConnection", "XeroSimulator"]
