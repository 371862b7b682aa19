"""A local GatewayAPI: the SMS REST API and its JWT-signed delivery callbacks."""

from __future__ import annotations

from justdriving.testing.gatewayapi.simulator import GatewayApiSimulator

__all__ = ["GatewayApiSimulator"]
