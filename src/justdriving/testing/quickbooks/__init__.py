"""A local QuickBooks Online: the OAuth2 token endpoint and the company batch endpoint."""

from __future__ import annotations

from justdriving.testing.quickbooks.simulator import QuickBooksSimulator, SimulatorError

__all__ = ["QuickBooksSimulator", "SimulatorError"]
