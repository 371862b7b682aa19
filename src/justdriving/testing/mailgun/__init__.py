"""A local Mailgun: `POST /v3/{domain}/messages` and its signed webhooks."""

from __future__ import annotations

from justdriving.testing.mailgun.simulator import MailgunSimulator

__all__ = ["MailgunSimulator"]
