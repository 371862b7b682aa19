"""A local Twilio: the Messages API and its status callbacks, for the real twilio-python SDK."""

from __future__ import annotations

from justdriving.testing.twilio.simulator import TwilioSimulator

__all__ = ["TwilioSimulator"]
