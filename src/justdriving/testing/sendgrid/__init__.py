"""A local SendGrid: v3 mail send and the signed Event Webhook."""

from __future__ import annotations

from justdriving.testing.sendgrid.simulator import SendGridSimulator

__all__ = ["SendGridSimulator"]
